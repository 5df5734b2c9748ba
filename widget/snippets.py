"""The embed snippet that artists and affiliates paste into their sites."""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.template.loader import render_to_string
from django.urls import reverse

from ticketing.events.models import AFFILIATE_KEY, ARTIST_SLUG, Affiliate, Artist

THEMES = ("light", "dark", "auto")
LANGUAGES = {"en": "English", "de": "Deutsch", "fr": "Français", "es": "Español"}


@dataclass(frozen=True)
class WidgetOptions:
    artist: str
    affiliate: str = ""
    theme: str = ""
    lang: str = ""
    accent: str = ""
    notify: bool = False

    @classmethod
    def from_query(cls, query, default_artist: str) -> "WidgetOptions":
        artist = query.get("artist", "").strip()
        affiliate = query.get("affiliate", "").strip()
        accent = query.get("accent", "").strip()
        return cls(
            artist=artist if ARTIST_SLUG.fullmatch(artist) else default_artist,
            affiliate=affiliate if AFFILIATE_KEY.fullmatch(affiliate) else "",
            theme=query.get("theme", "") if query.get("theme") in THEMES else "",
            lang=query.get("lang", "") if query.get("lang") in LANGUAGES else "",
            # A hex colour is all the demo form offers; the snippet takes any CSS colour.
            accent=accent if accent.startswith("#") and accent[1:].isalnum() else "",
            notify=query.get("notify") in ("1", "on", "true"),
        )

    def data_attributes(self) -> list[tuple[str, str]]:
        names = ("artist", "affiliate", "theme", "lang", "accent")
        attributes = [(name, getattr(self, name)) for name in names if getattr(self, name)]
        return attributes + ([("notify", "")] if self.notify else [])


def tour_page_url(options: WidgetOptions) -> str:
    """The same dates as a plain page: the snippet's `<noscript>` link, in the widget's language
    when it names one (else the page follows the visitor's browser)."""
    url = reverse("widget:tour-page", args=[options.artist])
    query = urlencode(
        {k: v for k, v in (("affiliate", options.affiliate), ("lang", options.lang)) if v}
    )
    return f"{url}?{query}" if query else url


def embed_snippet(request, options: WidgetOptions) -> str:
    return render_to_string(
        "widget/snippet.html",
        {
            "attributes": options.data_attributes(),
            "loader_url": request.build_absolute_uri(reverse("widget:loader")),
            "tour_url": request.build_absolute_uri(tour_page_url(options)),
        },
    ).strip()


def artist_snippets(request, artist: Artist) -> list[tuple[str, str]]:
    """(label, snippet): one without affiliate, then one per active affiliate of the promoter."""
    affiliates = Affiliate.objects.filter(promoter_id=artist.promoter_id, is_active=True)
    rows = [("Without affiliate", WidgetOptions(artist=artist.slug))]
    rows += [
        (f"{affiliate.name} ({affiliate.domain})",
         WidgetOptions(artist=artist.slug, affiliate=affiliate.public_key))
        for affiliate in affiliates.order_by("name")
    ]  # fmt: skip
    return [(label, embed_snippet(request, options)) for label, options in rows]
