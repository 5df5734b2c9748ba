"""Reads for the tour widget: an artist's published upcoming events, as plain values.

One query whatever the number of events, and no model instances: on an on-sale day this runs for
every request that misses both the CDN and the origin cache.
"""

import datetime as dt
import weakref
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.utils.translation import gettext_lazy

from ticketing.events.models import Affiliate, Artist, Event, TicketType, Venue


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
    EventStatus.ON_SALE: gettext_lazy("On sale"),
    EventStatus.FEW_LEFT: gettext_lazy("Few tickets left"),
    EventStatus.SOLD_OUT: gettext_lazy("Sold out"),
    EventStatus.NOT_YET_ON_SALE: gettext_lazy("On sale soon"),
    EventStatus.SALES_CLOSED: gettext_lazy("Sales closed"),
    EventStatus.CANCELLED: gettext_lazy("Cancelled"),
    EventStatus.POSTPONED: gettext_lazy("Postponed"),
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
    of sales (its start unless `off_sale_at` says otherwise) while tickets remain. A postponed
    event is `postponed` whatever its sales window: fans see that first.
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
        return str(STATUS_LABELS[self.status])

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


# One statement, portable between PostgreSQL and SQLite: the artist (a row even without events),
# the affiliate key if an active affiliate of the artist's promoter holds it, and the artist's
# published upcoming events with their venue and ticket-type aggregates. Plain SQL because this
# is the hot path: composing and compiling the same query through the ORM cost several times
# more than running it (see docs/benchmarks.md); the tests run it on both databases.
def _tour_select(affiliate_key: str, now: str, slug: str, limit: str) -> str:
    return f"""
SELECT a.name, a.slug, a.website, f.public_key,
       e.id, e.slug, e.name, e.status, e.starts_at, e.on_sale_at, e.off_sale_at,
       v.time_zone, v.name, v.city, v.region, v.country,
       MIN(t.price), MAX(t.price), MIN(t.currency), MAX(t.currency),
       SUM(t.capacity - t.sold - t.held)
FROM {Artist._meta.db_table} a
LEFT JOIN {Affiliate._meta.db_table} f
       ON f.promoter_id = a.promoter_id AND f.public_key = {affiliate_key} AND f.is_active
LEFT JOIN {Event._meta.db_table} e
       ON e.artist_id = a.id AND e.is_published AND e.starts_at >= {now}
LEFT JOIN {Venue._meta.db_table} v ON v.id = e.venue_id
LEFT JOIN {TicketType._meta.db_table} t ON t.event_id = e.id
WHERE a.slug = {slug}
GROUP BY a.id, f.id, e.id, v.id
ORDER BY e.starts_at, e.id
LIMIT {limit}
"""  # noqa: S608 (table names from the models; every value is a parameter)


TOUR_SQL = _tour_select("%s", "%s", "%s", "%s")
# On PostgreSQL, planning this five-table join costs about three times running it, so each
# connection prepares it once (a prepared statement outlives transactions, not the session).
PREPARE_TOUR_SQL = "PREPARE widget_tour (text, timestamptz, text, integer) AS " + _tour_select(
    "$1", "$2", "$3", "$4"
)
EXECUTE_TOUR_SQL = "EXECUTE widget_tour (%s, %s, %s, %s)"
_prepared_on: "weakref.WeakSet" = weakref.WeakSet()  # driver connections holding widget_tour


def _tour_rows(params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        if _prepare_on(connection):
            if connection.connection not in _prepared_on:
                cursor.execute(PREPARE_TOUR_SQL)
                _prepared_on.add(connection.connection)
            cursor.execute(EXECUTE_TOUR_SQL, params)
        else:
            cursor.execute(TOUR_SQL, params)
        return cursor.fetchall()


def _prepare_on(connection) -> bool:
    """Prepare only on a connection that outlives the request (`CONN_MAX_AGE`, as on a warm
    gunicorn or a container that keeps it): on one opened per request, PREPARE is one more round
    trip and plans the statement as often as running it plainly would."""
    return (
        connection.vendor == "postgresql"
        and settings.WIDGET_PREPARED_QUERY
        and connection.settings_dict["CONN_MAX_AGE"] != 0
    )


def artist_tour(
    slug: str, *, affiliate_key: str | None, limit: int, now: dt.datetime
) -> Tour | None:
    """An artist's next `limit` published events in date order, or None for an unknown artist.

    The affiliate key counts only when an active affiliate of the artist's promoter holds it.
    """
    params = [affiliate_key, connection.ops.adapt_datetimefield_value(now), slug, limit]
    rows = _tour_rows(params)
    if not rows:
        return None
    name, slug, website, affiliate_key = rows[0][:4]
    return Tour(
        artist_name=name,
        artist_slug=slug,
        artist_url=website,
        affiliate_key=affiliate_key,
        events=[_tour_event(row[4:], now) for row in rows if row[4] is not None],
    )


def _tour_event(row: tuple, now: dt.datetime) -> TourEvent:
    (id_, slug, name, status, starts_at, on_sale_at, off_sale_at,
     time_zone, venue_name, city, region, country,
     price_min, price_max, currency_min, currency_max, remaining) = row  # fmt: skip
    starts_at, on_sale_at, off_sale_at = _aware(starts_at), _aware(on_sale_at), _aware(off_sale_at)
    zone = zoneinfo.ZoneInfo(time_zone)  # ZoneInfo keeps loaded zones in its own cache
    return TourEvent(
        id=id_,
        slug=slug,
        name=name,
        starts_at=starts_at.astimezone(zone),
        on_sale_at=on_sale_at.astimezone(zone),
        time_zone=time_zone,
        venue_name=venue_name,
        city=city,
        region=region,
        country=country,
        status=event_status(
            status=status,
            on_sale_at=on_sale_at,
            off_sale_at=off_sale_at,
            starts_at=starts_at,
            remaining=remaining,
            now=now,
        ),
        price_min=price_min,
        price_max=price_max,
        currency=currency_min if currency_min == currency_max else None,
    )


def _aware(value):
    """PostgreSQL returns aware datetimes; SQLite stores naive UTC (as the ORM would convert)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value
