"""Fields one piece of code owns, written by nothing else: the inventory counters
(`TicketType.sold` / `held`), a hold's state, an order's state.

Staff edit these rows while fans buy. Any other write of an owned field is a lost update waiting
to happen: a change form writes back the counters it read a moment before, and the seats fans
took in that moment are forgotten (or sold twice). So the ORM refuses it on every path Django
has to write a row:

- `save()` of an existing row leaves the owned fields out of its UPDATE, and refuses
  `update_fields` that name one; a new instance with a primary key is inserted, never allowed to
  overwrite the row it names;
- `QuerySet.update()` and `bulk_update()` refuse them (and so `update_or_create` refuses
  `defaults` that name one: it saves with `update_fields`).

The owner, and only it, writes them through the model's `inventory` manager, with conditional
statements (`ticketing/orders/services.py`; a test checks that nothing else uses it). Raw SQL
stays possible, as it is for any rule in Python; the database's check constraints remain the
last line of defence.
"""

from django.db import models


class OwnedFieldError(ValueError):
    """A write of an owned field from outside its owner."""


def refuse_owned(model, fields) -> None:
    """Raise OwnedFieldError if `fields` (names) include any of the model's owned fields."""
    if owned := model.owned_fields.intersection(fields):
        raise OwnedFieldError(
            f"{model.__name__}.{', '.join(sorted(owned))} is written only by the inventory code "
            "(ticketing/orders/services.py, through the `inventory` manager)."
        )


class OwnedFieldsQuerySet(models.QuerySet):
    owner_writes = False  # True only for querysets from the `inventory` manager

    def _clone(self):
        clone = super()._clone()
        clone.owner_writes = self.owner_writes
        return clone

    def update(self, **kwargs):
        if not self.owner_writes:
            refuse_owned(self.model, kwargs)
        return super().update(**kwargs)

    update.alters_data = True

    def bulk_update(self, objs, fields, batch_size=None):
        if not self.owner_writes:
            refuse_owned(self.model, fields)
        return super().bulk_update(objs, fields, batch_size=batch_size)

    bulk_update.alters_data = True


class InventoryManager(models.Manager):
    """The owner's way in: its querysets may write the owned fields."""

    def get_queryset(self):
        queryset = super().get_queryset()
        queryset.owner_writes = True
        return queryset


class OwnedFieldsMixin:
    """For a model with `owned_fields`: `save()` never writes them (see the module docstring)."""

    owned_fields: frozenset[str] = frozenset()

    def save(self, *, force_insert=False, force_update=False, using=None, update_fields=None):
        if self._inserts(force_insert):
            # A new instance naming an existing row must not overwrite it (owned fields and all).
            force_insert = force_insert or self.pk is not None
        elif update_fields is None:
            update_fields = [
                field.attname
                for field in self._meta.concrete_fields
                if not field.primary_key
                and field.attname in self.__dict__  # loaded, not deferred
                and field.name not in self.owned_fields
            ]
        else:
            refuse_owned(type(self), update_fields)
        super().save(
            force_insert=force_insert,
            force_update=force_update,
            using=using,
            update_fields=update_fields,
        )

    save.alters_data = True

    def _inserts(self, force_insert) -> bool:
        return bool(force_insert) or self._state.adding or self.pk is None
