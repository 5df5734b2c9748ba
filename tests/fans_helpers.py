"""Helpers for the fan page tests: an event at a known local moment, and what pages answer."""

import datetime as dt
import zoneinfo
from decimal import Decimal

from ticketing.events.models import Event, TicketType

from .conftest import make_catalogue


def local(year, month, day, hour, minute=0, zone="Europe/Berlin") -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=zoneinfo.ZoneInfo(zone))


def berlin_show(slug="alpha", *, starts_at=None, on_sale_at=None, capacity=100, **fields) -> Event:
    """The issue's example: a show on Tuesday 8 December 2026, 20:00 in Berlin, doors at 19:00,
    on sale since long before, one ticket type at 39.50 EUR."""
    catalogue = make_catalogue(slug, events=0)
    venue = catalogue["venue"]
    venue.street_address, venue.postal_code = "Columbiadamm 13–21", "10965"
    venue.save()
    starts_at = starts_at or local(2026, 12, 8, 20)
    event = Event.objects.create(
        artist=catalogue["artist"], venue=venue, slug=f"{slug}-berlin",
        starts_at=starts_at, doors_at=starts_at - dt.timedelta(hours=1),
        on_sale_at=on_sale_at or local(2026, 1, 1, 10), is_published=True, **fields,
    )  # fmt: skip
    TicketType.objects.create(event=event, name="GA", price=Decimal("39.50"), capacity=capacity)
    return event


def assert_cdn_cacheable(response):
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=10, s-maxage=10"
    assert "Set-Cookie" not in response
    assert "Vary" not in response  # one copy per URL: no Cookie, no Accept-Language
