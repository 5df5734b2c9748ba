from django.contrib import admin, messages

from ticketing.backoffice.scoping import PromoterScopedAdmin, ReadOnly

from . import services
from .models import Email


@admin.register(Email)
class EmailAdmin(ReadOnly, PromoterScopedAdmin):
    """What was sent to fans, what waits and why: records the outbox writes, with "resend"."""

    list_display = [
        "created_at", "recipients", "subject", "kind", "reference", "state", "attempts",
        "next_attempt", "short_error",
    ]  # fmt: skip
    list_filter = ["state", "kind", "created_at"]
    search_fields = ["=reference", "to", "subject"]
    date_hierarchy = "created_at"
    fields = [
        "state", "kind", "reference", "promoter", "recipients", "sender", "subject", "created_at",
        "attempts", "next_attempt", "sent_at", "last_error", "text",
    ]  # fmt: skip
    readonly_fields = fields
    actions = ["resend"]

    def has_resend_permission(self, request):
        return self._may(request, roles=self.edit_roles)

    @admin.action(description="Resend selected emails", permissions=["resend"])
    def resend(self, request, queryset):
        count = services.resend(self.editable(request, queryset))
        self.message_user(request, f"{count} email(s) will be sent again.", messages.SUCCESS)

    @admin.display(description="To")
    def recipients(self, email):
        return ", ".join(email.to)

    @admin.display(description="From")
    def sender(self, email):
        return email.message["from_email"]

    @admin.display(description="Next attempt", ordering="next_attempt_at")
    def next_attempt(self, email):
        # Only a pending email has one (while a sender holds it: the end of its lease).
        return email.next_attempt_at if email.state == Email.State.PENDING else None

    @admin.display(description="Last error")
    def short_error(self, email):
        return email.last_error[:80]

    @admin.display(description="Text")
    def text(self, email):
        return email.body  # escaped, its line breaks kept, by the read-only field
