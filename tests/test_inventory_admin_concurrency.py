"""A promoter editing a live event while fans buy, on PostgreSQL with real concurrent
connections: the back office's saves never move the seat counters, and a capacity lowered
while fans buy is a form error, never a database error or an oversold show."""

import functools
import random
import threading
import time
from collections import Counter

import pytest
from django.db import connection
from django.db.models import Sum
from django.db.models.signals import pre_save
from django.test import Client
from django.urls import reverse

from ticketing.events.models import Event, Membership, TicketType
from ticketing.orders import services
from ticketing.orders.models import HoldItem, Ticket

from .admin_forms import form_values, inline_prefix
from .checkout import api_call, event_on_sale, run_concurrently
from .conftest import make_staff

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CAPACITY_REFUSED = "tickets are already sold or held: the capacity cannot be lower."


def assert_counters_tell_the_truth(ticket_type):
    ticket_type.refresh_from_db()
    sold = Ticket.objects.filter(ticket_type=ticket_type, order__state="confirmed").count()
    held = HoldItem.objects.filter(ticket_type=ticket_type, hold__state="active").aggregate(
        n=Sum("quantity")
    )["n"]
    assert (ticket_type.sold, ticket_type.held) == (sold, held or 0), ticket_type
    issued = Ticket.objects.filter(ticket_type=ticket_type).count()
    assert issued <= ticket_type.capacity, ticket_type
    return ticket_type


def buyer(ga, vip, admin_done: threading.Event, seed: int) -> Counter:
    """Hold and then order (mostly), release or abandon, until the back office is done."""
    rng = random.Random(seed)
    seen = Counter()
    while not admin_done.is_set():
        items = rng.choice([[(ga, rng.randint(1, 3))], [(vip, 1)], [(ga, 1), (vip, 1)]])
        body = {"items": [{"ticket_type": t.pk, "quantity": q} for t, q in items]}
        status, held = api_call("post", "/api/v1/holds", body)
        seen[f"hold {status}"] += 1
        time.sleep(rng.uniform(0.05, 0.15))  # fans are not a loop: leave the back office a turn
        if status != 201:
            continue  # sold out for now: the back office may add seats
        token, choice = held["token"], rng.random()
        if choice < 0.75:
            body = {"name": "Fan", "email": "fan@example.com"}
            status, _ = api_call("post", f"/api/v1/holds/{token}/order", body)
            seen[f"order {status}"] += 1
        elif choice < 0.9:
            status, _ = api_call("delete", f"/api/v1/holds/{token}")
            seen[f"release {status}"] += 1
    return seen


def promoter(event, user, admin_done: threading.Event, ga, vip, saves: int) -> dict:
    """Save the event's change form `saves` times, as a manager would: rename the show and
    reprice every ticket type (so each inline row is saved), add 2 GA seats every fifth time,
    and every sixth try to cut VIP to one seat (never possible: two are sold)."""
    client = Client()
    client.force_login(user)
    url = reverse("admin:events_event_change", args=[event.pk])
    seen = {"saved": 0, "refused": 0, "seats added": 0, "last saved": None}
    try:
        for i in range(saves):
            values = form_values(client.get(url))
            values["name"] = f"Night {i}"
            for ticket_type in (ga, vip):
                values[inline_prefix(values, "ticket_types", ticket_type.pk) + "price"] = (
                    f"{20 + i % 7}.00"
                )
            cut = i % 6 == 3
            if cut:
                values[inline_prefix(values, "ticket_types", vip.pk) + "capacity"] = "1"
            elif i % 5 == 0:
                ga_capacity = inline_prefix(values, "ticket_types", ga.pk) + "capacity"
                values[ga_capacity] = str(int(values[ga_capacity]) + 2)
                seen["seats added"] += 2
            response = client.post(url, values)
            refused = response.status_code == 200 and CAPACITY_REFUSED in response.content.decode()
            assert refused if cut else response.status_code == 302, (i, response.status_code)
            seen["refused" if cut else "saved"] += 1
            if not cut:
                seen["last saved"] = i
    finally:
        admin_done.set()
        connection.close()
    return seen


