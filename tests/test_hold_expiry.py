"""Holds run out: their seats come back at once, and the cleanup (command and Lambda) tidies."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from ticketing.orders import handlers, services
from ticketing.orders.errors import NotEnoughTickets
from ticketing.orders.models import Hold

from .checkout import event_on_sale, lapsed

pytestmark = pytest.mark.django_db


@pytest.fixture
def ga():
    _, (ga,), _ = event_on_sale(capacities=(4,))
    return ga


def hold(ticket_type, quantity, **kwargs):
    return services.create_hold([{"ticket_type": ticket_type.pk, "quantity": quantity}], **kwargs)


def test_a_lapsed_hold_stops_counting_before_cleanup_runs(ga):
    old = hold(ga, 4, now=lapsed())
    ga.refresh_from_db()
    assert ga.held == 4  # the counter still has them; nobody has cleaned up
    fresh = hold(ga, 4)  # … and yet a new buyer gets all four seats
    assert fresh.state == "active"
    assert Hold.objects.get(pk=old.pk).state == "expired"
    ga.refresh_from_db()
    assert ga.held == 4
    with pytest.raises(NotEnoughTickets):
        hold(ga, 1)


def test_hold_lasts_the_events_hold_time(ga):
    ga.event.hold_minutes = 3
    ga.event.save()
    made = hold(ga, 1)
    assert made.expires_at - made.created_at == dt.timedelta(minutes=3)


def test_expire_holds_command_returns_seats_and_is_idempotent(ga, capsys):
    hold(ga, 1)
    hold(ga, 2, now=lapsed())
    hold(ga, 1, now=lapsed())
    call_command("expire_holds")
    assert "Released 2 lapsed hold(s)." in capsys.readouterr().out
    ga.refresh_from_db()
    assert ga.held == 1
    call_command("expire_holds")
    assert "Released 0 lapsed hold(s)." in capsys.readouterr().out
    ga.refresh_from_db()
    assert ga.held == 1


def test_lambda_handler_expires_holds(ga):
    hold(ga, 3, now=lapsed())
    scheduled = {"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}
    assert handlers.expire_holds(scheduled, None) == {"released": 1}
    assert handlers.expire_holds(scheduled, None) == {"released": 0}
    ga.refresh_from_db()
    assert ga.held == 0


def test_expiry_works_through_batches(ga):
    ga.capacity = 100
    ga.save()
    for _ in range(12):
        hold(ga, 1, now=lapsed())
    assert services.expire_holds(batch_size=5) == 12
    ga.refresh_from_db()
    assert ga.held == 0


def test_orders_and_released_holds_are_left_alone(ga):
    ordered = hold(ga, 1, now=timezone.now() - dt.timedelta(minutes=5))
    services.place_order(ordered.token, name="Ada", email="ada@example.com")
    released = hold(ga, 1)
    services.release_hold(released.token)
    assert services.expire_holds(now=timezone.now() + dt.timedelta(hours=1)) == 0
    ga.refresh_from_db()
    assert (ga.held, ga.sold) == (0, 1)


def test_reseeding_the_demo_keeps_live_holds_counted():
    from ticketing.events.demo import seed_demo
    from ticketing.events.models import TicketType

    seed_demo()
    vip = TicketType.objects.filter(event__slug__contains="berlin", name="VIP").first()
    hold(vip, 2, now=timezone.now() - dt.timedelta(minutes=9))
    seed_demo()  # what scripts/dev does at every start
    vip.refresh_from_db()
    assert vip.held == 2
    assert services.expire_holds(now=timezone.now() + dt.timedelta(minutes=2)) == 1
    vip.refresh_from_db()
    assert vip.held == 0
