from django.apps import AppConfig
from django.contrib.admin.apps import SimpleAdminConfig


class BackofficeConfig(AppConfig):
    """Promoter back office: the promoter-scoped Django admin and its customisations."""

    name = "ticketing.backoffice"
    verbose_name = "Back office"


class BackOfficeAdminConfig(SimpleAdminConfig):
    """`django.contrib.admin` with the back office's site, which imports the apps' admin modules
    when it is first used rather than when Django starts (ticketing/backoffice/site.py)."""

    default_site = "ticketing.backoffice.site.BackOfficeSite"
