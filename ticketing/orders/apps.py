from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "ticketing.orders"
    verbose_name = "Orders"

    def ready(self):
        from . import checks  # noqa: F401 (registers the system checks)
