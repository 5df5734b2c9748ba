"""The promoter's side of the door, scoped per promoter like the rest of the back office:
devices and their pairing QR codes, the scan log, and per event the live check-in counts,
arrivals over time and the attendee list as CSV."""

import segno
from django.contrib import admin, messages
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from ticketing.backoffice.exports import csv_writer
from ticketing.backoffice.scoping import PromoterScopedAdmin, ReadOnly
from ticketing.events.admin import EventListFilter
from ticketing.orders.models import Order, Ticket
from ticketing.site import public_url

from . import selectors, services
from .models import CheckIn, Device, DoorEvent, DoorSettings, Scan


def pairing_url(device) -> str:
    return public_url(f"{reverse('checkin:scanner')}#pair={device.pairing_code}")


def spaced(code: str) -> str:
    return f"{code[:5]}-{code[5:]}"


@admin.register(Device)
class DeviceAdmin(PromoterScopedAdmin):
    list_display = ["name", "promoter", "state", "paired_at", "last_seen_at"]
    list_filter = [("promoter", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name"]
    fields = ["name", "promoter", "pairing", "created_at", "paired_at", "last_seen_at",
              "revoked_at"]  # fmt: skip
    readonly_fields = ["pairing", "created_at", "paired_at", "last_seen_at", "revoked_at"]
    actions = ["revoke", "new_pairing_code"]

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return [*fields, "promoter"] if obj else fields  # a device stays with its promoter

    @admin.display(description="state")
    def state(self, device):
        return device.state

    @admin.display(description="Pairing")
    def pairing(self, device):
        if device.pk is None:
            return "Save the device to get its pairing code."
        if device.revoked_at:
            return "Revoked: this device can no longer scan."
        if not device.pairing_code or device.pairing_expires_at <= timezone.now():
            return "Paired." if device.token_hash else "The pairing code expired: make a new one."
        url = pairing_url(device)
        qr = segno.make(url, error="m").svg_inline(scale=5, dark="#000", light="#fff",
                                                   title="Pairing QR code")  # fmt: skip
        return format_html(
            '<div class="checkin-pairing">{}<p>Scan this with the door phone’s camera, or open '
            "<strong>{}</strong> on it and type the code <strong>{}</strong>.<br>Single use, "
            "valid until {}.</p></div>",
            mark_safe(qr),  # noqa: S308 (segno draws paths of our own URL; no text in it)
            public_url(reverse("checkin:scanner")),
            spaced(device.pairing_code),
            timezone.localtime(device.pairing_expires_at).strftime("%Y-%m-%d %H:%M"),
        )

    def save_model(self, request, obj, form, change):
        if not change:
            fresh = services.create_device(obj.promoter, obj.name, created_by=request.user)
            obj.pk = fresh.pk
            obj.__dict__.update(fresh.__dict__)
            return
        super().save_model(request, obj, form, change)

    @admin.action(description="Revoke the selected devices (they stop scanning at once)")
    def revoke(self, request, queryset):
        n = services.revoke(self.editable(request, queryset))
        self.message_user(request, f"Revoked {n} device(s).", messages.SUCCESS)

    @admin.action(description="New pairing code (unpairs the phone paired so far)")
    def new_pairing_code(self, request, queryset):
        devices = list(self.editable(request, queryset).filter(revoked_at__isnull=True))
        for device in devices:
            services.new_pairing(device)
        self.message_user(
            request, f"New pairing codes for {len(devices)} device(s): open each to see its QR.",
            messages.SUCCESS,
        )  # fmt: skip


@admin.register(Scan)
class ScanAdmin(ReadOnly, PromoterScopedAdmin):
    promoter_path = "device__promoter"
    list_display = ["scanned_at", "event", "device", "result", "attendee", "offline", "conflict"]
    # Choices only among the user's own scans: a plain filter would list every promoter's doors.
    list_filter = ["result", "conflict", "offline", ("event", EventListFilter),
                   ("device", admin.RelatedOnlyFieldListFilter)]  # fmt: skip
    list_select_related = ["event__artist", "event__venue", "device", "ticket__order"]
    search_fields = ["ticket__order__name", "ticket__order__code"]
    date_hierarchy = "scanned_at"

    @admin.display(description="attendee")
    def attendee(self, scan):
        if scan.ticket is None:
            return "–"
        return f"{scan.ticket.order.name} ({scan.ticket.order.code})"


def _count(queryset):
    return Coalesce(
        Subquery(queryset.order_by().values("order__event").annotate(n=Count("pk")).values("n")),
        Value(0),
        output_field=IntegerField(),
    )


@admin.register(DoorEvent)
class DoorEventAdmin(ReadOnly, PromoterScopedAdmin):
    """Every event with its door counts; an event's page is its live check-in view."""

    promoter_path = "artist__promoter"
    list_display = ["event", "starts_at", "checked_in", "sold", "reentry", "door_links"]
    list_filter = [("artist", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "artist__name", "venue__city"]
    actions = ["allow_reentry", "forbid_reentry"]

    def get_queryset(self, request):
        tickets = Ticket.objects.filter(
            order__event=OuterRef("pk"), order__state=Order.State.CONFIRMED
        )
        return (
            super()
            .get_queryset(request)
            .select_related("artist", "venue")
            .annotate(
                sold_n=_count(tickets),
                checked_in_n=_count(tickets.filter(check_in__isnull=False)),
                reentry_on=Count("door_settings", filter=Q(door_settings__allow_reentry=True)),
            )
        )

    def has_change_permission(self, request, obj=None):
        # Re-entry is changed by the actions, for editors; the page itself only shows.
        return PromoterScopedAdmin.has_change_permission(self, request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self.has_change_permission(request):
            actions.pop("allow_reentry", None)
            actions.pop("forbid_reentry", None)
        return actions

    @admin.display(description="event", ordering="starts_at")
    def event(self, event):
        return str(event)

    @admin.display(description="checked in", ordering="checked_in_n")
    def checked_in(self, event):
        return event.checked_in_n

    @admin.display(description="sold", ordering="sold_n")
    def sold(self, event):
        return event.sold_n

    @admin.display(description="re-entry", boolean=True)
    def reentry(self, event):
        return bool(event.reentry_on)

    @admin.display(description="")
    def door_links(self, event):
        return format_html(
            '<a href="{}">attendees (CSV)</a> · <a href="{}">scan log</a>',
            reverse("admin:checkin_doorevent_attendees", args=[event.pk]),
            f"{reverse('admin:checkin_scan_changelist')}?event__id__exact={event.pk}",
        )

    def _set_reentry(self, request, queryset, allowed: bool):
        events = list(self.editable(request, queryset).values_list("pk", flat=True))
        for event_id in events:
            DoorSettings.objects.update_or_create(
                event_id=event_id, defaults={"allow_reentry": allowed}
            )
        word = "allowed" if allowed else "no longer allowed"
        self.message_user(request, f"Re-entry {word} at {len(events)} event(s).", messages.SUCCESS)

    @admin.action(description="Allow re-entry at the selected events")
    def allow_reentry(self, request, queryset):
        self._set_reentry(request, queryset, True)

    @admin.action(description="No re-entry at the selected events")
    def forbid_reentry(self, request, queryset):
        self._set_reentry(request, queryset, False)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<path:object_id>/live.json", wrap(self.live_json_view),
                 name="checkin_doorevent_live_json"),
            path("<path:object_id>/attendees.csv", wrap(self.attendees_view),
                 name="checkin_doorevent_attendees"),
            *super().get_urls(),
        ]  # fmt: skip

    def _event(self, request, object_id):
        event = self.get_object(request, object_id)  # another promoter's: 404
        if not self.has_view_permission(request, event):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        return event

    def change_view(self, request, object_id, form_url="", extra_context=None):
        event = self._event(request, object_id)
        live = selectors.live(event)
        peak = max((row["checked_in"] for row in live["arrivals"]), default=0)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": event,
            "title": f"Door: {event}",
            "live": live,
            "peak": peak,
            "zone": event.venue.zone,
            "arrivals": selectors.arrivals(event),
            "scans": selectors.scan_log(event, limit=50),
            "json_url": reverse("admin:checkin_doorevent_live_json", args=[event.pk]),
            "csv_url": reverse("admin:checkin_doorevent_attendees", args=[event.pk]),
            "log_url": f"{reverse('admin:checkin_scan_changelist')}?event__id__exact={event.pk}",
        }
        return TemplateResponse(request, "admin/checkin/doorevent/live.html", context)

    def live_json_view(self, request, object_id):
        response = JsonResponse(selectors.live(self._event(request, object_id)))
        patch_cache_control(response, private=True, no_store=True)
        return response

    def attendees_view(self, request, object_id):
        event = self._event(request, object_id)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="attendees-{event.slug}.csv"'
        writer = csv_writer(response)
        writer.writerow(["order", "name", "email", "ticket type", "ticket", "order state",
                         "payment", "checked in at", "door"])  # fmt: skip
        zone = event.venue.zone
        for ticket in selectors.attendees(event):
            check_in = _check_in(ticket)
            writer.writerow([
                ticket.order.code, ticket.order.name, ticket.order.email,
                ticket.ticket_type.name, ticket.pk, ticket.order.state,
                ticket.order.payment_status,
                timezone.localtime(check_in.checked_in_at, zone).strftime("%Y-%m-%d %H:%M:%S")
                if check_in else "",
                check_in.device.name if check_in else "",
            ])  # fmt: skip
        return response


def _check_in(ticket) -> CheckIn | None:
    try:
        return ticket.check_in
    except CheckIn.DoesNotExist:
        return None
