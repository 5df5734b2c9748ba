"""The widget API's JSON, encoded once per origin-cache entry."""

import datetime as dt
import json
from collections.abc import Callable
from urllib.parse import urlencode

from django.urls import reverse

from ticketing.site import public_url

from .selectors import EventStatus, Tour

# A slug no event has, reversed once per response instead of once per event.
SLUG_MARK = "0-slug-mark-0"


def tickets_url_builder(affiliate_key: str | None) -> Callable[[str], str]:
    """Absolute URL of an event's checkout page (`orders:event`), carrying the affiliate."""
    url = public_url(reverse("orders:event", args=[SLUG_MARK]))
    head, _, tail = url.rpartition(SLUG_MARK)  # the path's, not the host's, occurrence
    query = f"?{urlencode({'affiliate': affiliate_key})}" if affiliate_key else ""
    return lambda slug: f"{head}{slug}{tail}{query}"


def tour_content(tour: Tour, tickets_url: Callable[[str], str]) -> bytes:
    """Everything the body says, without `generated_at` (see `with_generated_at`)."""
    return encode(
        {
            "artist": {"name": tour.artist_name, "slug": tour.artist_slug,
                       "url": tour.artist_url or None},
            "affiliate": tour.affiliate_key,
            "events": [
                {
                    "id": event.id,
                    "name": event.name or None,
                    "starts_at": event.starts_at.isoformat(),
                    "time_zone": event.time_zone,
                    "venue": {"name": event.venue_name, "city": event.city,
                              "region": event.region or None, "country": event.country},
                    "status": event.status,
                    "on_sale_at": event.on_sale_at.isoformat()
                    if event.status == EventStatus.NOT_YET_ON_SALE
                    else None,
                    "price": {"min": f"{event.price_min:.2f}", "max": f"{event.price_max:.2f}",
                              "currency": event.currency}
                    if event.currency
                    else None,
                    "tickets_url": tickets_url(event.slug),
                }
                for event in tour.events
            ],
        }
    )  # fmt: skip


def with_generated_at(content: bytes, moment: dt.datetime) -> bytes:
    """The body: `content` (a JSON object) with `generated_at` as its first member."""
    stamp = encode({"generated_at": moment.isoformat(timespec="milliseconds")})
    return stamp[:-1] + b"," + content[1:]


def error_content(code: str, message: str) -> bytes:
    return encode({"error": code, "message": message})


def encode(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
