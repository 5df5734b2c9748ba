from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "ticketing.events"
    verbose_name = "Events"
