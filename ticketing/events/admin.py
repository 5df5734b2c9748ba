import zoneinfo
from functools import partial

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Sum
from django.forms.models import BaseInlineFormSet
from django.http import JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.html import format_html

from ticketing.backoffice.local_time import (
    LocalDateChangeList,
    VenueDateTimeWidget,
    local_cell,
    local_label,
    venue_time,
)
from ticketing.backoffice.scoping import PromoterScopedAdmin, PromoterScopedInline
from ticketing.events.money import format_money
from ticketing.orders import selectors as order_selectors
from ticketing.orders import services as order_services
from ticketing.orders.models import Order
from ticketing.orders.selectors import LIVE_WINDOWS, live_inventory, recent_sales
from ticketing.queue import live as queue_live
from ticketing.refunds import admin as refunds_admin
from widget.snippets import artist_snippets

from . import services
from .forms import WHEN_DESCRIPTION, CopyDatesForm, DateRowFormSet, EventAdminForm
from .models import Affiliate, Artist, Event, Membership, Promoter, TicketType, Tour, Venue


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]

    # Staff lists are managed by superusers; owners see who has access and with which role.
    def has_add_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return True


@admin.register(Promoter)
class PromoterAdmin(PromoterScopedAdmin):
    promoter_path = "id"
    edit_roles = (Membership.Role.OWNER,)
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(Artist)
class ArtistAdmin(PromoterScopedAdmin):
    list_display = ["name", "slug", "promoter", "website"]
    list_filter = [("promoter", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    list_select_related = ["promoter"]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # The change page shows the embed code, with each affiliate of the artist's promoter.
        if obj is not None and obj.pk:
            context["embed_snippets"] = artist_snippets(obj)
        return super().render_change_form(request, context, add, change, form_url, obj)


@admin.register(Venue)
class VenueAdmin(PromoterScopedAdmin):
    list_display = ["name", "city", "region", "country", "time_zone", "capacity"]
    list_filter = ["country", ("promoter", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "city", "region"]


@admin.register(Tour)
class TourAdmin(PromoterScopedAdmin):
    promoter_path = "artist__promoter"
    list_display = ["name", "artist"]
    list_filter = [("artist", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "artist__name"]
    autocomplete_fields = ["artist"]
    list_select_related = ["artist"]

    def get_urls(self):
        add_dates = path("<path:object_id>/add-dates/", self.admin_site.admin_view(
            self.add_dates_view), name="events_tour_add_dates")  # fmt: skip
        return [add_dates, *super().get_urls()]

    def add_dates_view(self, request, object_id):
        """Several dates at once, one row per date and venue, copied from a template event."""
        tour = self.get_object(request, object_id)
        if not self.has_change_permission(request, tour):
            raise PermissionDenied
        event_admin = self.admin_site.get_model_admin(Event)
        templates = event_admin.editable(request, Event.objects.filter(artist=tour.artist_id))
        templates = templates.select_related("artist", "venue").order_by("-starts_at")
        return copy_dates_view(
            self, request, templates=templates, tour=tour, title=f"Add dates to {tour}",
            done_url=reverse("admin:events_event_changelist") + f"?tour__id__exact={tour.pk}",
        )  # fmt: skip


# Every moment typed or shown in the event's forms is the venue's (see local_time).
VENUE_TIME_WIDGETS = {models.DateTimeField: {"widget": VenueDateTimeWidget}}


class TicketTypeFormSet(BaseInlineFormSet):
    """Checks each changed ticket type's capacity against its counters read under a lock held
    until the save commits: a fan who buys between the check and the save waits for it instead
    of turning the save into a database error (the counters themselves are never saved here)."""

    def clean(self):
        super().clean()
        changed = {
            form.instance.pk: form
            for form in self.forms
            if form.instance.pk
            and form.has_changed()
            and "capacity" in form.cleaned_data  # not already refused
            and not form.cleaned_data.get("DELETE")
        }
        if not changed:
            return
        taken = services.lock_for_capacity_change(self.instance.pk, changed)
        for pk, form in changed.items():
            try:
                form.instance.validate_capacity(taken.get(pk, 0))
            except ValidationError as error:
                form.add_error(None, error)


class TicketTypeInline(PromoterScopedInline):
    model = TicketType
    formset = TicketTypeFormSet
    extra = 0
    fields = [
        "name", "price", "currency", "capacity", "max_per_order",
        "sales_start_at", "sales_end_at", "position", "sold", "held",
    ]  # fmt: skip
    readonly_fields = ["sold", "held"]
    formfield_overrides = VENUE_TIME_WIDGETS


class EventListFilter(admin.RelatedOnlyFieldListFilter):
    """Filter by event, for change lists of rows that belong to an event (orders, holds): the
    events the user's rows have, each named with its local date."""

    def field_choices(self, field, request, model_admin):
        pks = model_admin.get_queryset(request).values_list(f"{self.field_path}__pk", flat=True)
        events = Event.objects.filter(pk__in=pks).select_related("artist", "venue")
        return [(event.pk, str(event)) for event in events]


class CancelEventsForm(forms.Form):
    """The cancel action's confirmation: what happens to the events' orders."""

    orders = forms.ChoiceField(
        label="Their orders",
        choices=[
            ("cancel", "Cancel every order (its seats go back) and email each fan"),
            refunds_admin.REFUND_EVERY_ORDER,
        ],
        initial=refunds_admin.REFUND_EVERY_ORDER[0],  # cancelling alone keeps card payments
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label="Message to fans",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text="Optional; it goes into each fan's email, e.g. whether a new date is planned.",
    )


@admin.register(Event)
class EventAdmin(PromoterScopedAdmin):
    promoter_path = "artist__promoter"
    form = EventAdminForm
    formfield_overrides = VENUE_TIME_WIDGETS
    list_display = ["event", "starts", "on_sale", "published", "status", "tickets_sold"]
    list_filter = [
        "is_published", "status", ("artist", admin.RelatedOnlyFieldListFilter),
        ("tour", admin.RelatedOnlyFieldListFilter), "venue__country",
    ]  # fmt: skip
    search_fields = ["name", "slug", "artist__name", "venue__name", "venue__city"]
    date_hierarchy = "starts_at"  # in local days: LocalDateChangeList
    ordering = ["starts_at"]
    autocomplete_fields = ["artist", "tour", "venue"]
    list_select_related = ["artist", "venue"]
    inlines = [TicketTypeInline]
    actions = ["publish", "unpublish", "cancel", "postpone", "duplicate"]
    fieldsets = [
        (None, {"fields": ["artist", "tour", "venue", "name", "slug"]}),
        ("When", {"fields": ["starts_at", "doors_at", "on_sale_at", "off_sale_at"],
                  "description": WHEN_DESCRIPTION}),
        (
            "Sales",
            {"fields": ["is_published", "status", "hold_minutes", "payment_minutes", "age_limit"]},
        ),
    ]  # fmt: skip

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("artist", "venue")  # every event is named with its venue's date
            .annotate(
                capacity_total=Sum("ticket_types__capacity"),
                sold_total=Sum("ticket_types__sold"),
            )
        )

    def get_changelist(self, request, **kwargs):
        return LocalDateChangeList

    @admin.display(description="Event", ordering="starts_at")
    def event(self, event):
        return format_html('{}<br><span class="quiet">{}</span>', event.display_name,
                           event.venue.name)  # fmt: skip

    @admin.display(description="Starts", ordering="starts_at")
    def starts(self, event):
        return local_cell(event.starts_at, event.venue.time_zone)

    @admin.display(description="On sale", ordering="on_sale_at")
    def on_sale(self, event):
        return local_cell(event.on_sale_at, event.venue.time_zone)

    @admin.display(description="Published", boolean=True, ordering="is_published")
    def published(self, event):
        return event.is_published

    @admin.display(description="Sold", ordering="sold_total")
    def tickets_sold(self, event):
        return f"{event.sold_total or 0} / {event.capacity_total or 0}"

    # --- the change form, in the venue's time --------------------------------------------
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        with venue_time(self._form_zone(request, object_id)):
            response = super().changeform_view(request, object_id, form_url, extra_context)
            if hasattr(response, "render"):
                response.render()  # the form's moments render in the venue's zone too
        return response

    def _form_zone(self, request, object_id) -> zoneinfo.ZoneInfo | None:
        """The zone the form reads and shows moments in: that of the venue chosen in the form
        when it is sent (so a moved event keeps its wall-clock times), else the event's venue,
        else the one zone all the user's venues share; None while it cannot be known."""
        venues = self._venue_choices(request)
        chosen = request.POST.get("venue") if request.method == "POST" else request.GET.get("venue")
        zones = []
        if chosen:
            zones = _values(venues.filter(pk=chosen), "time_zone")
        if not zones and object_id:
            # Only a zone: a user who may not see the event gets the admin's 404 all the same.
            zones = _values(Event.objects.filter(pk=object_id), "venue__time_zone")
        if not zones:
            zones = list(set(venues.values_list("time_zone", flat=True)))
        return zoneinfo.ZoneInfo(zones[0]) if len(zones) == 1 else None

    def _venue_choices(self, request):
        return self.admin_site.get_model_admin(Venue).editable_queryset(request)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # The venue's zone and its offset now, so that the page relabels its times (and the
        # admin's "Now" shortcuts) as soon as another venue is picked.
        now = timezone.now()
        context["venue_zones"] = {
            venue.pk: [
                venue.time_zone,
                int(timezone.localtime(now, venue.zone).utcoffset().total_seconds()),
            ]
            for venue in self._venue_choices(request).only("time_zone")
        }
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_model(self, request, obj, form, change):
        moved_from = None
        if change and "venue" in form.changed_data:
            moved_from = Venue.objects.get(pk=form.initial["venue"]).time_zone
        services.save_event(obj)
        if moved_from and moved_from != obj.venue.time_zone:
            self.message_user(
                request,
                f"The event moved from {moved_from} to {obj.venue.time_zone}. Its times kept "
                f"their wall-clock values, now in {obj.venue.time_zone}: it starts "
                f"{local_label(obj.starts_at, obj.venue.time_zone)}, and the ticket types' "
                "sales windows moved likewise.",
                messages.WARNING,
            )

    # --- actions -------------------------------------------------------------------------
    @admin.action(description="Publish selected events", permissions=["change"])
    def publish(self, request, queryset):
        count = services.set_published(self.editable(request, queryset), True)
        self.message_user(request, f"{count} event(s) published.", messages.SUCCESS)

    @admin.action(description="Unpublish selected events", permissions=["change"])
    def unpublish(self, request, queryset):
        count = services.set_published(self.editable(request, queryset), False)
        self.message_user(request, f"{count} event(s) unpublished.", messages.SUCCESS)

    @admin.action(description="Cancel selected events…", permissions=["change"])
    def cancel(self, request, queryset):
        """A confirmation page first (like delete's): what the cancellation affects, and what
        happens to the orders. Again on events already cancelled, it cancels the orders left."""
        events = self.editable(request, queryset).select_related("artist", "venue")
        form = CancelEventsForm(request.POST if request.POST.get("post") else None)
        if form.is_valid() and form.cleaned_data["orders"] == "cancel":
            refunds_admin.refuse_cancelling_card_payments(form, events)
        if form.is_valid() and form.cleaned_data["orders"] == refunds_admin.REFUND_EVERY_ORDER[0]:
            count = services.cancel_events(events)
            started = refunds_admin.start_refund_jobs(
                self, request, events, form.cleaned_data["note"]
            )
            for event in events:
                self.log_change(request, event, "Cancelled; refunding every order.")
            self.message_user(
                request,
                f"{count} event(s) cancelled; refunding {sum(j.orders_total for j in started)} "
                "order(s) in the background, each fan emailed.",
                messages.WARNING,
            )
            return redirect(refunds_admin.refund_jobs_url(started))
        if form.is_valid():
            count = services.cancel_events(events)
            result = order_services.cancel_event_orders(events, note=form.cleaned_data["note"])
            for event in events:
                self.log_change(request, event, "Cancelled, with its orders.")
            self.message_user(
                request,
                f"{count} event(s) cancelled; {result.cancelled} order(s) cancelled, each fan "
                "emailed.",
                messages.WARNING,
            )
            if result.remaining:
                self.message_user(
                    request,
                    f"{result.remaining} order(s) are still confirmed: cancel the same events "
                    "again to go on.",
                    messages.ERROR,
                )
            return None  # back to the change list
        affected = order_selectors.confirmed_orders_by_event(events)
        rows = [(event, affected.get(event.pk, {})) for event in events]
        context = {
            **self.admin_site.each_context(request),
            "title": "Cancel events",
            "opts": self.opts,
            "rows": rows,
            "totals": {
                name: sum(counts.get(name, 0) for _, counts in rows)
                for name in ("orders", "tickets")
            },
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        return TemplateResponse(request, "admin/events/event/cancel_confirmation.html", context)

    @admin.action(description="Postpone an event…", permissions=["change"])
    def postpone(self, request, queryset):
        return refunds_admin.postpone_view(self, request, queryset)

    @admin.action(description="Duplicate to other dates and venues…", permissions=["add"])
    def duplicate(self, request, queryset):
        events = list(self.editable(request, queryset)[:2])
        if len(events) != 1:
            self.message_user(request, "Choose one event to duplicate.", messages.WARNING)
            return None
        return redirect("admin:events_event_duplicate", events[0].pk)

    # --- pages of their own: duplicate, live sales -----------------------------------------
    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<path:object_id>/duplicate/", wrap(self.duplicate_view),
                 name="events_event_duplicate"),
            path("<path:object_id>/live/", wrap(self.live_view), name="events_event_live"),
            path("<path:object_id>/live.json", wrap(self.live_json_view),
                 name="events_event_live_json"),
            path("<path:object_id>/queue-rate/",
                 wrap(partial(queue_live.rate_view, model_admin=self)),
                 name="events_event_queue_rate"),
            *super().get_urls(),
        ]  # fmt: skip

    def duplicate_view(self, request, object_id):
        event = self.get_object(request, object_id)
        if not (self.has_add_permission(request) and self.has_change_permission(request, event)):
            raise PermissionDenied
        changelist = reverse("admin:events_event_changelist")
        return copy_dates_view(
            self, request, templates=Event.objects.filter(pk=event.pk), tour=None,
            title=f"Duplicate {event}",
            done_url=f"{changelist}?artist__id__exact={event.artist_id}",
        )  # fmt: skip

    def live_view(self, request, object_id):
        event = self._live_event(request, object_id)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": event,
            "title": f"Live sales: {event}",
            "live": live_payload(event),
            "json_url": reverse("admin:events_event_live_json", args=[event.pk]),
        }
        return TemplateResponse(request, "admin/events/event/live.html", context)

    def live_json_view(self, request, object_id):
        response = JsonResponse(live_payload(self._live_event(request, object_id)))
        patch_cache_control(response, private=True, no_store=True)
        return response

    def _live_event(self, request, object_id) -> Event:
        event = self.get_object(request, object_id)  # another promoter's event: 404
        if not self.has_view_permission(request, event):
            raise PermissionDenied
        return event


def live_payload(event: Event) -> dict:
    """What the live view shows, as its JSON endpoint sends it."""
    now = timezone.now()
    inventory = live_inventory(event, now)
    sales = recent_sales(Order.objects.filter(event=event), now)
    return {
        "generated_at": now.isoformat(timespec="seconds"),
        "queue": queue_live.figures(event),
        "ticket_types": [
            {"id": row.ticket_type.pk, "name": row.ticket_type.name,
             "capacity": row.ticket_type.capacity, "sold": row.sold, "held": row.held,
             "left": row.left}
            for row in inventory
        ],
        "totals": {
            "capacity": sum(row.ticket_type.capacity for row in inventory),
            "sold": sum(row.sold for row in inventory),
            "held": sum(row.held for row in inventory),
            "left": sum(row.left for row in inventory),
        },
        "sales": [
            {"window": f"{minutes}" if minutes else "all", "orders": figures.orders,
             "tickets": figures.tickets,
             "revenue": ", ".join(format_money(amount, currency)
                                  for currency, amount in figures.revenue) or "–"}
            for minutes, figures in ((m, sales[m]) for m in (*LIVE_WINDOWS, None))
        ],
    }  # fmt: skip


def _values(queryset, field: str) -> list:
    """The values of one field, [] for a key that is not even a number."""
    try:
        return list(queryset.values_list(field, flat=True))
    except (ValueError, ValidationError):
        return []


def copy_dates_view(model_admin, request, *, templates, tour, title, done_url):
    """The form that copies an event to several dates and venues at once (one row each), for an
    event's "Duplicate" and a tour's "Add dates"."""
    venues = model_admin.admin_site.get_model_admin(Venue).editable_queryset(request)
    template = templates.select_related("venue").first()
    data = request.POST if request.method == "POST" else None
    shared = CopyDatesForm(data, templates=templates, initial={"template": template})
    initial = (
        {"venue": template.venue_id, "time": template.local_starts_at.time()} if template else {}
    )
    rows = DateRowFormSet(data, prefix="dates", initial=[initial] * DateRowFormSet.extra,
                          form_kwargs={"venues": venues}, shared=shared)  # fmt: skip
    if data is not None and shared.is_valid() and rows.is_valid():
        copies = services.save_copies(rows.planned, tour=tour)
        model_admin.message_user(
            request,
            f"{len(copies)} draft(s) created, unpublished: "
            + "; ".join(
                local_label(c.starts_at, c.venue.time_zone) + f" at {c.venue}" for c in copies
            ),
            messages.SUCCESS,
        )
        return redirect(done_url)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": title,
        "template_event": template,
        "shared": shared,
        "rows": rows,
        "media": model_admin.media + shared.media + rows.media,
    }
    return TemplateResponse(request, "admin/events/event/copy_dates.html", context)


@admin.register(Affiliate)
class AffiliateAdmin(PromoterScopedAdmin):
    list_display = ["name", "domain", "public_key", "is_active", "promoter"]
    list_filter = ["is_active", ("promoter", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "domain", "public_key"]
    readonly_fields = ["public_key"]
