"""Only the inventory code writes the counters, a hold's state and an order's state: every other
write path either leaves them alone or is refused (`ticketing.owned_fields`).

A sale or a cancel "during" a back-office save is played by a `pre_save` receiver: it runs in
the save's own transaction, after the change form read the row and before its UPDATE, which is
exactly where a concurrent fan's commit lands in production. The PostgreSQL proof with real
concurrent connections is in test_inventory_admin_concurrency.py.
"""

import ast
import contextlib
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.db.models.signals import pre_save
from django.urls import reverse

from ticketing.events.models import Event, Membership, TicketType
from ticketing.orders import services
from ticketing.orders.models import Hold, HoldItem, Order, Ticket
from ticketing.owned_fields import OwnedFieldError

from .admin_forms import form_values, inline_prefix
from .checkout import event_on_sale
from .conftest import make_staff

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


def sell(ticket_type, quantity, email="fan@example.com"):
    hold = services.create_hold([{"ticket_type": ticket_type.pk, "quantity": quantity}])
    return services.place_order(hold.token, name="Fan", email=email)[0]


def hold(ticket_type, quantity):
    return services.create_hold([{"ticket_type": ticket_type.pk, "quantity": quantity}])


def counters(ticket_type):
    return tuple(TicketType.objects.filter(pk=ticket_type.pk).values_list("sold", "held").get())


def true_counters(ticket_type):
    """(sold, held) as the orders and holds say: tickets of confirmed orders, active holds."""
    sold = Ticket.objects.filter(ticket_type=ticket_type, order__state="confirmed").count()
    held = HoldItem.objects.filter(ticket_type=ticket_type, hold__state="active").aggregate(
        n=Sum("quantity")
    )["n"]
    return sold, held or 0


@contextlib.contextmanager
def just_before_saving(model, action):
    """Run `action(instance)` once, inside the next save of a `model`, before its SQL."""
    done = []

    def receiver(sender, instance, **kwargs):
        if not done:
            done.append(instance)
            action(instance)

    pre_save.connect(receiver, sender=model, dispatch_uid="just-before-saving")
    try:
        yield done
    finally:
        pre_save.disconnect(sender=model, dispatch_uid="just-before-saving")


@pytest.fixture
def sale():
    event, (ga, vip), catalogue = event_on_sale(capacities=(20, 10))
    sell(ga, 3)
    hold(ga, 2)
    return {"event": event, "ga": ga, "vip": vip, **catalogue}


@pytest.fixture
def manager(client, sale):
    client.force_login(make_staff("manager", sale["promoter"], Membership.Role.MANAGER))
    return client


def event_change(event):
    return reverse("admin:events_event_change", args=[event.pk])


# --- The back office ----------------------------------------------------------------------------


def test_event_change_form_keeps_the_seats_fans_take_while_it_saves(manager, sale):
    ga, vip = sale["ga"], sale["vip"]
    values = form_values(manager.get(event_change(sale["event"])))
    values["name"] = "Renamed show"
    values[inline_prefix(values, "ticket_types", ga.pk) + "price"] = "30.00"
    values[inline_prefix(values, "ticket_types", vip.pk) + "capacity"] = "12"

    # A fan's order (2 held seats become sold, 1 more held) lands while the inline saves.
    with just_before_saving(TicketType, lambda _: (sell(ga, 2), hold(ga, 1))) as fired:
        response = manager.post(event_change(sale["event"]), values)
    assert response.status_code == 302 and fired
    ga.refresh_from_db()
    assert (ga.price, ga.sold, ga.held) == (Decimal("30.00"), 5, 3)
    assert (ga.sold, ga.held) == true_counters(ga)
    assert TicketType.objects.get(pk=vip.pk).capacity == 12
    assert Event.objects.get(pk=sale["event"].pk).name == "Renamed show"


