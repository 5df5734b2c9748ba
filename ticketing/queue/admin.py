from django.contrib import admin

from ticketing.backoffice.scoping import PromoterScopedAdmin

from .models import WaitingRoom


@admin.register(WaitingRoom)
class WaitingRoomAdmin(PromoterScopedAdmin):
    promoter_path = "event__artist__promoter"
    list_display = ["event", "enabled", "rate_mode", "rate_per_minute", "drawn_at"]
    list_filter = ["enabled", "rate_mode"]
    autocomplete_fields = ["event"]
    readonly_fields = ["commitment", "drawn_at", "pre_queue_count"]
    fields = ["event", "enabled", "pre_queue_minutes", "rate_mode", "rate_per_minute",
              "admission_window_minutes", "commitment", "drawn_at", "pre_queue_count"]  # fmt: skip

    @admin.display(description="Commitment (SHA-256 of the seed)")
    def commitment(self, obj):
        return obj.commitment if obj.pk else "-"

    def get_readonly_fields(self, request, obj=None):
        # The event of an existing room stays its own.
        return [*self.readonly_fields, "event"] if obj else self.readonly_fields
