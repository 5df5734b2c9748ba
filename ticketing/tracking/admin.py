"""Analytics in the back office: the sales funnel views -> clicks -> orders (with tickets and
revenue), click-through rate and conversion, per artist and per event, in total, by day, by
affiliate site and by event, as charts, tables and a CSV export.

The page is the change list of the counters, replaced: it inherits the promoter scoping of every
admin page (`PromoterScopedAdmin`), and the orders it counts are scoped the same way, so a
promoter's staff count only their artists' hits and orders.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.validators import MaxValueValidator, MinValueValidator
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from ticketing.backoffice.exports import csv_writer
from ticketing.backoffice.scoping import PromoterScopedAdmin, ReadOnly, scoped
from ticketing.events.models import Affiliate, Artist, Event
from ticketing.orders.models import Order

from . import selectors
from .charts import ORDERS_AND_TICKETS, VIEWS_AND_CLICKS, daily_chart
from .models import HitCounter

DEFAULT_DAYS = 30
MAX_DAYS = 366
# Dates a filter may name: there are no hits or orders before the platform, and the bounds keep
# the range arithmetic (start - 29 days, end + 1 day) inside what a date can hold.
FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2099, 12, 31)
DATE_BOUNDS = [
    MinValueValidator(FIRST_DAY, f"Choose a date from {FIRST_DAY} to {LAST_DAY}."),
    MaxValueValidator(LAST_DAY, f"Choose a date from {FIRST_DAY} to {LAST_DAY}."),
]


class AnalyticsFilter(forms.Form):
    artist = forms.ModelChoiceField(queryset=Artist.objects.none(), required=False,
                                    empty_label="All artists")  # fmt: skip
    event = forms.ModelChoiceField(queryset=Event.objects.none(), required=False,
                                   empty_label="All events")  # fmt: skip
    start = forms.DateField(required=False, validators=DATE_BOUNDS,
                            widget=forms.DateInput(attrs={"type": "date"}))  # fmt: skip
    end = forms.DateField(required=False, validators=DATE_BOUNDS,
                          widget=forms.DateInput(attrs={"type": "date"}))  # fmt: skip

    def __init__(self, data, *, artists, events):
        super().__init__(data)
        self.fields["artist"].queryset = artists
        self.fields["event"].queryset = events.select_related("artist", "venue")

    def clean(self):
        data = super().clean()
        if self.errors:
            return data  # a date that is not one, or out of bounds: nothing to compute from
        end = data.get("end") or timezone.now().date()
        start = data.get("start") or end - dt.timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            raise forms.ValidationError("The start date is after the end date.")
        if (end - start).days >= MAX_DAYS:
            raise forms.ValidationError(f"Choose at most {MAX_DAYS} days.")
        event, artist = data.get("event"), data.get("artist")
        if event and artist and event.artist_id != artist.pk:
            raise forms.ValidationError("That event is not one of the artist's.")
        data.update(start=start, end=end)
        return data


@admin.register(HitCounter)
class AnalyticsAdmin(ReadOnly, PromoterScopedAdmin):
    promoter_path = "artist__promoter"

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        artists = self.admin_site.get_model_admin(Artist).get_queryset(request)
        events = self.admin_site.get_model_admin(Event).get_queryset(request)
        query = request.GET.copy()  # the default range is shown in the form as well
        today = timezone.now().date()
        query.setdefault("end", today.isoformat())
        query.setdefault("start", (today - dt.timedelta(days=DEFAULT_DAYS - 1)).isoformat())
        form = AnalyticsFilter(query, artists=artists, events=events)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Analytics",
            "form": form,
            **(extra_context or {}),
        }
        if form.is_valid():
            filters = form.cleaned_data
            counters, orders = self._hits_and_orders(request, filters)
            start, end = filters["start"], filters["end"]
            if request.GET.get("format") == "csv":
                return self._csv(counters, orders, filters)
            days = selectors.by_day(counters, orders, start, end)
            context.update(
                subject=filters["event"] or filters["artist"],
                start=start, end=end,
                summary=selectors.summary(counters, orders, start, end),
                days=days,
                traffic_chart=daily_chart(days, VIEWS_AND_CLICKS),
                sales_chart=daily_chart(days, ORDERS_AND_TICKETS),
                affiliates=selectors.by_affiliate(counters, orders, start, end),
                events=None if filters["event"] else selectors.by_event(
                    counters, orders, start, end),
                direct=selectors.DIRECT,
                csv_query=_with(request.GET, format="csv"),
            )  # fmt: skip
        # A filter that is not valid (a date out of range, too long a range) is the client's error.
        status = 400 if form.errors else 200
        return TemplateResponse(request, "admin/tracking/analytics.html", context, status=status)

    def _hits_and_orders(self, request, filters):
        """The counters and the orders the page counts: the user's promoters', narrowed to the
        chosen event or artist."""
        counters = self.get_queryset(request)
        orders = scoped(request, Order.objects.all(), "event__artist__promoter")
        if filters["event"]:
            return counters.filter(event=filters["event"]), orders.filter(event=filters["event"])
        if filters["artist"]:
            artist = filters["artist"]
            return counters.filter(artist=artist), orders.filter(event__artist=artist)
        return counters, orders

    def _csv(self, counters, orders, filters) -> HttpResponse:
        start, end = filters["start"], filters["end"]
        rows = selectors.by_day_event_affiliate(counters, orders, start, end)
        keys = [key for key, _ in rows]
        artists = Artist.objects.in_bulk({artist for _, artist, _, _ in keys})
        events = Event.objects.select_related("artist", "venue").in_bulk({e for _, _, e, _ in keys})
        affiliates = Affiliate.objects.in_bulk({affiliate for *_, affiliate in keys})
        currencies = sorted({currency for _, figures in rows for currency, _ in figures.revenue})
        subject = filters["event"] or filters["artist"]
        name = f"analytics-{getattr(subject, 'slug', 'all')}-{start}-{end}.csv"
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        writer = csv_writer(response)
        writer.writerow(["date", "artist", "event", "affiliate", "affiliate_domain", "views",
                         "clicks", "click_through_rate", "orders", "tickets", "conversion_rate",
                         *(f"revenue_{currency}" for currency in currencies)])  # fmt: skip
        for (day, artist, event, affiliate), figures in rows:
            event, affiliate = events.get(event), affiliates.get(affiliate)
            revenue = dict(figures.revenue)
            writer.writerow([
                day.isoformat(),
                artists[artist].name,
                str(event) if event else "(list of events)",  # named with its local date
                affiliate.name if affiliate else "(direct)",
                affiliate.domain if affiliate else "",
                figures.views, figures.clicks, _rate(figures.click_through_rate),
                figures.orders, figures.tickets, _rate(figures.conversion_rate),
                *(revenue.get(currency, "") for currency in currencies),
            ])  # fmt: skip
        return response


def _rate(rate: float | None) -> str:
    return "" if rate is None else f"{rate:.4f}"


def _with(query, **params) -> str:
    query = query.copy()
    for key, value in params.items():
        query[key] = value
    return query.urlencode()