def test_lowering_a_capacity_below_what_is_taken_is_a_form_error(manager, sale):
    ga = sale["ga"]  # 3 sold, 2 held
    values = form_values(manager.get(event_change(sale["event"])))
    values[inline_prefix(values, "ticket_types", ga.pk) + "capacity"] = "4"
    response = manager.post(event_change(sale["event"]), values)
    assert response.status_code == 200
    assert "5 tickets are already sold or held: the capacity cannot be lower." in (
        response.content.decode()
    )
    assert TicketType.objects.get(pk=ga.pk).capacity == 20
    values[inline_prefix(values, "ticket_types", ga.pk) + "capacity"] = "5"
    assert manager.post(event_change(sale["event"]), values).status_code == 302
    assert TicketType.objects.get(pk=ga.pk).capacity == 5


def test_a_capacity_lowered_past_seats_taken_since_the_form_read_them_is_refused(sale):
    ga = sale["ga"]
    stale = TicketType.objects.get(pk=ga.pk)  # 5 of 20 taken when read
    sell(ga, 6)
    stale.capacity = 8
    stale.full_clean()  # by what it read, 8 is fine
    with pytest.raises(ValidationError, match="11 tickets are already sold or held"):
        stale.save()
    # A clear error, not a broken transaction: the caller carries on.
    assert counters(ga) == (9, 2) == true_counters(ga)
    assert TicketType.objects.get(pk=ga.pk).capacity == 20


def test_duplicating_copies_with_empty_counters_and_leaves_the_original(manager, sale):
    event = sale["event"]
    manager.post(reverse("admin:events_event_duplicate", args=[event.pk]), {
        "template": event.pk, "dates-TOTAL_FORMS": "1", "dates-INITIAL_FORMS": "0",
        "dates-0-date": event.local_starts_at.date().isoformat(), "dates-0-time": "23:00",
        "dates-0-venue": event.venue_id,
    })  # fmt: skip
    copy = Event.objects.exclude(pk=event.pk).get(artist=sale["artist"])
    assert list(copy.ticket_types.values_list("sold", "held")) == [(0, 0), (0, 0)]
    assert counters(sale["ga"]) == (3, 2) == true_counters(sale["ga"])


def test_order_change_form_cannot_undo_a_cancel_made_while_it_saves(manager, sale):
    order = Order.objects.get()
    change = reverse("admin:orders_order_change", args=[order.pk])
    values = form_values(manager.get(change))
    values["email"] = "corrected@example.com"
    with just_before_saving(Order, services.cancel_order) as fired:
        assert manager.post(change, values).status_code == 302
    assert fired
    order.refresh_from_db()
    assert (order.state, order.email) == ("cancelled", "corrected@example.com")
    assert order.cancelled_at is not None
    assert counters(sale["ga"]) == (0, 2) == true_counters(sale["ga"])


def test_demo_seeding_moves_counters_only_through_orders(sale):
    call_command("seed_demo")
    berlin = TicketType.objects.filter(event__slug__contains="berlin", sold__lt=F("capacity"))
    live = hold(berlin.first(), 2)
    call_command("seed_demo")  # scripts/dev reseeds at every start
    for ticket_type in TicketType.objects.all():
        assert counters(ticket_type) == true_counters(ticket_type), ticket_type
    assert Hold.objects.get(pk=live.pk).state == "active"
    assert Event.objects.filter(ticket_types__sold=F("ticket_types__capacity")).exists()


# --- The shell: every ORM write path ------------------------------------------------------------


def test_saving_a_stale_instance_leaves_the_counters_alone(sale):
    ga = sale["ga"]
    stale = TicketType.objects.get(pk=ga.pk)
    sell(ga, 2)
    stale.name = "General admission"
    stale.sold = stale.held = 0  # even set by hand
    stale.save()
    assert counters(ga) == (5, 2) == true_counters(ga)
    assert TicketType.objects.get(pk=ga.pk).name == "General admission"
    TicketType.objects.only("name").get(pk=ga.pk).save()  # deferred fields: still fine
    assert counters(ga) == (5, 2)


