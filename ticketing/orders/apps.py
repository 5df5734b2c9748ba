from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "ticketing.orders"
    verbose_name = "Orders"
