from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "ticketing.notify"
    verbose_name = "Notify me"
