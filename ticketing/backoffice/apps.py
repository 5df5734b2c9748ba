from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    """Promoter back office: the promoter-scoped Django admin and its customisations."""

    name = "ticketing.backoffice"
    verbose_name = "Back office"
