from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.forms.models import BaseInlineFormSet
from django.utils import timezone

from ticketing.backoffice.scoping import PromoterScopedAdmin, PromoterScopedInline
from widget.snippets import artist_snippets

from . import services
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
            context["embed_snippets"] = artist_snippets(request, obj)
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


@admin.register(Event)
class EventAdmin(PromoterScopedAdmin):
    promoter_path = "artist__promoter"
    list_display = [
        "__str__", "artist", "venue", "starts_at", "on_sale_at",
        "is_published", "status", "tickets_sold",
    ]  # fmt: skip
    list_filter = [
        "is_published", "status", ("artist", admin.RelatedOnlyFieldListFilter),
        ("tour", admin.RelatedOnlyFieldListFilter), "venue__country",
    ]  # fmt: skip
    search_fields = ["name", "slug", "artist__name", "venue__name", "venue__city"]
    date_hierarchy = "starts_at"
    autocomplete_fields = ["artist", "tour", "venue"]
    prepopulated_fields = {"slug": ["name"]}
    list_select_related = ["artist", "venue"]
    inlines = [TicketTypeInline]
    actions = ["publish", "unpublish", "cancel", "duplicate"]
    fieldsets = [
        (None, {"fields": ["artist", "tour", "venue", "name", "slug"]}),
        ("When", {"fields": ["starts_at", "doors_at", "on_sale_at", "off_sale_at"]}),
        ("Sales", {"fields": ["is_published", "status", "hold_minutes"]}),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                capacity_total=Sum("ticket_types__capacity"),
                sold_total=Sum("ticket_types__sold"),
            )
        )

    @admin.display(description="Sold", ordering="sold_total")
    def tickets_sold(self, event):
        return f"{event.sold_total or 0} / {event.capacity_total or 0}"

    @admin.action(description="Publish selected events", permissions=["change"])
    def publish(self, request, queryset):
        count = services.set_published(self.editable(request, queryset), True)
        self.message_user(request, f"{count} event(s) published.", messages.SUCCESS)

    @admin.action(description="Unpublish selected events", permissions=["change"])
    def unpublish(self, request, queryset):
        count = services.set_published(self.editable(request, queryset), False)
        self.message_user(request, f"{count} event(s) unpublished.", messages.SUCCESS)

    @admin.action(description="Cancel selected events", permissions=["change"])
    def cancel(self, request, queryset):
        count = services.cancel_events(self.editable(request, queryset))
        self.message_user(request, f"{count} event(s) cancelled.", messages.WARNING)

    @admin.action(description="Duplicate selected events as drafts", permissions=["add"])
    def duplicate(self, request, queryset):
        copies = [services.duplicate_event(e) for e in self.editable(request, queryset)]
        self.message_user(request, f"{len(copies)} draft(s) created.", messages.SUCCESS)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("on_sale_at", timezone.now().replace(second=0, microsecond=0))
        return initial


@admin.register(Affiliate)
class AffiliateAdmin(PromoterScopedAdmin):
    list_display = ["name", "domain", "public_key", "is_active", "promoter"]
    list_filter = ["is_active", ("promoter", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "domain", "public_key"]
    readonly_fields = ["public_key"]
