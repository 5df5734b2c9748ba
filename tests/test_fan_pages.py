"""The public pages a fan expects: the event page's details, sold out said and Buy disabled,
the home page of upcoming shows, the favicon, robots.txt and the sitemap."""

import datetime as dt
import re
import xml.etree.ElementTree as ET

import pytest
from django.utils import timezone

from ticketing.events.models import Event
from ticketing.orders import services as checkout

from .checkout import event_on_sale
from .conftest import make_catalogue, make_event
from .fans_helpers import assert_cdn_cacheable, berlin_show

pytestmark = pytest.mark.django_db


def buy_button(html: str) -> str:
    return re.search(r"<button[^>]*data-buy[^>]*>[^<]*</button>", html).group(0)


def test_event_page_shows_artist_venue_address_map_doors_and_age(client):
    event = berlin_show(age_limit=18)
    artist = event.artist
    artist.image_url = "https://images.example/alpha.jpg"
    artist.bio = "Loud & bright <indie> rock."
    artist.save()
    html = client.get(f"/e/{event.slug}/", {"lang": "en"}).content.decode()
    assert (
        '<img class="artist-image" src="https://images.example/alpha.jpg" alt="alpha artist"'
        in html
    )
    assert "Loud &amp; bright &lt;indie&gt; rock." in html  # text, never markup
    assert "Columbiadamm 13–21" in html and "10965 Berlin" in html
    assert (
        'href="https://www.openstreetmap.org/search?query=alpha+hall%2C+Columbiadamm+13%E2%80%9321'
        '%2C+10965+Berlin%2C+DE"' in html
    )
    assert "Doors 19:00" in html and "Age 18+" in html
    assert "<iframe" not in html  # a link to the map, no embed


def test_all_ages_when_no_limit_is_set(client):
    event = berlin_show()
    assert "All ages" in client.get(f"/e/{event.slug}/", {"lang": "en"}).content.decode()


def test_sold_out_event_says_so_and_disables_buy(client):
    event, (ga,), _ = event_on_sale(capacities=(2,))
    checkout.issue_tickets(ga, 2, name="Box office", email="box@example.com")
    response = client.get(f"/e/{event.slug}/", {"lang": "en"})
    assert_cdn_cacheable(response)
    html = response.content.decode()
    assert "disabled" in buy_button(html) and ">Sold out</button>" in buy_button(html)
    assert re.search(r'<p class="alert" role="status" data-sold-out>', html)  # not hidden
    assert re.search(r'<section class="card notify" data-notify aria', html)  # notify me offered


def test_on_sale_event_has_a_live_buy_button_and_a_subtotal_line(client):
    event, (ga,), _ = event_on_sale(capacities=(5,))
    html = client.get(f"/e/{event.slug}/", {"lang": "en"}).content.decode()
    assert "disabled" not in buy_button(html) and ">Buy tickets</button>" in buy_button(html)
    assert f'data-ticket-type="{ga.pk}" data-price="25.00" data-currency="EUR"' in html
    assert "data-subtotal hidden" in html  # filled in by checkout.js as quantities change
    assert re.search(r"data-notify hidden", html)


def test_event_page_offers_calendar_and_plain_share_links(client):
    event = berlin_show()
    html = client.get(f"/e/{event.slug}/", {"lang": "fr"}).content.decode()
    assert f'href="/e/{event.slug}/calendar.ics?lang=fr"' in html
    shared = "http%3A%2F%2Ftestserver%2Fe%2Falpha-berlin%2F"  # without a language: the reader's
    assert f"https://www.facebook.com/sharer/sharer.php?u={shared}" in html
    assert f"https://wa.me/?text=alpha+artist+%E2%80%93+Berlin+{shared}" in html
    assert "mailto:?subject=" in html
    # Plain links: no third-party script anywhere on the page.
    assert re.findall(r'<script src="([^"]+)"', html) == ["/static/orders/checkout.js"]


def test_home_page_lists_upcoming_published_events_only(client):
    catalogue = make_catalogue("alpha", events=2)
    artist, venue = catalogue["artist"], catalogue["venue"]
    draft = make_event(artist, venue, days=3, is_published=False)
    past = make_event(artist, venue, days=-2, on_sale_at=timezone.now() - dt.timedelta(days=10))
    redirect = client.get("/", headers={"Accept-Language": "de"})
    assert redirect.status_code == 302 and redirect["Location"] == "/?lang=de"
    response = client.get("/", {"lang": "en"})
    assert_cdn_cacheable(response)
    html = response.content.decode()
    listed = re.findall(r'href="/e/([^/]+)/\?lang=en"', html)
    assert listed == [event.slug for event in catalogue["events"]]  # soonest first
    assert draft.slug not in html and past.slug not in html


def test_home_page_labels_what_a_fan_cannot_buy(client):
    catalogue = make_catalogue("alpha", events=1, status=Event.Status.CANCELLED)
    make_event(
        catalogue["artist"],
        catalogue["venue"],
        days=5,
        on_sale_at=timezone.now() + dt.timedelta(days=1),
    )
    html = client.get("/", {"lang": "en"}).content.decode()
    assert "Cancelled" in html and "On sale " in html


def test_favicon(client):
    html = client.get("/", {"lang": "en"}).content.decode()
    assert '<link rel="icon" href="/static/fans/favicon.svg" type="image/svg+xml">' in html
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == "/static/fans/favicon.svg"
    assert "public" in response["Cache-Control"]


def test_robots_txt_points_to_the_sitemap_and_keeps_private_pages_out(client):
    response = client.get("/robots.txt")
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.content.decode().splitlines()
    assert "Sitemap: http://testserver/sitemap.xml" in lines
    assert {"Disallow: /holds/", "Disallow: /orders/", "Disallow: /admin/"} <= set(lines)


def test_sitemap_lists_published_upcoming_events_in_every_language(client):
    catalogue = make_catalogue("alpha", events=2)
    draft = make_event(catalogue["artist"], catalogue["venue"], days=4, is_published=False)
    response = client.get("/sitemap.xml")
    assert response.status_code == 200 and "public" in response["Cache-Control"]
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}
    root = ET.fromstring(response.content)  # noqa: S314 (our own response)
    locations = [url.find("s:loc", ns).text for url in root.findall("s:url", ns)]
    for event in catalogue["events"]:
        for code in ("en", "de", "fr", "es"):
            assert f"http://testserver/e/{event.slug}/?lang={code}" in locations
    assert not any(draft.slug in location for location in locations)
    first = next(url for url in root.findall("s:url", ns) if "/e/" in url.find("s:loc", ns).text)
    alternates = {link.get("hreflang") for link in first.findall("x:link", ns)}
    assert alternates == {"en", "de", "fr", "es"}
    assert first.find("s:lastmod", ns) is not None
