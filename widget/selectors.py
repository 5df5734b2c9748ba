"""Reads for the tour widget: an artist's published upcoming events, as plain values.

Two queries whatever the number of events (the artist, then its events with their venue and
ticket-type aggregates) and no model instances: on an on-sale day this runs for every request
that misses both the CDN and the origin cache.
"""

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, F, Max, Min, OuterRef, Subquery, Sum

from ticketing.events.models import Affiliate, Artist, Event

# What `Affiliate.public_key` can look like (`secrets.token_urlsafe`, at most 32 characters):
# anything else is ignored without asking the database.
AFFILIATE_KEY = re.compile(r"[A-Za-z0-9_-]{1,32}")
ARTIST_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,50}")  # `Artist.slug`: a SlugField


class EventStatus:
    """What a fan can do about an event, as the widget API names it."""

    ON_SALE = "on_sale"
    FEW_LEFT = "few_left"
    SOLD_OUT = "sold_out"
    NOT_YET_ON_SALE = "not_yet_on_sale"
    SALES_CLOSED = "sales_closed"  # the show is still ahead, its sales window is over
    CANCELLED = "cancelled"
    POSTPONED = "postponed"


# For the server-rendered tour page; the widget has its own translations.
STATUS_LABELS = {
    EventStatus.ON_SALE: "On sale",
    EventStatus.FEW_LEFT: "Few tickets left",
    EventStatus.SOLD_OUT: "Sold out",
    EventStatus.NOT_YET_ON_SALE: "On sale soon",
    EventStatus.SALES_CLOSED: "Sales closed",
    EventStatus.CANCELLED: "Cancelled",
    EventStatus.POSTPONED: "Postponed",
}
BUYABLE = frozenset({EventStatus.ON_SALE, EventStatus.FEW_LEFT, EventStatus.NOT_YET_ON_SALE,
                     EventStatus.POSTPONED})  # fmt: skip


def event_status(
    *,
    status: str,
    on_sale_at: dt.datetime,
    off_sale_at: dt.datetime | None,
    starts_at: dt.datetime,
    remaining: int | None,
    now: dt.datetime,
) -> str:
    """The status of one event; `remaining` is None for an event without ticket types.

    Agrees with `Event.is_on_sale`: an event is on sale between its on-sale moment and the close
    of sales (its start unless `off_sale_at` says otherwise) while tickets remain.
    """
    if status == Event.Status.CANCELLED:
        return EventStatus.CANCELLED
    if status == Event.Status.POSTPONED:
        return EventStatus.POSTPONED
    if remaining == 0:
        return EventStatus.SOLD_OUT
    if now < on_sale_at:
        return EventStatus.NOT_YET_ON_SALE
    if now >= (off_sale_at or starts_at):
        return EventStatus.SALES_CLOSED
    if remaining is not None and remaining <= settings.WIDGET_FEW_LEFT:
        return EventStatus.FEW_LEFT
    return EventStatus.ON_SALE


@dataclass(frozen=True, slots=True)
class TourEvent:
    id: int
    slug: str
    name: str
    starts_at: dt.datetime  # in the venue's time zone
    on_sale_at: dt.datetime  # in the venue's time zone
    time_zone: str
    venue_name: str
    city: str
    region: str
    country: str
    status: str
    price_min: Decimal | None
    price_max: Decimal | None
    currency: str | None  # None when the event has no ticket types or mixes currencies

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def has_tickets_link(self) -> bool:
        return self.status in BUYABLE


@dataclass(frozen=True, slots=True)
class Tour:
    artist_name: str
    artist_slug: str
    artist_url: str
    affiliate_key: str | None  # the given key when it belongs to an active affiliate
    events: list[TourEvent]


def artist_tour(
    slug: str, *, affiliate_key: str | None, limit: int, now: dt.datetime
) -> Tour | None:
    """An artist's next `limit` published events in date order, or None for an unknown artist.

    The affiliate key counts only when an active affiliate of the artist's promoter holds it.
    """
    artist = _artist(slug, affiliate_key)
    if artist is None:
        return None
    rows = (
        Event.objects.published()
        .upcoming(now)
        .filter(artist_id=artist["id"])
        .order_by("starts_at", "id")
        .values(
            "id",
            "slug",
            "name",
            "status",
            "starts_at",
            "on_sale_at",
            "off_sale_at",
            time_zone=F("venue__time_zone"),
            venue_name=F("venue__name"),
            city=F("venue__city"),
            region=F("venue__region"),
            country=F("venue__country"),
        )
        .annotate(
            price_min=Min("ticket_types__price"),
            price_max=Max("ticket_types__price"),
            currency=Min("ticket_types__currency"),
            currencies=Count("ticket_types__currency", distinct=True),
            # Never negative: constraint `tickettype_not_oversold` keeps sold + held <= capacity.
            remaining=Sum(
                F("ticket_types__capacity") - F("ticket_types__sold") - F("ticket_types__held")
            ),
        )[:limit]
    )
    return Tour(
        artist_name=artist["name"],
        artist_slug=artist["slug"],
        artist_url=artist["website"],
        affiliate_key=artist.get("affiliate_key"),
        events=[_tour_event(row, now) for row in rows],
    )


def _artist(slug: str, affiliate_key: str | None) -> dict | None:
    artists = Artist.objects.filter(slug=slug)
    if affiliate_key and AFFILIATE_KEY.fullmatch(affiliate_key):
        # Checked in the same query: the key must be an active affiliate of this promoter.
        affiliates = Affiliate.objects.filter(
            promoter=OuterRef("promoter"), public_key=affiliate_key, is_active=True
        )
        artists = artists.annotate(affiliate_key=Subquery(affiliates.values("public_key")[:1]))
        return artists.values("id", "name", "slug", "website", "affiliate_key").first()
    return artists.values("id", "name", "slug", "website").first()


def _tour_event(row: dict, now: dt.datetime) -> TourEvent:
    zone = zoneinfo.ZoneInfo(row["time_zone"])  # ZoneInfo keeps loaded zones in its own cache
    return TourEvent(
        id=row["id"],
        slug=row["slug"],
        name=row["name"],
        starts_at=row["starts_at"].astimezone(zone),
        on_sale_at=row["on_sale_at"].astimezone(zone),
        time_zone=row["time_zone"],
        venue_name=row["venue_name"],
        city=row["city"],
        region=row["region"],
        country=row["country"],
        status=event_status(
            status=row["status"],
            on_sale_at=row["on_sale_at"],
            off_sale_at=row["off_sale_at"],
            starts_at=row["starts_at"],
            remaining=row["remaining"],
            now=now,
        ),
        price_min=row["price_min"],
        price_max=row["price_max"],
        currency=row["currency"] if row["currencies"] == 1 else None,
    )
