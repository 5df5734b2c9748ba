from django.apps import AppConfig


class CheckinConfig(AppConfig):
    name = "ticketing.checkin"
    verbose_name = "Door check-in"
