from django.apps import AppConfig


class FansConfig(AppConfig):
    name = "ticketing.fans"
    verbose_name = "Fan pages"
