from django.contrib import admin, messages
from django.db.models import Count
from django.http import StreamingHttpResponse
from django.utils import timezone

from ticketing.backoffice.exports import csv_writer
from ticketing.backoffice.scoping import PromoterScopedAdmin, PromoterScopedInline, ReadOnly
from ticketing.events.admin import EventListFilter
from ticketing.events.money import format_money
from ticketing.refunds.admin import OrderRefundsMixin, RefundInline

from . import services
from .models import Hold, HoldItem, Order, Ticket

CSV_COLUMNS = [
    "code", "state", "created_at", "event", "name", "email", "tickets", "total", "currency",
    "payment_provider", "payment_status", "affiliate", "click_id", "cancelled_at",
]  # fmt: skip


class ReadOnlyInline(ReadOnly, PromoterScopedInline):
    extra = 0
    can_delete = False


class TicketInline(ReadOnlyInline):
    model = Ticket
    fields = ["ticket_type", "price", "secret"]
    readonly_fields = fields


@admin.register(Order)
class OrderAdmin(OrderRefundsMixin, PromoterScopedAdmin):
    promoter_path = "event__artist__promoter"
    list_display = [
        "code", "name", "email", "event", "ticket_count", "total_display", "state",
        "payment_status", "affiliate", "created_at",
    ]  # fmt: skip
    list_filter = [
        "state", "payment_status", "payment_provider",
        ("event", EventListFilter),
        ("affiliate", admin.RelatedOnlyFieldListFilter), "created_at",
    ]  # fmt: skip
    search_fields = ["=code", "email", "name"]
    date_hierarchy = "created_at"
    list_select_related = ["event__artist", "event__venue", "affiliate"]
    fields = [
        "code", "state", "event", "name", "email", "total", "currency", "payment_provider",
        "payment_status", "affiliate", "click_id", "created_at", "cancelled_at",
    ]  # fmt: skip
    # Orders are records: staff may correct a fan's name or email, nothing else by hand.
    readonly_fields = [f for f in fields if f not in ("name", "email")]
    inlines = [TicketInline, RefundInline]
    actions = ["cancel_orders", "export_csv"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(ticket_total=Count("tickets"))

    @admin.display(description="Tickets", ordering="ticket_total")
    def ticket_count(self, order):
        return order.ticket_total

    @admin.display(description="Total", ordering="total")
    def total_display(self, order):
        return format_money(order.total, order.currency)

    def has_add_permission(self, request):
        return False  # orders come from checkout

    def has_delete_permission(self, request, obj=None):
        return False  # cancel instead: it returns the seats and keeps the record

    @admin.action(description="Cancel selected orders (seats go back)", permissions=["change"])
    def cancel_orders(self, request, queryset):
        chosen = self.editable(request, queryset)
        # Cancelling keeps the money: an order paid by card is refunded instead ("Refund…").
        paid_by_card = chosen.filter(payment_provider="stripe", payment_status="paid")
        unpaid = chosen.exclude(payment_provider="stripe", payment_status="paid")
        cancelled = sum(services.cancel_order(order) for order in unpaid)
        self.message_user(request, f"{cancelled} order(s) cancelled.", messages.WARNING)
        if skipped := paid_by_card.filter(state=Order.State.CONFIRMED).count():
            self.message_user(
                request,
                f"{skipped} order(s) paid by card were left as they are: refund them instead "
                "(Refund… on the order), so the fan gets the money back.",
                messages.ERROR,
            )

    @admin.action(description="Export selected orders as CSV", permissions=["view"])
    def export_csv(self, request, queryset):
        rows = queryset.select_related("event__artist", "event__venue", "affiliate").order_by(
            "created_at"
        )
        writer = csv_writer(_Echo())

        def lines():
            yield writer.writerow(CSV_COLUMNS)
            for order in rows.iterator(chunk_size=500):
                yield writer.writerow(_csv_row(order))

        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="orders-{stamp}.csv"'
        return response


class _Echo:
    def write(self, value):
        return value


def _csv_row(order) -> list:
    return [
        order.code, order.state, order.created_at.isoformat(), str(order.event), order.name,
        order.email, order.ticket_total, order.total, order.currency, order.payment_provider,
        order.payment_status, order.affiliate.public_key if order.affiliate else "",
        order.click_id or "", order.cancelled_at.isoformat() if order.cancelled_at else "",
    ]  # fmt: skip


class HoldItemInline(ReadOnlyInline):
    model = HoldItem
    fields = ["ticket_type", "quantity"]
    readonly_fields = fields


@admin.register(Hold)
class HoldAdmin(ReadOnly, PromoterScopedAdmin):
    """Who is holding what right now, for the on-sale minute."""

    promoter_path = "event__artist__promoter"
    list_display = ["__str__", "event", "state", "created_at", "expires_at", "affiliate"]
    list_filter = ["state", ("event", EventListFilter)]
    list_select_related = ["event__artist", "event__venue", "affiliate"]
    fields = ["state", "event", "created_at", "expires_at", "affiliate", "click_id"]
    readonly_fields = fields
    inlines = [HoldItemInline]
