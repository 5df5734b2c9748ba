"""The back office's admin site: Django's default site, with its modules loaded on first use.

The admin's own `AdminConfig` imports every app's `admin.py` when Django starts (about a sixth
of a cold start with these apps). Here they are imported when the site is first used: its URLs
(the first request under /admin/, or the first reverse() of an `admin:` name, see
ticketing/urls.py) or its system checks.
"""

from django.contrib import admin


class BackOfficeSite(admin.AdminSite):
    site_header = "Ticketing back office"
    site_title = "Ticketing back office"
    index_title = "Your promotions"

    def get_urls(self):
        admin.autodiscover()
        return super().get_urls()

    def check(self, app_configs):
        admin.autodiscover()
        return super().check(app_configs)
