"""The refunds in the back office: a "Refund…" page on each order (per ticket, with a reason,
seats back on sale or not), the refunds and refund jobs (with their progress), and what the
event admin's cancel and postpone actions call. Scoped per promoter like everything else
(`ticketing.backoffice.scoping`): another promoter's order is a 404, viewers see but do not
refund."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from ticketing.backoffice.scoping import PromoterScopedAdmin, PromoterScopedInline, ReadOnly
from ticketing.events.money import format_money, from_minor
from ticketing.orders.models import Order, Ticket

from . import jobs, services
from .errors import RefundRefused
from .models import Refund, RefundJob

REFUND_EVERY_ORDER = (
    "refund",
    "Refund every order (a background job: seats go back, card payments are refunded) and "
    "email each fan",
)


def _amount(refund) -> str:
    return format_money(from_minor(refund.amount, refund.currency), refund.currency)


# --- On the order: "Refund…" ----------------------------------------------------------------


class TicketChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, ticket):
        return f"{ticket.ticket_type.name} · {ticket.price} · #{ticket.pk}"


class RefundForm(forms.Form):
    tickets = TicketChoice(
        queryset=Ticket.objects.none(), widget=forms.CheckboxSelectMultiple,
        help_text="Only the tickets chosen are refunded (a partial refund) and stop being valid.",
    )  # fmt: skip
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
    restock = forms.BooleanField(
        label="Put the seats back on sale", required=False, initial=True,
        help_text="Leave unticked to keep them off sale (e.g. a seat that is broken).",
    )  # fmt: skip

    def __init__(self, *args, order, **kwargs):
        super().__init__(*args, **kwargs)
        live = order.tickets.live().select_related("ticket_type")
        self.fields["tickets"].queryset = live
        self.fields["tickets"].initial = list(live.values_list("pk", flat=True))


class RefundInline(ReadOnly, PromoterScopedInline):
    model = Refund
    extra = 0
    can_delete = False
    fields = ["created_at", "amount_display", "state", "reason", "restock", "created_by"]
    readonly_fields = fields

    @admin.display(description="Amount")
    def amount_display(self, refund):
        return _amount(refund)


class OrderRefundsMixin:
    """For the order admin: the refund page and its link (`admin/orders/order/change_form.html`)."""

    def get_urls(self):
        return [
            path("<path:object_id>/refund/", self.admin_site.admin_view(self.refund_view),
                 name="orders_order_refund"),
            *super().get_urls(),
        ]  # fmt: skip

    def refund_view(self, request, object_id):
        order = self.get_object(request, object_id)  # another promoter's order: 404
        if not self.has_change_permission(request, order):
            raise PermissionDenied
        form = RefundForm(request.POST or None, order=order)
        if request.method == "POST" and form.is_valid():
            try:
                refund = services.refund_tickets(
                    order, [t.pk for t in form.cleaned_data["tickets"]],
                    reason=form.cleaned_data["reason"], restock=form.cleaned_data["restock"],
                    by=request.user,
                )  # fmt: skip
            except RefundRefused as error:
                form.add_error(None, error.message)
            else:
                self.log_change(request, order, f"Refunded {_amount(refund)}: {refund.reason}")
                self.message_user(
                    request,
                    f"Refunded {_amount(refund)} for {refund.lines.count()} ticket(s) "
                    f"({refund.get_state_display()}); the fan is emailed.",
                    messages.SUCCESS if refund.state != Refund.State.PENDING else messages.WARNING,
                )
                return redirect("admin:orders_order_change", order.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": order,
            "title": f"Refund order {order.code}",
            "form": form,
            "total": format_money(order.total, order.currency),
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/refunds/refund_form.html", context)


@admin.register(Refund)
class RefundAdmin(ReadOnly, PromoterScopedAdmin):
    promoter_path = "order__event__artist__promoter"
    list_display = ["order", "amount_display", "state", "reason", "restock", "created_by",
                    "created_at"]  # fmt: skip
    list_filter = ["state", "provider", "restock"]
    search_fields = ["=order__code", "order__email", "provider_refund_id"]
    list_select_related = ["order", "created_by"]
    fields = ["order", "amount_display", "currency", "state", "provider", "provider_refund_id",
              "reason", "restock", "job", "created_by", "created_at", "updated_at",
              "last_error"]  # fmt: skip
    readonly_fields = fields

    @admin.display(description="Amount", ordering="amount")
    def amount_display(self, refund):
        return _amount(refund)


# --- A cancelled event's refund job -------------------------------------------------------


@admin.register(RefundJob)
class RefundJobAdmin(ReadOnly, PromoterScopedAdmin):
    """Progress of "refund every order"; the change page refreshes itself while it runs."""

    promoter_path = "event__artist__promoter"
    list_display = ["event", "progress", "state", "created_at", "finished_at"]
    list_filter = ["state"]
    list_select_related = ["event__artist", "event__venue"]
    fields = ["event", "progress", "state", "note", "created_by", "created_at", "finished_at",
              "last_error"]  # fmt: skip
    readonly_fields = fields

    @admin.display(description="Progress")
    def progress(self, job):
        return format_html(
            '<progress max="{}" value="{}"></progress> {} of {} orders refunded',
            job.orders_total or 1,
            job.orders_done,
            job.orders_done,
            job.orders_total,
        )


def start_refund_jobs(model_admin, request, events, note: str) -> list[RefundJob]:
    """The cancel action's "refund every order": one job per (cancelled) event, started in the
    background; the admin is sent to their progress."""
    started = []
    for event in events:
        job = services.start_refund_job(event, note=note, by=request.user)
        jobs.kick(job.pk)
        started.append(job)
    return started


def refuse_cancelling_card_payments(form, events) -> None:
    """Cancelling alone would keep the fans' card payments: then only refunding is offered."""
    paid = Order.objects.filter(event__in=events, state=Order.State.CONFIRMED,
                                payment_provider="stripe", payment_status="paid")  # fmt: skip
    if paid.exists():
        form.add_error(
            "orders",
            f"{paid.count()} of these orders were paid by card: refund every order, so that "
            "their fans get their money back.",
        )


