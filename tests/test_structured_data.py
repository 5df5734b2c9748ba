"""schema.org MusicEvent JSON-LD on the event page and the widget's tour page: what search
engines read to show a page as an event with its date, place, performer and tickets."""

import json
import re

import pytest

from ticketing.events.models import Event, TicketType
from ticketing.orders import services

from .fans_helpers import berlin_show, local

pytestmark = pytest.mark.django_db

SCHEMA = "https://schema.org/"


def sell(ticket_type, quantity):
    services.issue_tickets(ticket_type, quantity, name="Box office", email="box@example.com")


def json_ld(html: str):
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert len(blocks) == 1
    return json.loads(blocks[0])


def test_event_page_carries_a_music_event(client):
    event = berlin_show(age_limit=16)
    event.artist.website, event.artist.image_url = (
        "https://alpha.example",
        "https://i.example/a.jpg",
    )
    event.artist.save()
    vip = TicketType.objects.create(event=event, name="VIP", price="119.00", capacity=10)
    sell(vip, 10)
    html = client.get(f"/e/{event.slug}/", {"lang": "de"}).content.decode()
    data = json_ld(html)
    assert data["@context"] == "https://schema.org" and data["@type"] == "MusicEvent"
    assert data["startDate"] == "2026-12-08T20:00:00+01:00"  # the venue's wall clock and offset
    assert data["doorTime"] == "2026-12-08T19:00:00+01:00"
    assert data["eventStatus"] == SCHEMA + "EventScheduled"
    assert data["url"] == f"http://testserver/e/{event.slug}/?lang=de"
    assert data["location"] == {
        "@type": "MusicVenue",
        "name": "alpha hall",
        "address": {"@type": "PostalAddress", "streetAddress": "Columbiadamm 13–21",
                    "postalCode": "10965", "addressLocality": "Berlin", "addressCountry": "DE"},
    }  # fmt: skip
    assert data["performer"] == {
        "@type": "MusicGroup", "name": "alpha artist",
        "url": "https://alpha.example", "image": "https://i.example/a.jpg",
    }  # fmt: skip
    assert data["typicalAgeRange"] == "16-"
    ga, vip = data["offers"]
    assert ga["price"] == "39.50" and ga["priceCurrency"] == "EUR" and vip["price"] == "119.00"
    assert ga["url"] == data["url"] and ga["validFrom"] == "2026-01-01T10:00:00+01:00"
    assert ga["availability"] in {
        SCHEMA + "InStock",
        SCHEMA + "Discontinued",
    }  # sales close at the show
    assert vip["availability"] in {SCHEMA + "SoldOut", SCHEMA + "Discontinued"}


def test_availability_and_status_follow_the_event(client):
    from .checkout import event_on_sale

    event, (ga,), _ = event_on_sale(capacities=(100,))
    offer = json_ld(client.get(f"/e/{event.slug}/", {"lang": "en"}).content.decode())["offers"][0]
    assert offer["availability"] == SCHEMA + "InStock"
    sell(ga, 95)
    offer = json_ld(client.get(f"/e/{event.slug}/", {"lang": "en"}).content.decode())["offers"][0]
    assert offer["availability"] == SCHEMA + "LimitedAvailability"
    sell(ga, 5)
    offer = json_ld(client.get(f"/e/{event.slug}/", {"lang": "en"}).content.decode())["offers"][0]
    assert offer["availability"] == SCHEMA + "SoldOut"
    Event.objects.filter(pk=event.pk).update(status=Event.Status.POSTPONED)
    data = json_ld(client.get(f"/e/{event.slug}/", {"lang": "en"}).content.decode())
    assert data["eventStatus"] == SCHEMA + "EventPostponed"


def test_text_in_the_data_cannot_close_the_script(client):
    event = berlin_show(name="</script><script>alert(1)</script>")
    html = client.get(f"/e/{event.slug}/", {"lang": "en"}).content.decode()
    assert json_ld(html)["name"] == "</script><script>alert(1)</script>"
    assert "<script>alert(1)" not in html  # escaped everywhere: JSON-LD, title, headings


def test_tour_page_lists_each_show_as_a_music_event(client):
    first = berlin_show(starts_at=local(2040, 6, 3, 21), on_sale_at=local(2040, 1, 1, 10))
    Event.objects.create(
        artist=first.artist, venue=first.venue, slug="alpha-berlin-2", is_published=True,
        starts_at=local(2040, 6, 4, 20), on_sale_at=local(2040, 1, 1, 10),
    )  # fmt: skip
    response = client.get(f"/widget/artists/{first.artist.slug}/", {"lang": "en"})
    assert response.status_code == 200 and "Set-Cookie" not in response
    events = json_ld(response.content.decode())
    assert [event["startDate"] for event in events] == [
        "2040-06-03T21:00:00+02:00", "2040-06-04T20:00:00+02:00"  # summer time in Berlin
    ]  # fmt: skip
    assert all(event["@type"] == "MusicEvent" for event in events)
    assert events[0]["performer"]["name"] == "alpha artist"
    assert events[0]["location"]["address"]["streetAddress"] == "Columbiadamm 13–21"
    assert events[0]["offers"][0]["availability"] == SCHEMA + "PreOrder"  # not on sale yet
    assert events[0]["doorTime"] == "2040-06-03T20:00:00+02:00"
    assert events[1]["offers"] == [] and "doorTime" not in events[1]
