"""Refunds of card payments against localstripe (a real Stripe stand-in over HTTP, the real
`stripe` client): a partial refund returning one seat; a cancelled event's 50 orders refunded by
a job interrupted halfway (Stripe unreachable, and a run that died after Stripe took a refund)
and resumed, each order refunded once by Stripe's own records; refund webhooks moving the
state, in any order; reconcile_payments reporting an injected difference."""

import io

import pytest
from django.core.management import call_command
from django.test import override_settings

from ticketing.events.models import Event
from ticketing.orders.models import Order
from ticketing.outbox.models import Email
from ticketing.refunds import reconcile, services, webhooks
from ticketing.refunds.errors import RefundRefused
from ticketing.refunds.models import Refund

from . import stripe_refunds as localstripe
from .checkout import event_on_sale, run_concurrently
from .stripe_refunds import (
    card_orders,
    refund_in_stripe,
    refunded_total,
    signed_webhook,
    stripe_refunds,
)

localstripe_url = localstripe.localstripe_url  # the fixtures
stripe_api = localstripe.stripe_api

pytestmark = pytest.mark.django_db


@pytest.fixture
def intents(stripe_api):
    """Order id -> the PaymentIntent that paid it (each also on its `Payment` row)."""
    return {}


@pytest.fixture
def show():
    event, (ga,), _ = event_on_sale("alpha", capacities=(100,))
    return event, ga


def test_a_partial_refund_of_a_card_payment_returns_one_seat(
    client, show, intents, mailoutbox, django_capture_on_commit_callbacks
):
    _, ga = show
    (order,) = card_orders(ga, 1, intents, quantity=3)
    ticket = order.tickets.first()
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        refund = services.refund_tickets(order, [ticket.pk], reason="One can't come")
    (email,) = mailoutbox
    assert email.subject.startswith("Your refund for ")
    assert "We are refunding €25.00 for 1 ticket of your order" in email.body
    assert "card you paid with" in email.body
    fan_page = client.get(order.get_absolute_url()).content.decode()
    assert "Refunded: €25.00." in fan_page and fan_page.count('class="ticket"') == 2
    assert (refund.state, refund.amount) == ("succeeded", 2500)
    (remote,) = stripe_refunds(intents[order.pk])
    assert (remote.id, remote.amount, remote.currency) == (refund.provider_refund_id, 2500, "eur")
    assert remote.metadata.to_dict()["refund"] == str(refund.pk)
    ga.refresh_from_db()
    assert ga.sold == 2
    assert reconcile.report() == []  # 75.00 paid, 25.00 back, two valid tickets worth 50.00


def test_a_cancelled_events_50_orders_interrupted_and_resumed_are_each_refunded_once(
    client, show, intents
):
    event, ga = show
    orders = card_orders(ga, 50, intents)
    Event.objects.filter(pk=event.pk).update(status="cancelled")
    event.refresh_from_db()
    job = services.start_refund_job(event, note="Sorry")

    services.run_refund_job(job.pk, max_orders=20)
    # Stripe becomes unreachable halfway: the orders are cancelled and their refunds written,
    # the refunds wait (pending) for the next run.
    with override_settings(STRIPE_API_BASE="http://127.0.0.1:9"):  # nothing listens there
        halfway = services.run_refund_job(job.pk, max_orders=10)
    assert halfway.state == "running"
    assert Refund.objects.filter(job=job, state="pending").count() == 10
    # A run that died after Stripe took a refund and before it recorded Stripe's answer:
    died = Refund.objects.filter(job=job, state="pending").order_by("pk").first()
    refund_in_stripe(intents[died.order_id], died.amount, refund=str(died.pk))

    call_command("run_refund_jobs", stdout=io.StringIO())  # resumed
    job.refresh_from_db()
    assert (job.state, job.orders_done, job.orders_total) == ("done", 50, 50)
    for order in orders:  # Stripe's own records: one refund of the whole order, each
        remotes = stripe_refunds(intents[order.pk])
        assert [r.amount for r in remotes] == [2500], order.code
    assert Refund.objects.filter(job=job, state="succeeded").count() == 50
    assert refunded_total(Refund.objects.filter(job=job)) == 50 * 2500
    assert set(Order.objects.filter(event=event).values_list("state", flat=True)) == {"cancelled"}
    assert Email.objects.filter(kind="event_cancelled_refunded").count() == 50
    ga.refresh_from_db()
    assert ga.sold == 0
    assert reconcile.report() == []
    fan_page = client.get(orders[0].get_absolute_url() + "?lang=en").content.decode()
    assert "Cancelled order" in fan_page and "Refunded: €25.00." in fan_page