def test_change_form_saves_while_fans_buy_never_move_the_counters():
    event, (ga, vip), catalogue = event_on_sale(capacities=(40, 15), max_per_order=3)
    for _ in range(2):  # two VIP seats sold for good: cutting VIP to one is always refused
        hold = services.create_hold([{"ticket_type": vip.pk, "quantity": 1}])
        services.place_order(hold.token, name="Early", email="early@example.com")
    user = make_staff("manager", catalogue["promoter"], Membership.Role.MANAGER)
    admin_done, saves = threading.Event(), 30

    buyers = [functools.partial(buyer, ga, vip, admin_done, seed) for seed in range(6)]
    back_office = functools.partial(promoter, event, user, admin_done, ga, vip, saves)
    *fans, office = run_concurrently([*buyers, back_office], timeout=300)

    for result in (*fans, office):
        assert not isinstance(result, BaseException), result
    seen = sum(fans, Counter())
    assert not [key for key in seen if key.endswith(("500", "502", "503"))], seen
    assert seen["order 201"] >= 20 and seen["hold 409"] > 0, seen  # they sold it out
    assert set(seen) <= {"hold 201", "hold 409", "order 201", "release 204"}, seen
    assert (office["saved"], office["refused"]) == (25, 5)

    ga, vip = assert_counters_tell_the_truth(ga), assert_counters_tell_the_truth(vip)
    # The promoter's edits all took: the counters were simply never part of them.
    assert ga.capacity == 40 + office["seats added"] and vip.capacity == 15
    last = office["last saved"]
    assert str(ga.price) == str(vip.price) == f"{20 + last % 7}.00"
    assert Event.objects.get(pk=event.pk).name == f"Night {last}"


def test_a_fan_buying_between_the_forms_check_and_its_save_waits_for_it():
    """The form lowers GA to 6 seats with 4 taken: valid when checked. A fan asks for 3 more
    right then, before the row is written: the fan waits for the save, then gets what is left,
    and the save goes through instead of failing on the database's constraint."""
    event, (ga,), catalogue = event_on_sale(capacities=(20,))
    services.create_hold([{"ticket_type": ga.pk, "quantity": 4}])
    client = Client()
    client.force_login(make_staff("manager", catalogue["promoter"], Membership.Role.MANAGER))
    url = reverse("admin:events_event_change", args=[event.pk])
    values = form_values(client.get(url))
    values[inline_prefix(values, "ticket_types", ga.pk) + "capacity"] = "6"

    fan = {}

    def buy():
        try:
            fan["answer"] = api_call("post", "/api/v1/holds", {"items": [
                {"ticket_type": ga.pk, "quantity": 3}]})  # fmt: skip
            fan["at"] = time.monotonic()
        finally:
            connection.close()

    fan_thread = threading.Thread(target=buy)

    def fan_arrives(sender, instance, **kwargs):  # after the check, before the UPDATE
        if "waiting" not in fan:
            fan_thread.start()
            fan_thread.join(0.5)
            fan["waiting"] = fan_thread.is_alive()
            fan["saved_at"] = time.monotonic()

    pre_save.connect(fan_arrives, sender=TicketType, dispatch_uid="fan-arrives")
    try:
        response = client.post(url, values)
    finally:
        pre_save.disconnect(sender=TicketType, dispatch_uid="fan-arrives")
    fan_thread.join(10)

    assert response.status_code == 302
    assert fan["waiting"] and fan["at"] > fan["saved_at"]  # the fan waited for the commit
    status, body = fan["answer"]
    assert status == 409 and body["error"] == "insufficient" and body["available"] == 2
    ga = assert_counters_tell_the_truth(ga)
    assert (ga.capacity, ga.held) == (6, 4)
