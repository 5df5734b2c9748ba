from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "ticketing.tracking"
    verbose_name = "Tracking"
