from django.apps import AppConfig


class RefundsConfig(AppConfig):
    name = "ticketing.refunds"
    verbose_name = "Refunds"
