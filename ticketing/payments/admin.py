"""Card payments in the back office: read-only records, each promoter sees its own."""

from django.contrib import admin

from ticketing.backoffice.scoping import PromoterScopedAdmin, ReadOnly
from ticketing.events.money import format_money, from_minor

from .models import Payment


@admin.register(Payment)
class PaymentAdmin(ReadOnly, PromoterScopedAdmin):
    promoter_path = "hold__event__artist__promoter"
    list_display = [
        "intent_id",
        "email",
        "event",
        "amount_display",
        "status",
        "order",
        "created_at",
    ]
    list_filter = ["status", "created_at"]
    search_fields = ["=intent_id", "email", "=order__code"]
    date_hierarchy = "created_at"
    list_select_related = ["hold__event__artist", "hold__event__venue", "order"]
    fields = [
        "status", "order", "intent_id", "amount_display", "name", "email", "language",
        "attempts", "last_error", "refund_id", "created_at", "updated_at",
    ]  # fmt: skip
    readonly_fields = fields

    @admin.display(description="Event")
    def event(self, payment):
        return payment.hold.event

    @admin.display(description="Amount", ordering="amount")
    def amount_display(self, payment):
        return format_money(from_minor(payment.amount, payment.currency), payment.currency)
