from django.apps import AppConfig


class WidgetConfig(AppConfig):
    name = "widget"
    verbose_name = "Tour widget"

    def ready(self):
        from .cache import connect_signals

        connect_signals()
