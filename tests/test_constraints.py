"""The catalogue's rules hold in the database itself, whatever code path writes."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F

from ticketing.events.models import Artist, Event, Membership, TicketType

pytestmark = pytest.mark.django_db


def violates(fn) -> bool:
    try:
        with transaction.atomic():
            fn()
    except IntegrityError:
        return True
    return False


# The counters are written through `TicketType.inventory` here, as only the inventory code may
# (see test_owned_fields.py): what is tested is the database's own refusal.


def test_ticket_type_cannot_be_sold_past_capacity(promoter_a):
    ticket_type = promoter_a["events"][0].ticket_types.get()
    counters = TicketType.inventory.filter(pk=ticket_type.pk)
    assert violates(lambda: counters.update(sold=101))
    assert violates(lambda: counters.update(sold=60, held=41))
    assert not violates(lambda: counters.update(sold=60, held=40))
    ticket_type.refresh_from_db()
    assert ticket_type.remaining == 0


def test_ticket_type_counters_and_price_cannot_go_negative(promoter_a):
    ticket_type = promoter_a["events"][0].ticket_types.get()
    assert violates(
        lambda: TicketType.inventory.filter(pk=ticket_type.pk).update(held=F("held") - 1)
    )
    assert violates(lambda: TicketType.objects.filter(pk=ticket_type.pk).update(price=-1))
    assert violates(lambda: TicketType.objects.filter(pk=ticket_type.pk).update(currency="eur"))


def test_ticket_type_names_unique_per_event(promoter_a):
    event = promoter_a["events"][0]
    assert violates(
        lambda: TicketType.objects.create(event=event, name="GA", price=Decimal(1), capacity=1)
    )


def test_event_time_order_enforced(promoter_a):
    event = promoter_a["events"][0]
    later = event.starts_at + dt.timedelta(hours=2)
    assert violates(lambda: Event.objects.filter(pk=event.pk).update(doors_at=later))
    assert violates(lambda: Event.objects.filter(pk=event.pk).update(on_sale_at=later))
    assert violates(lambda: Event.objects.filter(pk=event.pk).update(off_sale_at=event.on_sale_at))
    assert violates(lambda: Event.objects.filter(pk=event.pk).update(status="sold-out"))
    assert violates(lambda: Event.objects.filter(pk=event.pk).update(hold_minutes=0))


def test_artist_slug_unique_and_membership_unique(promoter_a, promoter_b, manager_a):
    assert violates(
        lambda: Artist.objects.create(
            promoter=promoter_b["promoter"], name="Copy", slug=promoter_a["artist"].slug
        )
    )
    assert violates(
        lambda: Membership.objects.create(user=manager_a, promoter=promoter_a["promoter"])
    )
    assert violates(
        lambda: Membership.objects.create(
            user=manager_a, promoter=promoter_b["promoter"], role="admin"
        )
    )


def test_derived_states(promoter_a):
    event = promoter_a["events"][0]
    assert event.is_on_sale() and not event.is_sold_out
    TicketType.inventory.filter(event=event).update(sold=F("capacity"))
    event = Event.objects.get(pk=event.pk)
    assert event.is_sold_out and not event.is_on_sale()


def test_model_validation_explains_cross_promoter_venue(promoter_a, promoter_b):
    event = promoter_a["events"][0]
    event.venue = promoter_b["venue"]
    with pytest.raises(Exception, match="another promoter"):
        event.full_clean()
