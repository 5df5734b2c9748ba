"""Moments in the back office are the venue's: typed, shown and filtered in its time zone,
stored in UTC.

A promoter types "20:00" meaning 20:00 where the show is. Forms do not parse anything themselves:
the admin runs the whole request inside `venue_time(zone)`, Django's current time zone for the
venue, so Django's own date-time fields read typed values in that zone and its widgets show
stored ones in it. The widget says which zone that is ("20:00 Europe/Berlin").

Change lists show rows of several venues at once, so each moment is formatted in its own venue's
zone (`local_label`), and the date hierarchy filters by local days (`local_day_filter`).
"""

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from contextlib import contextmanager

from asgiref.local import Local
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.contrib.admin.widgets import AdminSplitDateTime
from django.db.models import Q
from django.utils import dateformat, formats, timezone
from django.utils.html import format_html
from django.utils.text import capfirst

_state = Local()

MOMENT_FORMAT = "D j M Y, H:i"  # Tue 8 Dec 2026, 20:00


@contextmanager
def venue_time(zone: zoneinfo.ZoneInfo | None):
    """Read and show moments in `zone`, a venue's, meanwhile; None: the venue is not known
    yet (an add form before one is chosen), moments are UTC and the widgets say "venue time"."""
    previous = getattr(_state, "zone", None)
    _state.zone = zone
    try:
        with timezone.override(zone):
            yield
    finally:
        _state.zone = previous


def current_venue_zone() -> zoneinfo.ZoneInfo | None:
    return getattr(_state, "zone", None)


class VenueDateTimeWidget(AdminSplitDateTime):
    """The admin's date and time inputs, labelled with the venue's time zone.

    The label also carries Django's `timezonewarning` class, so the admin's script does not add
    its "You are 2 hours ahead of server time" note: the label says what the time means.
    """

    template_name = "admin/widgets/venue_split_datetime.html"

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        zone = current_venue_zone()
        context["venue_zone"] = zone.key if zone else None
        return context


def local_label(moment: dt.datetime | None, zone: str) -> str:
    """ "Tue 8 Dec 2026, 20:00 Europe/Berlin": a moment as the venue's clock shows it."""
    if moment is None:
        return ""
    return f"{_wall_clock(moment, zone)} {zone}"


def local_cell(moment: dt.datetime | None, zone: str) -> str:
    """`local_label` for a change list's narrow column: the zone on a line of its own."""
    if moment is None:
        return "–"
    return format_html('{}<br><span class="quiet">{}</span>', _wall_clock(moment, zone), zone)


def _wall_clock(moment: dt.datetime, zone: str) -> str:
    return dateformat.format(timezone.localtime(moment, zoneinfo.ZoneInfo(zone)), MOMENT_FORMAT)


def local_day_filter(field: str, zone_field: str, zones: Iterable[str], first, stop) -> Q:
    """Rows whose `field` falls on the local days first <= day < stop, each row in its own zone
    (`zone_field`): one range per zone, so the database still uses its index on `field`."""
    condition = Q(pk__in=[])
    for zone in zones:
        tz = zoneinfo.ZoneInfo(zone)
        begin = dt.datetime.combine(first, dt.time.min, tzinfo=tz)
        end = dt.datetime.combine(stop, dt.time.min, tzinfo=tz)
        condition |= Q(**{zone_field: zone, f"{field}__gte": begin, f"{field}__lt": end})
    return condition


def local_days(queryset, field: str, zone_field: str) -> list[dt.date]:
    """The distinct local days on which the rows' `field` falls: one query per time zone."""
    zones = queryset.order_by().values_list(zone_field, flat=True).distinct()
    days = set()
    for zone in zones:
        moments = queryset.filter(**{zone_field: zone}).datetimes(
            field, "day", tzinfo=zoneinfo.ZoneInfo(zone)
        )
        days.update(moment.date() for moment in moments)
    return sorted(days)


HIERARCHY_PARTS = ("year", "month", "day")


class LocalDateChangeList(ChangeList):
    """A change list whose date hierarchy counts each row in its venue's local days (Django's
    counts days of the one current time zone): its `<field>__year/month/day` parameters become
    one range per zone. `zone_field` leads from a row to its venue's zone."""

    zone_field = "venue__time_zone"

    def get_filters_params(self, params=None):
        lookup_params = super().get_filters_params(params)
        for part in HIERARCHY_PARTS:  # handled here, not by Django's UTC ranges
            lookup_params.pop(f"{self.date_hierarchy}__{part}", None)
        return lookup_params

    def get_queryset(self, request, exclude_parameters=None):
        queryset = super().get_queryset(request, exclude_parameters)
        span = self.local_span()
        if span is None:
            return queryset
        zones = list(queryset.order_by().values_list(self.zone_field, flat=True).distinct())
        return queryset.filter(local_day_filter(self.date_hierarchy, self.zone_field, zones, *span))

    def hierarchy_params(self) -> list[str | None]:
        return [self.params.get(f"{self.date_hierarchy}__{part}") for part in HIERARCHY_PARTS]

    def local_span(self) -> tuple[dt.date, dt.date] | None:
        """The chosen local days as (first, the day after the last), or None."""
        year, month, day = self.hierarchy_params()
        if year is None:
            return None
        try:
            first = dt.date(int(year), int(month or 1), int(day or 1))
            if day:
                return first, first + dt.timedelta(days=1)
            if month:
                return first, (first + dt.timedelta(days=32)).replace(day=1)
            return first, first.replace(year=first.year + 1)
        except (ValueError, OverflowError) as error:
            raise IncorrectLookupParameters(error) from error


def local_date_hierarchy(cl: LocalDateChangeList) -> dict:
    """The context of Django's `admin/date_hierarchy.html` (what its `date_hierarchy` tag
    gives), from the rows' local days."""
    field = cl.date_hierarchy
    keys = [f"{field}__{part}" for part in HIERARCHY_PARTS]
    year, month, day = cl.hierarchy_params()  # valid when there is a year: `local_span` said so
    year, month, day = (int(value) if value and year else None for value in (year, month, day))
    days = local_days(cl.queryset, field, cl.zone_field)
    if year is None and days and days[0].year == days[-1].year:
        # Like Django: start as deep as the rows allow.
        year = days[0].year
        if days[0].month == days[-1].month:
            month = days[0].month

    def link(*values) -> str:
        return cl.get_query_string(dict(zip(keys, values, strict=False)), [f"{field}__"])

    def title(date, fmt) -> str:
        return capfirst(formats.date_format(date, fmt))

    if year and month and day:
        date = dt.date(year, month, day)
        back = {"link": link(year, month), "title": title(date, "YEAR_MONTH_FORMAT")}
        choices = [{"title": title(date, "MONTH_DAY_FORMAT")}]
    elif year and month:
        back = {"link": link(year), "title": str(year)}
        choices = [
            {"link": link(year, month, d.day), "title": title(d, "MONTH_DAY_FORMAT")}
            for d in days
            if (d.year, d.month) == (year, month)
        ]
    elif year:
        back = {"link": link(), "title": "All dates"}
        months = sorted({d.replace(day=1) for d in days if d.year == year})
        choices = [{"link": link(year, m.month), "title": title(m, "YEAR_MONTH_FORMAT")}
                   for m in months]  # fmt: skip
    else:
        back = None
        choices = [{"link": link(y), "title": str(y)} for y in sorted({d.year for d in days})]
    return {"show": True, "back": back, "choices": choices}
