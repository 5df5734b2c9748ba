"""The widget's loader, bundle, fallback page, demo page and the embed code in the back office."""

import gzip
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tests.conftest import make_staff
from tests.widget_helpers import empty_origin_cache  # noqa: F401 (autouse fixture)
from ticketing.events.models import Membership

pytestmark = pytest.mark.django_db

BUNDLE = Path(django_settings.BASE_DIR, "widget", "static", "widget", "tour-widget.js")
BUNDLE_URL = re.compile(r'script\.src = "([^"]+)"')


def test_bundle_is_at_most_10_kb_gzipped():
    size = len(gzip.compress(BUNDLE.read_bytes(), compresslevel=9))
    assert size <= 10 * 1024, f"tour-widget.js is {size} bytes gzipped"


def test_loader_is_small_short_cached_and_cookie_free(client):
    response = client.get(reverse("widget:loader"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    max_age = int(re.fullmatch(r"public, max-age=(\d+)", response["Cache-Control"]).group(1))
    assert 0 < max_age <= 300
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Set-Cookie" not in response and "Cookie" not in response.get("Vary", "")
    script = response.content.decode()
    assert BUNDLE_URL.search(script).group(1) == "http://testserver/static/widget/tour-widget.js"
    assert 'setAttribute("data-api", "http://testserver")' in script
    assert len(response.content) < 1024


def test_loader_points_to_the_hashed_bundle_served_immutable(settings, tmp_path):
    """With production's storage, the bundle's name carries its hash and whitenoise serves it
    with a one-year immutable cache, gzipped."""
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0, ignore_patterns=["admin"])
    client = Client()  # a new handler: whitenoise indexes STATIC_ROOT when it starts

    script = client.get(reverse("widget:loader")).content.decode()
    url = BUNDLE_URL.search(script).group(1)
    assert re.fullmatch(r"http://testserver/static/widget/tour-widget\.[0-9a-f]{12}\.js", url)

    response = client.get(url.removeprefix("http://testserver"), HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200
    assert "immutable" in response["Cache-Control"]
    assert int(re.search(r"max-age=(\d+)", response["Cache-Control"]).group(1)) >= 31536000
    assert response["Content-Encoding"] == "gzip"
    served = b"".join(response.streaming_content)
    assert len(served) <= 10 * 1024
    assert gzip.decompress(served) == BUNDLE.read_bytes()


def test_tour_page_is_the_noscript_fallback(client, promoter_a):
    event = promoter_a["events"][0]
    key = promoter_a["affiliate"].public_key
    response = client.get(
        reverse("widget:tour-page", args=["alpha-artist"]), {"affiliate": key, "lang": "en"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "alpha artist: tour dates" in page
    assert event.starts_at.astimezone(promoter_a["venue"].zone).strftime("%H:%M") in page
    assert f'href="http://testserver/e/{event.slug}/?affiliate={key}&amp;lang=en"' in page
    assert "Set-Cookie" not in response and "Cookie" not in response.get("Vary", "")
    assert (
        client.get(reverse("widget:tour-page", args=["nobody"]), {"lang": "en"}).status_code == 404
    )


def test_demo_page_shows_the_snippet_and_the_live_widget(client, db):
    call_command("seed_demo")
    response = client.get(reverse("widget:demo"), {"theme": "dark", "lang": "de",
                                                   "affiliate": "demo-affiliate"})  # fmt: skip
    assert response.status_code == 200
    page = response.content.decode()
    widget = ('<div data-tour-widget data-artist="demo-artist" data-affiliate="demo-affiliate" '
              'data-theme="dark" data-lang="de">')  # fmt: skip
    assert widget in page  # the live widget
    assert widget.replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;") in page
    assert '<script async src="http://testserver/widget/v1/loader.js"></script>' in page
    assert "http://testserver/widget/artists/demo-artist/?affiliate=demo-affiliate" in page


def test_demo_page_escapes_what_it_is_given(client, db):
    page = client.get(
        reverse("widget:demo"), {"artist": '"><script>alert(1)</script>', "accent": "red;x"}
    ).content.decode()
    assert "<script>alert(1)" not in page
    assert 'data-accent="' not in page


def test_artist_admin_offers_the_snippet_per_affiliate_of_its_promoter(
    client, promoter_a, promoter_b
):
    client.force_login(make_staff("viewer", promoter_a["promoter"], Membership.Role.VIEWER))
    artist = promoter_a["artist"]

    response = client.get(reverse("admin:events_artist_change", args=[artist.pk]))

    assert response.status_code == 200
    snippets = dict(response.context["embed_snippets"])
    own_key, other_key = promoter_a["affiliate"].public_key, promoter_b["affiliate"].public_key
    assert list(snippets) == ["Without affiliate", "Fans (alpha.example)"]
    assert 'data-artist="alpha-artist">' in snippets["Without affiliate"]
    assert f'data-affiliate="{own_key}"' in snippets["Fans (alpha.example)"]
    page = response.content.decode()
    assert f"data-affiliate=&quot;{own_key}&quot;" in page  # inside a read-only textarea
    assert other_key not in page
    other_artist = reverse("admin:events_artist_change", args=[promoter_b["artist"].pk])
    assert client.get(other_artist).status_code == 404
