from django.contrib import admin

from ticketing.backoffice.scoping import PromoterScopedAdmin

from . import selectors
from .models import Subscription


@admin.register(Subscription)
class SubscriptionAdmin(PromoterScopedAdmin):
    """Fans waiting for tickets, per event of the user's promoters. Fans subscribe and leave on
    their own; staff may delete an address (a fan asking to be forgotten), nothing else."""

    promoter_path = "event__artist__promoter"
    list_display = ["email", "event", "state", "language", "created_at", "confirmed_at",
                    "notified_at"]  # fmt: skip
    list_filter = ["state", ("event", admin.RelatedOnlyFieldListFilter), "language"]
    search_fields = ["email"]
    list_select_related = ["event__artist", "event__venue"]
    date_hierarchy = "created_at"
    fields = ["email", "event", "state", "language", "created_at", "confirmation_sent_at",
              "confirmed_at", "notified_at", "unsubscribed_at"]  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        # The counts per event, over everything this user may see (not only the page shown).
        counts = selectors.counts_by_event(self.get_queryset(request))
        return super().changelist_view(request, {**(extra_context or {}), "counts": counts})
