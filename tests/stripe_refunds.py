"""localstripe for the refund tests: a real HTTP server the real `stripe` client talks to, and
card-paid orders with their PaymentIntents paid in it."""

import contextlib
import socket
import subprocess
import sys
import time

import pytest
import stripe
from django.apps import apps
from django.db.models import Sum

from ticketing.events.money import to_minor
from ticketing.orders.models import Order

from .refunds_helpers import buy
from .servers import free_port

LOCALSTRIPE_PORTS = range(18700, 18800)
KEY = "sk_test_refunds"


@pytest.fixture(scope="session")
def localstripe_url():
    port = free_port(LOCALSTRIPE_PORTS)
    process = subprocess.Popen(
        [sys.executable, "-m", "localstripe", "--port", str(port), "--from-scratch"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            break
        time.sleep(0.1)
    else:
        process.kill()
        raise RuntimeError("localstripe did not start")
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(10)


@pytest.fixture
def stripe_api(localstripe_url, settings, monkeypatch):
    monkeypatch.setattr(stripe, "api_base", localstripe_url)
    settings.STRIPE_SECRET_KEY = KEY
    return localstripe_url


def pay_by_card(order: Order) -> str:
    """The order, paid in localstripe: a confirmed PaymentIntent of its total, as the Stripe
    checkout makes it. Returns the intent's id."""
    method = stripe.PaymentMethod.create(
        type="card", api_key=KEY,
        card={"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"},
    )  # fmt: skip
    intent = stripe.PaymentIntent.create(
        amount=to_minor(order.total, order.currency), currency=order.currency.lower(),
        payment_method=method.id, confirm=True, metadata={"order": order.code}, api_key=KEY,
    )  # fmt: skip
    assert intent.status == "succeeded"
    Order.inventory.filter(pk=order.pk).update(payment_provider="stripe", payment_status="paid")
    order.refresh_from_db()
    if apps.is_installed("ticketing.payments"):  # the Stripe checkout's record of the payment
        from ticketing.payments.models import Payment

        Payment.objects.create(
            hold_id=order.hold_id, order=order, intent_id=intent.id, status="succeeded",
            amount=intent.amount, currency=order.currency, name=order.name, email=order.email,
        )  # fmt: skip
    return intent.id


def card_orders(ga, count, intents, quantity=1):
    orders = []
    for n in range(count):
        order = buy(ga, quantity, f"fan{n}@example.com")
        intents[order.pk] = pay_by_card(order)
        orders.append(order)
    return orders


def stripe_refunds(intent_id: str) -> list:
    return list(stripe.Refund.list(payment_intent=intent_id, limit=100, api_key=KEY)
                .auto_paging_iter())  # fmt: skip


def refunded_total(queryset) -> int:
    return queryset.aggregate(total=Sum("amount"))["total"] or 0
