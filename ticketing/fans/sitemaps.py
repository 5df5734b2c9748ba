"""The sitemap of published upcoming events, each page in every language, with hreflang
alternates (`/sitemap.xml`, named in robots.txt)."""

from django.contrib.sitemaps import Sitemap
from django.urls import reverse
from django.utils import translation

from ticketing.events.selectors import upcoming_events

from .languages import with_language


class EventSitemap(Sitemap):
    i18n = True
    alternates = True
    changefreq = "daily"
    limit = 5000  # (event, language) entries per page: small pages, far under the 50 MB cap

    def items(self):
        return upcoming_events().only("slug", "updated_at")

    def location(self, event):
        return with_language(reverse("orders:event", args=[event.slug]), translation.get_language())

    def lastmod(self, event):
        return event.updated_at


class HomeSitemap(Sitemap):
    i18n = True
    alternates = True
    changefreq = "hourly"

    def items(self):
        return ["fans:home"]

    def location(self, name):
        return with_language(reverse(name), translation.get_language())


SITEMAPS = {"home": HomeSitemap, "events": EventSitemap}
