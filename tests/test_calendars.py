"""“Add to calendar”: the .ics of an event and of an order parse back (icalendar) with the
show at the venue's local time, in the venue's zone."""

import datetime as dt
import zoneinfo

import icalendar
import pytest
from django.core import mail

from ticketing.orders import services

from .checkout import event_on_sale
from .fans_helpers import berlin_show, local

pytestmark = pytest.mark.django_db


def only_event(body: bytes):
    calendar = icalendar.Calendar.from_ical(body)
    (event,) = calendar.events
    return calendar, event


def test_event_calendar_is_in_the_venues_zone(client):
    event = berlin_show(age_limit=18)
    response = client.get(f"/e/{event.slug}/calendar.ics", {"lang": "de"})
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="{event.slug}.ics"'
    assert "public" in response["Cache-Control"] and "Set-Cookie" not in response
    body = response.content
    assert b"DTSTART;TZID=Europe/Berlin:20261208T200000" in body
    calendar, vevent = only_event(body)
    assert calendar["VERSION"] == "2.0" and calendar["METHOD"] == "PUBLISH"
    assert [tz["TZID"] for tz in calendar.timezones] == ["Europe/Berlin"]
    assert vevent.start == local(2026, 12, 8, 20)
    assert vevent.start.tzinfo.key == "Europe/Berlin" and vevent.start.hour == 20
    assert vevent.end - vevent.start == dt.timedelta(hours=3)
    assert vevent["UID"] == f"event-{event.pk}@testserver"
    assert str(vevent["LOCATION"]) == "alpha hall, Columbiadamm 13–21, 10965 Berlin, DE"
    assert "Einlass: 19:00" in str(vevent["DESCRIPTION"]) and "Ab 18 Jahren" in str(
        vevent["DESCRIPTION"]
    )
    assert str(vevent["URL"]) == f"http://testserver/e/{event.slug}/?lang=de"
    assert vevent["STATUS"] == "CONFIRMED"


def test_tokyo_show_keeps_its_wall_clock(client):
    event = berlin_show()
    event.venue.time_zone = "Asia/Tokyo"
    event.venue.save()
    event.starts_at = dt.datetime(2027, 3, 14, 19, tzinfo=zoneinfo.ZoneInfo("Asia/Tokyo"))
    event.save()
    _, vevent = only_event(client.get(f"/e/{event.slug}/calendar.ics").content)
    assert vevent.start.tzinfo.key == "Asia/Tokyo" and (vevent.start.hour, vevent.start.minute) == (
        19,
        0,
    )
    assert vevent.start.astimezone(dt.UTC).hour == 10


def test_order_calendar_is_private_and_shares_the_events_uid(
    client, django_capture_on_commit_callbacks
):
    event, (ga,), _ = event_on_sale()
    hold = services.create_hold([{"ticket_type": ga.pk, "quantity": 2}], language="fr")
    with django_capture_on_commit_callbacks(execute=True):
        order, _ = services.place_order(
            hold.token, name="Zoé", email="zoe@example.com", site_url="http://testserver/"
        )
    url = f"/orders/{order.code}/{order.access_key}/calendar.ics"
    confirmation = client.get(order.get_absolute_url()).content.decode()
    assert f'href="{url}"' in confirmation
    response = client.get(url)
    assert response["Cache-Control"] == "private, no-store"
    _, vevent = only_event(response.content)
    assert vevent["UID"] == f"event-{event.pk}@testserver"  # importing it updates the event's
    assert vevent.start == event.starts_at.replace(microsecond=0)
    assert vevent.start.tzinfo.key == "Europe/Berlin"
    description = str(vevent["DESCRIPTION"])
    assert f"Commande {order.code} : 2 billet(s)" in description
    assert order.get_absolute_url() in description
    assert client.get(f"/orders/{order.code}/wrong/calendar.ics").status_code == 404

    # The confirmation email attaches the same file.
    ((_name, attached, _mimetype),) = mail.outbox[0].attachments
    _, emailed = only_event(attached)
    assert emailed["UID"] == vevent["UID"] and emailed.start == vevent.start
