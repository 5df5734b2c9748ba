"""Reads of the tracking counters for the analytics pages and their CSV export.

Every function takes the counters it may read as a queryset, already scoped to what the caller
may see (the admin passes its promoter-scoped queryset), and narrows it to a date range. Rows are
keyed by ids (day, event id, affiliate id), so other funnels, e.g. orders per affiliate, can be
joined on the same keys.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import TruncDate

from ticketing.events.models import Affiliate, Event

from .models import HitCounter

VIEWS = Sum("count", filter=Q(kind=HitCounter.Kind.VIEW), default=0)
CLICKS = Sum("count", filter=Q(kind=HitCounter.Kind.CLICK), default=0)


@dataclass(frozen=True)
class Traffic:
    key: object  # a date, an event id or an affiliate id (None: no event / no affiliate)
    label: str
    views: int
    clicks: int

    @property
    def click_through_rate(self) -> float | None:
        """Clicks per view; None when there was nothing to click."""
        return self.clicks / self.views if self.views else None

    @property
    def click_through_percent(self) -> float | None:
        return None if self.views == 0 else 100 * self.clicks / self.views


@dataclass(frozen=True)
class Summary(Traffic):
    bot_hits: int = 0


def in_range(counters: QuerySet[HitCounter], start: dt.date, end: dt.date) -> QuerySet:
    """Counters of the days start..end (inclusive, UTC)."""
    begin = dt.datetime.combine(start, dt.time.min, dt.UTC)
    stop = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, dt.UTC)
    return counters.filter(hour__gte=begin, hour__lt=stop)


def summary(counters: QuerySet[HitCounter], start: dt.date, end: dt.date) -> Summary:
    rows = in_range(counters, start, end)
    totals = rows.filter(is_bot=False).aggregate(views=VIEWS, clicks=CLICKS)
    bots = rows.filter(is_bot=True).aggregate(n=Sum("count", default=0))["n"]
    return Summary(None, "Total", totals["views"], totals["clicks"], bots)


def by_day(counters: QuerySet[HitCounter], start: dt.date, end: dt.date) -> list[Traffic]:
    """Every day of the range, days without hits included (a chart needs them)."""
    rows = (
        _humans(counters, start, end)
        .annotate(day=TruncDate("hour", tzinfo=dt.UTC))
        .values("day")
        .annotate(views=VIEWS, clicks=CLICKS)
    )
    found = {row["day"]: row for row in rows}
    days = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    return [
        Traffic(day, day.isoformat(), found.get(day, {}).get("views", 0),
                found.get(day, {}).get("clicks", 0))
        for day in days
    ]  # fmt: skip


def by_affiliate(counters: QuerySet[HitCounter], start: dt.date, end: dt.date) -> list[Traffic]:
    rows = _humans(counters, start, end).values("affiliate").annotate(views=VIEWS, clicks=CLICKS)
    names = {a.pk: f"{a.name} ({a.domain})" for a in Affiliate.objects.filter(
        pk__in=[row["affiliate"] for row in rows if row["affiliate"]])}  # fmt: skip
    traffic = [
        Traffic(row["affiliate"], names.get(row["affiliate"], "Direct (no affiliate)"),
                row["views"], row["clicks"])
        for row in rows
    ]  # fmt: skip
    return sorted(traffic, key=lambda t: (-t.views, -t.clicks, t.label))


def by_event(counters: QuerySet[HitCounter], start: dt.date, end: dt.date) -> list[Traffic]:
    rows = _humans(counters, start, end).values("event").annotate(views=VIEWS, clicks=CLICKS)
    events = Event.objects.select_related("artist", "venue").in_bulk(
        [row["event"] for row in rows if row["event"]]
    )
    traffic = [
        Traffic(row["event"], _event_label(events.get(row["event"])), row["views"], row["clicks"])
        for row in rows
    ]
    return sorted(traffic, key=lambda t: (-t.views, -t.clicks, t.label))


def by_day_event_affiliate(counters: QuerySet[HitCounter], start: dt.date, end: dt.date):
    """The finest daily grain, for the CSV export: day, artist, event, affiliate (ids), views,
    clicks."""
    rows = (
        _humans(counters, start, end)
        .annotate(day=TruncDate("hour", tzinfo=dt.UTC))
        .values("day", "artist", "event", "affiliate")
        .annotate(views=VIEWS, clicks=CLICKS)
        .order_by("day", "artist", "event", "affiliate")
    )
    return list(rows)


def _humans(counters: QuerySet[HitCounter], start: dt.date, end: dt.date) -> QuerySet:
    return in_range(counters, start, end).filter(is_bot=False).order_by()


def _event_label(event: Event | None) -> str:
    if event is None:
        return "The artist's list of events"
    return f"{event.display_name}, {event.starts_at:%Y-%m-%d}"
