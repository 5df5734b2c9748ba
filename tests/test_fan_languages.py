"""Localized checkout: the language comes from the URL (`?lang=`, what the widget's links
carry), else from Accept-Language by a redirect; it is stored on the hold and the order, so the
later pages and the emails speak it. Prices and dates are CLDR's, as the widget's Intl writes
them. The cacheable pages vary on nothing; the hot paths never see any of it."""

import re
import uuid

import icalendar
import pytest
from django.core import mail

from ticketing.orders import services
from ticketing.orders.models import Hold, Order

from .checkout import event_on_sale, post_hold, post_order
from .fans_helpers import assert_cdn_cacheable, berlin_show

pytestmark = pytest.mark.django_db

NBSP = "\xa0"
GERMAN_DATE = re.compile(r"(Mo|Di|Mi|Do|Fr|Sa|So)\., \d{1,2}\. \w+\.? \d{4}, \d\d:\d\d")


def test_german_accept_language_gets_the_german_event_page(client):
    event = berlin_show()
    response = client.get(
        f"/e/{event.slug}/", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.8"}
    )
    # The bare URL sends the fan to the German one: four URLs for a CDN to keep, not a copy
    # per Accept-Language spelling. The redirect itself is for this fan only.
    assert response.status_code == 302
    assert response["Location"] == f"/e/{event.slug}/?lang=de"
    assert response["Vary"] == "Accept-Language"
    assert response["Cache-Control"] == "private, max-age=0"
    assert "Set-Cookie" not in response

    page = client.get(response["Location"])
    assert_cdn_cacheable(page)
    assert page["Content-Language"] == "de"
    html = page.content.decode()
    assert '<html lang="de">' in html
    assert "Di., 8. Dez. 2026, 20:00" in html  # the venue's local time, as the widget says it
    assert f"39,50{NBSP}€" in html
    assert "Einlass 19:00" in html and "Ticket sales have closed" not in html


@pytest.mark.parametrize(
    ("header", "language", "buy"),
    [
        ("fr-CH, fr;q=0.9, en;q=0.8", "fr", "Acheter des billets"),
        ("es-419,es;q=0.9", "es", "Comprar entradas"),
        ("it-IT,it;q=0.9,de;q=0.5", "de", "Tickets kaufen"),  # the first one we speak
        ("ja-JP", "en", "Buy tickets"),
        ("", "en", "Buy tickets"),
    ],
)
def test_accept_language_picks_the_first_language_we_speak(client, header, language, buy):
    event, _, _ = event_on_sale()
    response = client.get(
        f"/e/{event.slug}/", {"affiliate": "KEY"}, headers={"Accept-Language": header}
    )
    assert response["Location"] == f"/e/{event.slug}/?affiliate=KEY&lang={language}"
    assert buy in client.get(response["Location"]).content.decode()


def test_the_url_wins_over_accept_language_and_no_cookie_is_read(client):
    event, _, _ = event_on_sale()
    client.cookies["django_language"] = "de"
    response = client.get(f"/e/{event.slug}/", {"lang": "fr"}, headers={"Accept-Language": "es"})
    assert_cdn_cacheable(response)
    assert "Acheter des billets" in response.content.decode()
    assert response["Content-Language"] == "fr"


def test_each_language_page_links_the_others_for_search_engines(client):
    event = berlin_show()
    html = client.get(f"/e/{event.slug}/", {"lang": "es"}).content.decode()
    for code in ("en", "de", "fr", "es"):
        assert f'hreflang="{code}" href="http://testserver/e/{event.slug}/?lang={code}"' in html
    assert f'hreflang="x-default" href="http://testserver/e/{event.slug}/"' in html
    assert f'<link rel="canonical" href="http://testserver/e/{event.slug}/?lang=es">' in html