def refund_event(kind, remote_id, status, refund_id=None):
    return {"type": kind, "data": {"object": {
        "object": "refund", "id": remote_id, "status": status,
        "metadata": {"refund": str(refund_id)} if refund_id else {},
    }}}  # fmt: skip


def test_refund_webhooks_move_the_state_forward_in_any_order_and_once(show, intents):
    _, ga = show
    (order,) = card_orders(ga, 1, intents)
    refund = services.refund_order(order, reason="x", submit=False)
    assert refund.state == "pending"
    # Delivered before the API call's answer is recorded: found by our id in the metadata.
    assert webhooks.handle(refund_event("refund.created", "re_1", "pending", refund.pk)) == 1
    refund.refresh_from_db()
    assert (refund.state, refund.provider_refund_id) == ("requested", "re_1")
    assert webhooks.handle(refund_event("refund.failed", "re_1", "failed")) == 1
    # A late "succeeded" or a repeat changes nothing: failed is final.
    assert webhooks.handle(refund_event("refund.updated", "re_1", "pending")) == 0
    assert webhooks.handle(refund_event("refund.failed", "re_1", "failed")) == 0
    refund.refresh_from_db()
    assert refund.state == "failed"
    charge = {"type": "charge.refunded", "data": {"object": {"object": "charge", "refunds": {
        "data": [{"id": "re_unknown", "status": "succeeded", "metadata": {}}]}}}}  # fmt: skip
    assert webhooks.handle(charge) == 0  # not ours: reconcile_payments reports it


def test_reconcile_reports_an_injected_difference(show, intents):
    _, ga = show
    first, second = card_orders(ga, 2, intents, quantity=2)
    services.refund_tickets(first, [first.tickets.first().pk], reason="one")
    assert reconcile.report() == []
    out = io.StringIO()
    call_command("reconcile_payments", stdout=out)
    assert "No differences." in out.getvalue()

    # Someone refunds in Stripe's dashboard; and our books say a refund was 1 cent more.
    refund_in_stripe(intents[second.pk], 1000)
    Refund.objects.filter(order=first).update(amount=2501)
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_status:
        call_command("reconcile_payments", stdout=out, stderr=io.StringIO())
    assert exit_status.value.code == 1
    lines = out.getvalue().splitlines()
    assert any(line.startswith(f"{second.code}: refund_unknown") and "1000" in line
               for line in lines)  # fmt: skip
    assert any(line.startswith(f"{first.code}: refund_amount") and "ours 2501, Stripe's 2500"
               in line for line in lines)  # fmt: skip


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_runners_and_refunds_refund_each_order_once(show, intents):
    event, ga = show
    orders = card_orders(ga, 12, intents)
    Event.objects.filter(pk=event.pk).update(status="cancelled")
    event.refresh_from_db()
    job = services.start_refund_job(event)
    target = orders[0]

    def admin_refund():
        return services.refund_order(Order.objects.get(pk=target.pk), reason="admin")

    calls = [lambda: services.run_refund_job(job.pk)] * 4 + [admin_refund] * 4
    results = run_concurrently(calls)
    runners, admins = results[:4], results[4:]
    assert not [r for r in runners if isinstance(r, BaseException)]  # busy (None) or done
    refused = [r for r in admins if isinstance(r, RefundRefused)]
    assert len(refused) + sum(isinstance(r, Refund) for r in admins) == 4
    assert sum(isinstance(r, Refund) for r in admins) <= 1
    services.run_refund_job(job.pk)
    for order in orders:
        assert len(stripe_refunds(intents[order.pk])) == 1, order.code
    assert Refund.objects.filter(order__event=event).count() == 12
    ga.refresh_from_db()
    assert ga.sold == 0