def refund_jobs_url(started: list[RefundJob]) -> str:
    if len(started) == 1:
        return reverse("admin:refunds_refundjob_change", args=[started[0].pk])
    return reverse("admin:refunds_refundjob_changelist")


# --- Postponing an event --------------------------------------------------------------------

LOCAL_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class PostponeForm(forms.Form):
    new_starts_at = forms.DateTimeField(label="New start", widget=LOCAL_INPUT,
                                        help_text="In the venue's time.")  # fmt: skip
    refunds_until = forms.DateTimeField(
        label="Refunds on request until", widget=LOCAL_INPUT,
        help_text="In the venue's time. Until then each fan may ask for a refund on their order "
        "page.",
    )  # fmt: skip
    note = forms.CharField(label="Message to fans", required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 4, "cols": 60}))  # fmt: skip

    def clean(self):
        data = super().clean()
        new, until = data.get("new_starts_at"), data.get("refunds_until")
        if new and new <= timezone.now():
            self.add_error("new_starts_at", "The new date must be in the future.")
        if until and until <= timezone.now():
            self.add_error("refunds_until", "The refund window must end in the future.")
        return data


def postpone_view(model_admin, request, queryset):
    """The event admin's "Postpone…" action: one event, a new start and a refund window."""
    events = list(model_admin.editable(request, queryset).select_related("artist", "venue")[:2])
    if len(events) != 1:
        model_admin.message_user(request, "Choose one event to postpone.", messages.WARNING)
        return None
    event = events[0]
    with timezone.override(event.venue.zone):  # the form reads and shows the venue's time
        form = PostponeForm(request.POST if request.POST.get("post") else None)
        if form.is_valid():
            try:
                _, emailed = services.postpone_event(
                    event, new_starts_at=form.cleaned_data["new_starts_at"],
                    refunds_until=form.cleaned_data["refunds_until"],
                    note=form.cleaned_data["note"], by=request.user,
                )  # fmt: skip
            except RefundRefused as error:
                form.add_error(None, error.message)
            else:
                model_admin.log_change(request, event, "Postponed.")
                model_admin.message_user(
                    request, f"{event.display_name} postponed; {emailed} fan(s) emailed.",
                    messages.WARNING,
                )  # fmt: skip
                return None
        context = {
            **model_admin.admin_site.each_context(request),
            "title": f"Postpone {event}",
            "opts": model_admin.opts,
            "event": event,
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": model_admin.media,
        }
        response = TemplateResponse(request, "admin/refunds/postpone.html", context)
        response.render()
    return response
