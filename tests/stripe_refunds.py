"""localstripe for the refund tests: a real HTTP server the real `stripe` client talks to, and
card-paid orders with their PaymentIntents paid in it."""

import contextlib
import hashlib
import hmac
import json
import socket
import subprocess
import sys
import time

import pytest
from django.db.models import Sum
from django.urls import reverse

from ticketing.events.money import to_minor
from ticketing.orders.models import Order
from ticketing.payments import stripe_provider
from ticketing.payments.models import Payment
from ticketing.refunds import providers

from .refunds_helpers import buy
from .servers import free_port

LOCALSTRIPE_PORTS = range(18700, 18800)
KEY = "sk_test_refunds"
WEBHOOK_SECRET = "whsec_refunds_test"


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
def stripe_api(localstripe_url, settings):
    """The product's Stripe client (`ticketing.payments.stripe_provider.client()`) pointed at
    localstripe, webhooks signed with a test secret."""
    settings.STRIPE_API_BASE = localstripe_url
    settings.STRIPE_SECRET_KEY = KEY
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_refunds"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    return localstripe_url


def stripe_client():
    return stripe_provider.client()


def pay_by_card(order: Order) -> str:
    """The order, paid in localstripe: a confirmed PaymentIntent of its total and the Stripe
    checkout's `Payment` of it. Returns the intent's id."""
    api = stripe_client().v1
    method = api.payment_methods.create(params={
        "type": "card",
        "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"},
    })  # fmt: skip
    intent = api.payment_intents.create(params={
        "amount": to_minor(order.total, order.currency), "currency": order.currency.lower(),
        "payment_method": method.id, "confirm": True,
    })  # fmt: skip
    assert intent.status == "succeeded"
    Order.inventory.filter(pk=order.pk).update(payment_provider="stripe", payment_status="paid")
    order.refresh_from_db()
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
    """Stripe's (localstripe's) own record of the intent's refunds."""
    return list(providers.stripe_refunds_of(intent_id))


def refund_in_stripe(intent_id: str, amount: int | None = None, **metadata):
    """A refund made at Stripe, not through us (the dashboard; or a run that died after it)."""
    params = {"payment_intent": intent_id, "metadata": metadata}
    if amount is not None:
        params["amount"] = amount
    return stripe_client().v1.refunds.create(params=params)


def signed_webhook(client, event: dict):
    """POST an event to the webhook as Stripe signs it (`t=<time>,v1=<HMAC-SHA256>`)."""
    payload = json.dumps(event).encode()
    stamp = int(time.time())
    mac = hmac.new(WEBHOOK_SECRET.encode(), b"%d.%s" % (stamp, payload), hashlib.sha256)
    return client.post(
        reverse("payments:stripe_webhook"), payload, content_type="application/json",
        headers={"Stripe-Signature": f"t={stamp},v1={mac.hexdigest()}"},
    )  # fmt: skip


def refunded_total(queryset) -> int:
    return queryset.aggregate(total=Sum("amount"))["total"] or 0