OTHER_COUNTER_WRITES = {
    "save-update_fields": lambda tt: tt.save(update_fields=["capacity", "sold"]),
    "update": lambda tt: TicketType.objects.filter(pk=tt.pk).update(sold=0),
    "update-F": lambda tt: TicketType.objects.filter(pk=tt.pk).update(held=F("held") - 1),
    "related-update": lambda tt: tt.event.ticket_types.update(sold=0, name="x"),
    "bulk_update": lambda tt: TicketType.objects.bulk_update([tt], ["price", "sold"]),
    "update_or_create": lambda tt: TicketType.objects.update_or_create(
        pk=tt.pk, defaults={"held": 0}
    ),
    "create": lambda tt: TicketType.objects.create(
        event=tt.event, name="Comps", price=0, capacity=10, sold=10
    ),
    "insert": lambda tt: TicketType(
        event=tt.event, name="Comps", price=0, capacity=10, held=1
    ).save(),
    "get_or_create": lambda tt: TicketType.objects.get_or_create(
        event=tt.event, name="Comps", defaults={"price": 0, "capacity": 5, "sold": 5}
    ),
    "bulk_create": lambda tt: TicketType.objects.bulk_create(
        [TicketType(event=tt.event, name="Comps", price=0, capacity=5, sold=1)]
    ),
    "bulk_create-upsert": lambda tt: TicketType.objects.bulk_create(
        [TicketType(event=tt.event, name=tt.name, price=0, capacity=5)],
        update_conflicts=True,
        unique_fields=["event", "name"],
        update_fields=["sold"],
    ),
}


@pytest.mark.parametrize("write", OTHER_COUNTER_WRITES.values(), ids=OTHER_COUNTER_WRITES.keys())
def test_every_other_counter_write_is_refused(sale, write):
    ga = sale["ga"]
    with pytest.raises(OwnedFieldError, match="written only by the inventory code"):
        write(TicketType.objects.get(pk=ga.pk))
    assert counters(ga) == (3, 2) == true_counters(ga)
    assert not TicketType.objects.filter(name="Comps").exists()


def test_a_new_instance_naming_an_existing_row_cannot_overwrite_it(sale):
    ga = sale["ga"]
    twin = TicketType(pk=ga.pk, event=ga.event, name="GA", price=1, capacity=20)
    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save()
    assert counters(ga) == (3, 2)


def test_hold_and_order_states_are_the_inventorys(sale):
    order = Order.objects.get()
    live = Hold.objects.get(state="active")
    stale_hold, stale_order = Hold.objects.get(pk=live.pk), Order.objects.get(pk=order.pk)
    services.release_hold(live.token)
    services.cancel_order(order)
    stale_hold.save()
    stale_order.name = "Ada"
    stale_order.save()
    assert Hold.objects.get(pk=live.pk).state == "released"
    assert Order.objects.values_list("state", "name").get(pk=order.pk) == ("cancelled", "Ada")
    for write in (
        lambda: Hold.objects.filter(pk=live.pk).update(state="active"),
        lambda: Order.objects.filter(pk=order.pk).update(state="confirmed", cancelled_at=None),
        lambda: Order.objects.bulk_update([stale_order], ["payment_status"]),
        lambda: stale_order.save(update_fields=["state"]),
    ):
        with pytest.raises(OwnedFieldError):
            write()
    assert counters(sale["ga"]) == (0, 0) == true_counters(sale["ga"])


def test_only_the_inventory_code_uses_the_inventory_managers():
    """The one way to write an owned field is `<Model>.inventory`: the application uses it in
    ticketing/orders/services.py and nowhere else (tests may, to set up a state)."""
    allowed = ROOT / "ticketing" / "orders" / "services.py"
    users = set()
    for package in ("ticketing", "widget"):
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(), filename=str(path))
            if any(isinstance(n, ast.Attribute) and n.attr == "inventory" for n in ast.walk(tree)):
                users.add(path)
    assert users == {allowed}
