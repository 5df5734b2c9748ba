"""No overselling under a crowd, proven on PostgreSQL with real concurrent connections.

Every buyer is a thread with its own database connection going through the whole Django stack;
a barrier releases them together. At most 50 hold a connection at once (see
`checkout.run_concurrently`): the server's 100 connections are shared with other test runs.
"""

import functools
from collections import Counter

import pytest
from django.db.models import Sum

from ticketing.orders import services
from ticketing.orders.models import Hold, HoldItem, Order, Ticket

from .checkout import api_call, event_on_sale, lapsed, run_concurrently

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def hold_call(*items):
    body = {"items": [{"ticket_type": t.pk, "quantity": q} for t, q in items]}
    return functools.partial(api_call, "post", "/api/v1/holds", body)


def statuses(results):
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors[:3]
    return Counter(status for status, _ in results)


def seats_in_active_holds(ticket_type):
    return (
        HoldItem.objects.filter(ticket_type=ticket_type, hold__state="active").aggregate(
            n=Sum("quantity")
        )["n"]
        or 0
    )


def test_200_buyers_for_50_seats_get_exactly_50(db):
    _, (ga,), _ = event_on_sale(capacities=(50,))
    results = run_concurrently([hold_call((ga, 1)) for _ in range(200)])
    assert statuses(results) == {201: 50, 409: 150}
    assert {body["error"] for status, body in results if status == 409} == {"sold_out"}
    ga.refresh_from_db()
    assert (ga.held, ga.sold) == (50, 0)
    assert seats_in_active_holds(ga) == 50
    assert Hold.objects.filter(state="active").count() == 50


def test_concurrent_multi_item_holds_never_oversell_either_type(db):
    _, (big, small), _ = event_on_sale(capacities=(100, 40))
    # Half the buyers list the types one way round, half the other: the guard takes them in
    # id order whatever the request says, so no two buyers wait on each other in a cycle.
    calls = [
        hold_call((big, 1), (small, 1)) if i % 2 else hold_call((small, 1), (big, 1))
        for i in range(120)
    ]
    results = run_concurrently(calls)
    assert statuses(results) == {201: 40, 409: 80}
    big.refresh_from_db()
    small.refresh_from_db()
    assert big.held == small.held == 40  # the 80 refused took nothing of the big type either
    assert seats_in_active_holds(big) == seats_in_active_holds(small) == 40


def test_lapsed_holds_stop_counting_while_cleanup_runs_concurrently(db):
    _, (ga,), _ = event_on_sale(capacities=(30,))
    for _ in range(30):
        services.create_hold([{"ticket_type": ga.pk, "quantity": 1}], now=lapsed())
    ga.refresh_from_db()
    assert ga.held == 30  # all seats sit in holds that have run out, not yet cleaned up

    buyers = [hold_call((ga, 1)) for _ in range(40)]
    cleaners = [services.expire_holds for _ in range(3)]
    results = run_concurrently(buyers + cleaners)
    assert statuses(results[:40]) == {201: 30, 409: 10}
    # However the work was split, each lapsed hold was released exactly once.
    assert Hold.objects.filter(state="expired").count() == 30
    ga.refresh_from_db()
    assert ga.held == 30 == seats_in_active_holds(ga)


def test_expire_holds_twice_at_once_releases_each_hold_once(db):
    _, (ga, vip), _ = event_on_sale(capacities=(200, 50))
    live = services.create_hold([{"ticket_type": ga.pk, "quantity": 1}])
    for i in range(60):
        items = [{"ticket_type": ga.pk, "quantity": 2}]
        if i % 2:
            items.append({"ticket_type": vip.pk, "quantity": 1})
        services.create_hold(items, now=lapsed())
    released = run_concurrently([functools.partial(services.expire_holds, batch_size=7)] * 2)
    assert sum(released) == 60
    ga.refresh_from_db()
    vip.refresh_from_db()
    assert (ga.held, vip.held) == (1, 0)
    assert Hold.objects.get(pk=live.pk).state == "active"
    assert services.expire_holds() == 0


def test_double_clicked_order_submit_makes_one_order(db):
    _, (ga,), _ = event_on_sale(capacities=(10,))
    token = services.create_hold([{"ticket_type": ga.pk, "quantity": 3}]).token
    body = {"name": "Ada", "email": "ada@example.com"}
    same_key = functools.partial(
        api_call, "post", f"/api/v1/holds/{token}/order", body, {"Idempotency-Key": "click-1"}
    )
    results = run_concurrently([same_key] * 8)
    assert statuses(results) == {201: 8}
    assert len({body["code"] for _, body in results}) == 1
    assert Order.objects.count() == 1 and Ticket.objects.count() == 3
    ga.refresh_from_db()
    assert (ga.held, ga.sold) == (0, 3)


def test_concurrent_submits_with_different_keys_make_one_order(db):
    _, (ga,), _ = event_on_sale(capacities=(10,))
    token = services.create_hold([{"ticket_type": ga.pk, "quantity": 2}]).token
    body = {"name": "Ada", "email": "ada@example.com"}
    calls = [
        functools.partial(
            api_call, "post", f"/api/v1/holds/{token}/order", body, {"Idempotency-Key": f"k{i}"}
        )
        for i in range(6)
    ]
    results = run_concurrently(calls)
    assert statuses(results) == {201: 1, 409: 5}
    assert {body["error"] for status, body in results if status == 409} == {"hold_ordered"}
    assert Order.objects.count() == 1 and Ticket.objects.count() == 2
    ga.refresh_from_db()
    assert (ga.held, ga.sold) == (0, 2)
