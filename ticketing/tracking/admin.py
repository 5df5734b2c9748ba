"""Analytics in the back office: views, clicks and click-through rate per artist and per event,
by day, by affiliate site and by event, as a chart, tables and a CSV export.

The page is the change list of the counters, replaced: it inherits the promoter scoping of every
admin page (`PromoterScopedAdmin`), so a promoter's staff count only their artists' hits.
"""

from __future__ import annotations

import csv
import datetime as dt

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from ticketing.backoffice.scoping import PromoterScopedAdmin, ReadOnly
from ticketing.events.models import Affiliate, Artist, Event

from . import selectors
from .charts import daily_chart
from .models import HitCounter

DEFAULT_DAYS = 30
MAX_DAYS = 366


class AnalyticsFilter(forms.Form):
    artist = forms.ModelChoiceField(queryset=Artist.objects.none(), required=False,
                                    empty_label="All artists")  # fmt: skip
    event = forms.ModelChoiceField(queryset=Event.objects.none(), required=False,
                                   empty_label="All events")  # fmt: skip
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, data, *, artists, events):
        super().__init__(data)
        self.fields["artist"].queryset = artists
        self.fields["event"].queryset = events.select_related("artist", "venue")

    def clean(self):
        data = super().clean()
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
            counters = self._counters(request, form.cleaned_data)
            start, end = form.cleaned_data["start"], form.cleaned_data["end"]
            if request.GET.get("format") == "csv":
                return self._csv(counters, form.cleaned_data)
            days = selectors.by_day(counters, start, end)
            context.update(
                subject=form.cleaned_data["event"] or form.cleaned_data["artist"],
                start=start, end=end,
                summary=selectors.summary(counters, start, end),
                days=days, chart=daily_chart(days),
                affiliates=selectors.by_affiliate(counters, start, end),
                events=None if form.cleaned_data["event"] else selectors.by_event(
                    counters, start, end),
                csv_query=_with(request.GET, format="csv"),
            )  # fmt: skip
        return TemplateResponse(request, "admin/tracking/analytics.html", context)

    def _counters(self, request, filters):
        counters = self.get_queryset(request)  # scoped to the user's promoters
        if filters["event"]:
            return counters.filter(event=filters["event"])
        if filters["artist"]:
            return counters.filter(artist=filters["artist"])
        return counters

    def _csv(self, counters, filters) -> HttpResponse:
        start, end = filters["start"], filters["end"]
        rows = selectors.by_day_event_affiliate(counters, start, end)
        artists = Artist.objects.in_bulk({row["artist"] for row in rows})
        events = Event.objects.select_related("venue").in_bulk({row["event"] for row in rows})
        affiliates = Affiliate.objects.in_bulk({row["affiliate"] for row in rows})
        subject = filters["event"] or filters["artist"]
        name = f"analytics-{getattr(subject, 'slug', 'all')}-{start}-{end}.csv"
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        writer = csv.writer(response)
        writer.writerow(["date", "artist", "event", "affiliate", "affiliate_domain", "views",
                         "clicks", "click_through_rate"])  # fmt: skip
        for row in rows:
            event = events.get(row["event"])
            affiliate = affiliates.get(row["affiliate"])
            rate = f"{row['clicks'] / row['views']:.4f}" if row["views"] else ""
            writer.writerow([
                row["day"].isoformat(),
                _cell(artists[row["artist"]].name),
                _cell(event.display_name if event else "(list of events)"),
                _cell(affiliate.name if affiliate else "(direct)"),
                _cell(affiliate.domain if affiliate else ""),
                row["views"], row["clicks"], rate,
            ])  # fmt: skip
        return response


def _cell(text: str) -> str:
    # A cell starting with = + - @ is a formula to a spreadsheet: keep names as text.
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


def _with(query, **params) -> str:
    query = query.copy()
    for key, value in params.items():
        query[key] = value
    return query.urlencode()