def test_reconcile_checks_that_a_late_payment_went_back_whole(show, intents):
    from ticketing.orders import services as order_services
    from ticketing.payments.models import Payment

    _, ga = show
    hold = order_services.create_hold([{"ticket_type": ga.pk, "quantity": 1}])
    (order,) = card_orders(ga, 1, intents)  # an intent paid in localstripe, its order aside
    intent_id = intents[order.pk]
    Payment.objects.filter(order=order).delete()
    Payment.objects.create(hold=hold, intent_id=intent_id, status="refunded", amount=2500,
                           currency="EUR", name="Ada", email="ada@example.com")  # fmt: skip
    Order.inventory.filter(pk=order.pk).update(payment_provider="venue", payment_status="due")
    (difference,) = reconcile.report()
    assert (difference.what, difference.ours, difference.stripe) == (
        "late_payment_refunded", 2500, 0,
    )  # fmt: skip
    refund_in_stripe(intent_id)
    assert reconcile.report() == []


def test_a_refund_webhook_through_the_http_endpoint_updates_the_state(client, show, intents):
    _, ga = show
    (order,) = card_orders(ga, 1, intents)
    refund = services.refund_order(order, reason="x", submit=False)
    event = {
        "id": "evt_refund_1", "object": "event", "type": "refund.updated", "created": 1,
        "data": {"object": {"id": "re_web_1", "object": "refund", "status": "succeeded",
                            "amount": refund.amount, "currency": "eur",
                            "metadata": {"refund": str(refund.pk)}}},
    }  # fmt: skip
    assert signed_webhook(client, event).status_code == 200
    refund.refresh_from_db()
    assert (refund.state, refund.provider_refund_id) == ("succeeded", "re_web_1")

    forged = {**event, "id": "evt_refund_2"}
    forged["data"]["object"] = {**event["data"]["object"], "status": "failed"}
    bad = client.post("/payments/stripe/webhook", forged, content_type="application/json",
                      headers={"Stripe-Signature": "t=1,v1=00"})  # fmt: skip
    assert bad.status_code == 400
    refund.refresh_from_db()
    assert refund.state == "succeeded"  # nothing changed


def test_cancelling_without_a_refund_never_keeps_a_card_payment(client, show, intents):
    from django.urls import reverse

    from ticketing.events.models import Membership

    from .conftest import make_staff

    event, ga = show
    (order,) = card_orders(ga, 1, intents, quantity=2)
    client.force_login(make_staff("m", event.artist.promoter, Membership.Role.MANAGER))
    orders = reverse("admin:orders_order_changelist")
    done = client.post(orders, {"action": "cancel_orders", "_selected_action": [order.pk]},
                       follow=True)  # fmt: skip
    assert "1 order(s) paid by card were left as they are" in done.content.decode()
    assert Order.objects.get(pk=order.pk).state == "confirmed"

    events = reverse("admin:events_event_changelist")
    page = client.post(events, {"action": "cancel", "_selected_action": [event.pk],
                                "post": "yes", "orders": "cancel"})  # fmt: skip
    assert page.status_code == 200
    assert "1 of these orders were paid by card: refund every order" in page.content.decode()
    assert Event.objects.get(pk=event.pk).status == "scheduled"
    assert (
        Order.objects.get(pk=order.pk).state == "confirmed"
        and stripe_refunds(intents[order.pk]) == []
    )
