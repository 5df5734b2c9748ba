from django.apps import AppConfig


class LimitsConfig(AppConfig):
    name = "ticketing.limits"
    verbose_name = "Anti-hoarding limits"
