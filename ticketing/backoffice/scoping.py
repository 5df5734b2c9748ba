"""Promoter scoping of the Django admin: the security boundary of the back office.

Every promoter-owned ModelAdmin inherits `PromoterScopedAdmin` and names the lookup from its model
to the promoter (`promoter_path`). From that one attribute follow, for staff who are not
superusers:

- change lists, change pages, deletes and history show only their promoters' rows; anyone else's
  object is a 404;
- foreign-key choices (select boxes, autocomplete, list filters) offer only their rows, so a
  forged POST naming another promoter's object fails form validation;
- a membership role decides what they may do: viewers see, managers and owners edit.

Django's per-model permissions are not consulted for these models: membership roles replace them.
"""

from django.contrib import admin
from django.contrib.admin.exceptions import NotRegistered
from django.http import Http404

from ticketing.events.models import Membership

_ROLES_ATTR = "_promoter_roles"


def promoter_roles(request) -> dict[int, str]:
    """The promoters the requesting user belongs to, with their role; cached on the request."""
    roles = getattr(request, _ROLES_ATTR, None)
    if roles is None:
        user = request.user
        roles = {}
        if user.is_authenticated and user.is_active and user.is_staff:
            roles = dict(Membership.objects.filter(user=user).values_list("promoter_id", "role"))
        setattr(request, _ROLES_ATTR, roles)
    return roles


def promoter_ids(request, roles=None) -> list[int]:
    """Ids of the user's promoters, optionally only those where they hold one of `roles`."""
    return [pk for pk, role in promoter_roles(request).items() if roles is None or role in roles]


def scoped(request, queryset, promoter_path: str, roles=None):
    """Narrow `queryset` to the rows of the user's promoters (those where they hold one of
    `roles`, if given); `promoter_path` is the lookup from its model to the promoter. For reads
    beside a ModelAdmin's own, e.g. the orders an analytics page counts."""
    if request.user.is_superuser:
        return queryset
    return queryset.filter(**{f"{promoter_path}__in": promoter_ids(request, roles)})


def promoter_id_of(obj, path: str) -> int | None:
    """Follow `path` ("artist__promoter") from an object to its promoter's id."""
    if path == "id":
        return obj.pk
    *hops, last = path.split("__")
    for hop in hops:
        obj = getattr(obj, hop, None)
        if obj is None:
            return None
    return getattr(obj, f"{last}_id", None)


class ScopedFormFieldsMixin:
    """Offer in foreign-key fields only what the user may edit."""

    def _scoped_choices(self, request, model):
        try:
            related_admin = self.admin_site.get_model_admin(model)
        except NotRegistered:
            return None
        if isinstance(related_admin, PromoterScopedAdmin):
            # Choices are for editors: rows of the promoters where the user may edit anything.
            return related_admin.editable_queryset(request, Membership.EDITING_ROLES)
        return None

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            queryset = self._scoped_choices(request, db_field.related_model)
            if queryset is not None:
                kwargs["queryset"] = queryset
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            queryset = self._scoped_choices(request, db_field.related_model)
            if queryset is not None:
                kwargs["queryset"] = queryset
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class ReadOnly:
    """For admins and inlines of records the system writes (checkout's holds and orders, the
    tracking consumer's counters): shown, never added, changed or deleted by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PromoterScopedAdmin(ScopedFormFieldsMixin, admin.ModelAdmin):
    promoter_path: str = "promoter"  # lookup from this admin's model to its Promoter
    edit_roles = Membership.EDITING_ROLES

    # --- what the user sees -------------------------------------------------------------
    def get_queryset(self, request):
        return self._scope(request, super().get_queryset(request))

    def editable_queryset(self, request, roles=None):
        return self._scope(request, super().get_queryset(request), roles or self.edit_roles)

    def editable(self, request, queryset):
        """Narrow a queryset (e.g. an action's selection) to what the user may edit."""
        return self._scope(request, queryset, self.edit_roles)

    def _scope(self, request, queryset, roles=None):
        return scoped(request, queryset, self.promoter_path, roles)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            # Another promoter's object is as absent as one that never existed.
            raise Http404("No such object.")
        return obj

    # --- what the user may do -----------------------------------------------------------
    def _may(self, request, obj=None, roles=None) -> bool:
        if request.user.is_superuser:
            return True
        allowed = promoter_ids(request, roles)
        if obj is None:
            return bool(allowed)
        return promoter_id_of(obj, self.promoter_path) in allowed

    def has_module_permission(self, request):
        return self._may(request)

    def has_view_permission(self, request, obj=None):
        return self._may(request, obj)

    def has_add_permission(self, request):
        return self._may(request, roles=self.edit_roles)

    def has_change_permission(self, request, obj=None):
        return self._may(request, obj, roles=self.edit_roles)

    def has_delete_permission(self, request, obj=None):
        return self._may(request, obj, roles=self.edit_roles)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        editable = promoter_ids(request, self.edit_roles)
        if self.promoter_path == "promoter" and len(editable) == 1:
            initial.setdefault("promoter", editable[0])
        return initial


class PromoterScopedInline(ScopedFormFieldsMixin, admin.TabularInline):
    """An inline may do exactly what its parent's admin may do with the parent object."""

    def _parent_admin(self):
        return self.admin_site.get_model_admin(self.parent_model)

    def has_view_permission(self, request, obj=None):
        return self._parent_admin().has_view_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        return self._parent_admin().has_change_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._parent_admin().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._parent_admin().has_change_permission(request, obj)
