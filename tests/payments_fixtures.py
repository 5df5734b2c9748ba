"""Card payments against localstripe (the refund tests' server, `tests.stripe_refunds`): the
product's settings pointed at it, webhooks delivered by localstripe to the live test server (or
signed here, at the HTTP boundary, when a test decides when an event arrives), cards tokenized as
Stripe.js would."""

import json
import time
import urllib.parse
import urllib.request

import pytest
import stripe
from django.conf import settings
from django.db import connections

from ticketing.orders import services as orders
from ticketing.payments.models import Payment

from .checkout import event_on_sale
from .stripe_refunds import localstripe_url

__all__ = ["localstripe_url"]

SECRET = "sk_test_payments"
PUBLISHABLE = "pk_test_payments"
WEBHOOK_SECRET = "whsec_payments_tests"
WEBHOOK_ID = "payments-tests"
GOOD_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000341"  # localstripe: tokenizes, then declined when charged


def _configure_webhook(base: str, url: str) -> None:
    body = json.dumps({"url": url, "secret": WEBHOOK_SECRET}).encode()
    request = urllib.request.Request(  # noqa: S310 (localstripe on 127.0.0.1)
        f"{base}/_config/webhooks/{WEBHOOK_ID}", data=body, method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {SECRET}"},
    )  # fmt: skip
    urllib.request.urlopen(request, timeout=5).close()  # noqa: S310


@pytest.fixture
def stripe_keys(localstripe_url, settings):
    """Card payments on, against localstripe; its webhooks go nowhere (a test delivers them)."""
    settings.STRIPE_SECRET_KEY = SECRET
    settings.STRIPE_PUBLISHABLE_KEY = PUBLISHABLE
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = localstripe_url
    settings.STRIPE_JS_URL = f"{localstripe_url}/js.stripe.com/v3/"
    _configure_webhook(localstripe_url, "http://127.0.0.1:9/nowhere")
    return localstripe_url


@pytest.fixture
def stripe_webhooks(stripe_keys, live_server):
    """localstripe delivers its events, signed, to the live test server's webhook."""
    _configure_webhook(stripe_keys, f"{live_server.url}/payments/stripe/webhook")
    yield live_server
    _configure_webhook(stripe_keys, "http://127.0.0.1:9/nowhere")


def card_token(number=GOOD_CARD) -> str:
    """What Stripe.js's createToken answers in the fan's browser: the card posted to Stripe with
    the publishable key, never to us."""
    body = urllib.parse.urlencode({
        "card[number]": number, "card[exp_month]": "12", "card[exp_year]": "2030",
        "card[cvc]": "123", "key": PUBLISHABLE,
    }).encode()  # fmt: skip
    with urllib.request.urlopen(f"{settings.STRIPE_API_BASE}/v1/tokens", body, 5) as answer:  # noqa: S310
        return json.loads(answer.read())["id"]


def signed(event: dict, secret=WEBHOOK_SECRET) -> tuple[bytes, str]:
    """A webhook body and its Stripe-Signature header, as Stripe signs them."""
    payload = json.dumps(event).encode()
    timestamp = int(time.time())
    signature = stripe.WebhookSignature._compute_signature(
        f"{timestamp}.{payload.decode()}", secret
    )
    return payload, f"t={timestamp},v1={signature}"


def intent_event(intent_id: str, event_type="payment_intent.succeeded", event_id=None) -> dict:
    """The event Stripe sends about this PaymentIntent, its object as localstripe has it now."""
    api = stripe.StripeClient(SECRET, base_addresses={"api": settings.STRIPE_API_BASE})
    obj = api.v1.payment_intents.retrieve(intent_id).to_dict()
    return {
        "id": event_id or f"evt_{intent_id}_{event_type}",
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "data": {"object": obj},
    }


def deliver(client, event: dict):
    payload, signature = signed(event)
    return client.post(
        "/payments/stripe/webhook", payload, content_type="application/json",
        headers={"Stripe-Signature": signature},
    )  # fmt: skip


def a_hold(slug="alpha", *, capacity=10, quantity=2, **fields):
    event, (ga,), _ = event_on_sale(slug, capacities=(capacity,), **fields)
    hold = orders.create_hold([{"ticket_type": ga.pk, "quantity": quantity}])
    return event, ga, hold


def wait_for(condition, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


def payment_of(hold) -> Payment:
    return Payment.objects.get(hold=hold)


def close_connections():
    for connection in connections.all():
        connection.close()