def test_german_checkout_keeps_german_to_the_email(client, django_capture_on_commit_callbacks):
    event, (ga,), _ = event_on_sale(capacities=(20,))
    ga.price = "39.50"
    ga.save()
    # A German browser: redirected to the German page, whose form says so to the next step.
    german = client.get(f"/e/{event.slug}/", headers={"Accept-Language": "de"}, follow=True)
    form_language = re.search(r'name="lang" value="(\w+)"', german.content.decode()).group(1)
    assert form_language == "de"
    held = client.post(f"/e/{event.slug}/hold", {f"qty-{ga.pk}": "2", "lang": form_language})
    hold = Hold.objects.get()
    assert held.status_code == 302 and hold.language == "de"

    hold_page = client.get(held["Location"], headers={"Accept-Language": "en"})
    html = hold_page.content.decode()
    assert "Wir reservieren für dich" in html and f"79,00{NBSP}€" in html
    assert hold_page["Cache-Control"] == "private, no-store"

    invalid = client.post(f"/holds/{hold.token}/order", {"name": "", "email": "x", "lang": "de"})
    assert "Bitte gib deinen Namen ein." in invalid.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        ordered = client.post(
            f"/holds/{hold.token}/order",
            {"name": "Ada", "email": "ada@example.com", "lang": "de",
             "idempotency_key": str(uuid.uuid4())},
        )  # fmt: skip
    order = Order.objects.get()
    assert order.language == "de"
    confirmation = client.get(ordered["Location"]).content.decode()
    assert "Bestellung bestätigt" in confirmation and "2 Tickets" in confirmation

    (email,) = mail.outbox
    assert email.subject.startswith("Deine Tickets für") and order.code in email.subject
    assert "Hallo Ada," in email.body and f"79,00{NBSP}€" in email.body
    assert GERMAN_DATE.search(email.body) and "Einlass" in email.body
    assert "(Zahlung vor Ort)" in email.body  # pay at the venue, the built-in provider
    html, _ = email.alternatives[0]
    assert '<html lang="de">' in html and "Meine Tickets anzeigen" in html
    assert "?lang=de" in email.body  # the lookup link keeps the language
    (name, calendar, mimetype) = email.attachments[0]
    assert name == f"{event.slug}.ics" and mimetype.startswith("text/calendar")
    parsed = icalendar.Calendar.from_ical(calendar)
    assert "Bestellung" in str(parsed.events[0]["DESCRIPTION"])


def test_lookup_follows_accept_language_and_says_so(client):
    response = client.get("/orders/lookup/", headers={"Accept-Language": "fr"})
    assert "Retrouver ma commande" in response.content.decode()
    assert response["Vary"] == "Accept-Language" and response["Content-Language"] == "fr"
    assert response["Cache-Control"] == "private, no-store"
    missing = client.post(
        "/orders/lookup/", {"code": "NOPE", "email": "a@example.com", "lang": "es"}
    )
    assert missing.status_code == 404
    assert "No hemos encontrado ningún pedido" in missing.content.decode()


def test_the_order_speaks_its_language_whatever_the_browser(client):
    _event, (ga,), _ = event_on_sale()

    hold = services.create_hold([{"ticket_type": ga.pk, "quantity": 1}], language="es")
    order, _ = services.place_order(hold.token, name="Ana", email="ana@example.com")
    assert order.language == "es"
    page = client.get(order.get_absolute_url(), headers={"Accept-Language": "de"})
    assert "Pedido confirmado" in page.content.decode()
    assert "Bestellung" in client.get(order.get_absolute_url(), {"lang": "de"}).content.decode()


@pytest.mark.parametrize("path", ["widget-api", "/api/v1/time", "availability", "/t"])
def test_hot_paths_know_nothing_of_languages(client, path):
    """Nothing on the hot paths parses Accept-Language, reads a language cookie or varies."""
    event, _, catalogue = event_on_sale()
    client.cookies["django_language"] = "de"
    headers = {"Accept-Language": "de-DE,de;q=0.9"}
    if path == "/t":
        body = f'[{{"id":"{uuid.uuid4()}","type":"view","artist":"{catalogue["artist"].slug}"}}]'
        response = client.post(path, body, content_type="text/plain", headers=headers)
    else:
        url = {
            "widget-api": f"/widget/v1/artists/{catalogue['artist'].slug}/events",
            "availability": f"/api/v1/events/{event.slug}/availability",
        }.get(path, path)
        response = client.get(url, headers=headers)
    assert response.status_code in (200, 204)
    assert "Vary" not in response and "Set-Cookie" not in response
    assert "Content-Language" not in response


def test_the_api_takes_the_fans_language_for_the_order_and_its_email(
    client, django_capture_on_commit_callbacks
):
    _event, (ga,), _ = event_on_sale()
    held = post_hold(client, (ga, 1), language="fr")
    assert held.status_code == 201 and held.json()["language"] == "fr"
    with django_capture_on_commit_callbacks(execute=True):
        ordered = post_order(client, held.json()["token"], key=str(uuid.uuid4()))
    assert ordered.status_code == 201 and ordered.json()["language"] == "fr"
    assert mail.outbox[0].subject.startswith("Vos billets pour")
    refused = post_hold(client, (ga, 1), language="it")
    assert refused.status_code == 400 and "language" in refused.json()["fields"]
