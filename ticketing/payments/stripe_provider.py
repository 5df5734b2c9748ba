"""The Stripe provider: the `PaymentProvider` seam of `ticketing.orders.payments`, and the few
Stripe API calls the product makes (PaymentIntent, card confirmation, refund).

Configured from the environment (`STRIPE_SECRET_KEY`, `STRIPE_PUBLISHABLE_KEY`,
`STRIPE_WEBHOOK_SECRET`; on Lambda they come from the stage's Secrets Manager secret like the
other secrets, see `ticketing.deploy.environment`). Without all three the provider is not offered
and checkout keeps "free / pay at the venue". Calls on a fan's request get a tight timeout and
one retry (the Stripe client retries with the same idempotency key, so a retry never charges
twice).
"""

from contextlib import contextmanager, suppress
from contextvars import ContextVar
from decimal import Decimal
from functools import cache

import stripe
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ticketing.orders.errors import InvalidRequest
from ticketing.orders.payments import PaymentResult


def configured() -> bool:
    return bool(
        settings.STRIPE_SECRET_KEY
        and settings.STRIPE_PUBLISHABLE_KEY
        and settings.STRIPE_WEBHOOK_SECRET
    )


@cache
def _client(api_key: str, api_base: str | None) -> stripe.StripeClient:
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base} if api_base else None,
        max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
        http_client=stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT),
    )


def client() -> stripe.StripeClient:
    return _client(settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE or None)


class StripeCard:
    """Card payments through Stripe. An order paid this way is placed only by the webhook that
    reports the money (`services.fulfil`); asked to start one any other way, it refuses."""

    key = "stripe"
    label = gettext_lazy("Card")

    def is_available(self, total: Decimal, currency: str) -> bool:
        return configured() and total > 0

    def start(self, order) -> PaymentResult:
        if _paid_hold.get() == order.hold_id:
            return PaymentResult(status="paid")
        raise InvalidRequest(_("Pay by card on the payment page."), code="pay_by_card")


# The hold whose money Stripe just reported (set by `services.on_succeeded` around placing its
# order): the one order this provider vouches for.
_paid_hold: ContextVar[int | None] = ContextVar("paid_hold", default=None)


@contextmanager
def paid(hold_id: int):
    reset = _paid_hold.set(hold_id)
    try:
        yield
    finally:
        _paid_hold.reset(reset)


# --- Stripe API calls -----------------------------------------------------------------------


def create_intent(payment) -> stripe.PaymentIntent:
    """The payment's PaymentIntent; the same one again if asked twice (idempotency key)."""
    return client().v1.payment_intents.create(
        params={
            "amount": payment.amount,
            "currency": payment.currency.lower(),
            "metadata": {"payment_id": str(payment.pk), "hold_id": str(payment.hold_id)},
        },
        options={"idempotency_key": f"payment-{payment.pk}-intent-{payment.attempts}"},
    )


def confirm_with_card_token(payment, card_token: str) -> stripe.PaymentIntent:
    """Confirm the PaymentIntent with the card Stripe.js tokenized in the fan's browser (card
    data never reaches our origin). Raises `stripe.CardError` when the card is declined.

    localstripe takes neither `payment_method_data` nor `payment_method` on confirm, so the card
    is set on the PaymentIntent first and then confirmed: both are plain Stripe API calls."""
    token = client().v1.tokens.retrieve(card_token)
    stripe_client = client()
    stripe_client.v1.payment_intents.update(
        payment.intent_id, params={"payment_method": token.card.id}
    )
    return stripe_client.v1.payment_intents.confirm(payment.intent_id)


def cancel_intent(intent_id: str) -> None:
    """Cancel an unpaid PaymentIntent so the fan can no longer pay it; an intent that already
    succeeded or is gone is left alone (its webhook decides)."""
    with suppress(stripe.InvalidRequestError):
        client().v1.payment_intents.cancel(intent_id)


def refund(payment, amount_minor: int, *, reason: str, idempotency_key: str, metadata=None):
    """Refund `amount_minor` of the payment's PaymentIntent; returns the Stripe Refund (its
    `id`, `status`). The same `idempotency_key` returns the same refund. The reason goes into
    the refund's metadata (Stripe's own `reason` field takes three fixed values only)."""
    if not 0 < amount_minor <= payment.amount:
        raise ValueError(f"refund of {amount_minor} outside 1..{payment.amount}")
    return client().v1.refunds.create(
        params={
            "payment_intent": payment.intent_id,
            "amount": amount_minor,
            "metadata": {"reason": reason[:500], **(metadata or {})},
        },
        options={"idempotency_key": idempotency_key},
    )
