"""Reads for the analytics pages and their CSV export: the sales funnel views -> clicks (the
tracking counters) -> orders (the orders app's `sales`), with click-through rate and conversion.

Every function takes the counters and the orders it may read as querysets, already scoped to what
the caller may see (the admin passes promoter-scoped ones, narrowed to an artist or an event), and
counts the days start..end (inclusive). Both sides are bucketed by UTC day: hits by the hour they
were received in, orders by the moment they were placed. Rows are keyed by ids (day, artist id,
event id, affiliate id; None for no event / no affiliate) and each read is a fixed number of
queries, whatever the number of days, events or affiliates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F, Q, QuerySet, Sum
from django.db.models.functions import TruncDate

from ticketing.events.models import Affiliate, Event
from ticketing.orders.models import Order
from ticketing.orders.selectors import Sales, sales

from .models import HitCounter

VIEWS = Sum("count", filter=Q(kind=HitCounter.Kind.VIEW, is_bot=False), default=0)
CLICKS = Sum("count", filter=Q(kind=HitCounter.Kind.CLICK, is_bot=False), default=0)
BOT_HITS = Sum("count", filter=Q(is_bot=True), default=0)

# What hits can be grouped by: the same names as `ticketing.orders.selectors.SALES_KEYS`.
TRAFFIC_KEYS = {
    "day": TruncDate("hour", tzinfo=dt.UTC),
    "artist": F("artist"),
    "event": F("event"),
    "affiliate": F("affiliate"),
}
DIRECT = "Direct (no affiliate)"


@dataclass(frozen=True)
class Funnel:
    """The figures of one slice of the funnel."""

    views: int = 0
    clicks: int = 0
    orders: int = 0  # confirmed orders placed in the period
    tickets: int = 0
    revenue: tuple[tuple[str, Decimal], ...] = ()  # (currency, amount), by currency

    @property
    def click_through_rate(self) -> float | None:
        """Clicks per view; None when there was nothing to click."""
        return self.clicks / self.views if self.views else None

    @property
    def conversion_rate(self) -> float | None:
        """Orders per click; None without clicks. Every order counts, also one that did not
        follow a widget click (a shared link, a typed address), so it can exceed 1."""
        return self.orders / self.clicks if self.clicks else None

    @property
    def click_through_percent(self) -> float | None:
        rate = self.click_through_rate
        return None if rate is None else 100 * rate

    @property
    def conversion_percent(self) -> float | None:
        rate = self.conversion_rate
        return None if rate is None else 100 * rate

    @classmethod
    def of(cls, views: int, clicks: int, sold: Sales, **fields) -> Funnel:
        return cls(views, clicks, sold.orders, sold.tickets, sold.revenue, **fields)


@dataclass(frozen=True)
class FunnelRow(Funnel):
    key: object = None  # a date, an event id or an affiliate id (None: no event / no affiliate)
    label: str = ""


@dataclass(frozen=True)
class Summary(FunnelRow):
    bot_hits: int = 0


def in_range(counters: QuerySet[HitCounter], start: dt.date, end: dt.date) -> QuerySet:
    """Counters of the days start..end (inclusive, UTC)."""
    begin = dt.datetime.combine(start, dt.time.min, dt.UTC)
    stop = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, dt.UTC)
    return counters.filter(hour__gte=begin, hour__lt=stop)


def traffic(
    counters: QuerySet[HitCounter], start: dt.date, end: dt.date, by: Sequence[str]
) -> dict[tuple, tuple[int, int]]:
    """Human views and clicks grouped by the `TRAFFIC_KEYS` named in `by`: {(key values...):
    (views, clicks)}. One query."""
    rows = (
        in_range(counters, start, end)
        .filter(is_bot=False)
        .annotate(**{f"traffic_{key}": TRAFFIC_KEYS[key] for key in by})
        .values(*(f"traffic_{key}" for key in by))
        .annotate(views=VIEWS, clicks=CLICKS)
        .order_by()
    )
    return {
        tuple(row[f"traffic_{key}"] for key in by): (row["views"], row["clicks"]) for row in rows
    }


def funnel(
    counters: QuerySet[HitCounter],
    orders: QuerySet[Order],
    start: dt.date,
    end: dt.date,
    by: Sequence[str],
) -> dict[tuple, Funnel]:
    """Views, clicks and sales joined on the keys named in `by` (see `TRAFFIC_KEYS`): a key
    with hits and no orders, or orders and no hits, has its row. Two queries."""
    hits = traffic(counters, start, end, by)
    sold = sales(orders, start, end, by)
    return {
        key: Funnel.of(*hits.get(key, (0, 0)), sold.get(key, Sales()))
        for key in hits.keys() | sold.keys()
    }


def summary(
    counters: QuerySet[HitCounter], orders: QuerySet[Order], start: dt.date, end: dt.date
) -> Summary:
    totals = in_range(counters, start, end).aggregate(views=VIEWS, clicks=CLICKS, bots=BOT_HITS)
    sold = sales(orders, start, end).get((), Sales())
    return Summary.of(
        totals["views"], totals["clicks"], sold, label="Total", bot_hits=totals["bots"]
    )


def by_day(
    counters: QuerySet[HitCounter], orders: QuerySet[Order], start: dt.date, end: dt.date
) -> list[FunnelRow]:
    """Every day of the range, days without hits or orders included (a chart needs them)."""
    found = funnel(counters, orders, start, end, ["day"])
    days = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    return [_row(found.get((day,), Funnel()), day, day.isoformat()) for day in days]


def by_affiliate(
    counters: QuerySet[HitCounter], orders: QuerySet[Order], start: dt.date, end: dt.date
) -> list[FunnelRow]:
    """One row per affiliate site with hits or orders, and one for the direct ones."""
    found = funnel(counters, orders, start, end, ["affiliate"])
    names = {
        a.pk: str(a) for a in Affiliate.objects.filter(pk__in=[key for (key,) in found if key])
    }
    rows = [_row(figures, key, names.get(key, DIRECT)) for (key,), figures in found.items()]
    return sorted(rows, key=_by_size)


def by_event(
    counters: QuerySet[HitCounter], orders: QuerySet[Order], start: dt.date, end: dt.date
) -> list[FunnelRow]:
    found = funnel(counters, orders, start, end, ["event"])
    events = Event.objects.select_related("artist", "venue").in_bulk(
        [key for (key,) in found if key]
    )
    rows = [_row(figures, key, _event_label(events.get(key))) for (key,), figures in found.items()]
    return sorted(rows, key=_by_size)


def by_day_event_affiliate(
    counters: QuerySet[HitCounter], orders: QuerySet[Order], start: dt.date, end: dt.date
) -> list[tuple[tuple, Funnel]]:
    """The finest daily grain, for the CSV export: ((day, artist id, event id, affiliate id),
    figures), ordered by those keys, no event / no affiliate first."""
    found = funnel(counters, orders, start, end, ["day", "artist", "event", "affiliate"])
    return sorted(found.items(), key=lambda item: [(k is not None, k) for k in item[0]])


def _row(figures: Funnel, key, label: str) -> FunnelRow:
    return FunnelRow(**vars(figures), key=key, label=label)


def _by_size(row: FunnelRow):
    return (-row.views, -row.clicks, -row.orders, row.label)


def _event_label(event: Event | None) -> str:
    if event is None:
        return "The artist's list of events"
    return str(event)  # named with its local date
