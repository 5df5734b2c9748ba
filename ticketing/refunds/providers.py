"""Asking the payment provider for a refund. Only orders paid by card go to one (Stripe); an
order paid at the venue, or free, is refunded on our books alone (`Refund.State.RECORDED`).

Amounts cross to Stripe as integers of the minor unit, exactly as `Refund.amount` holds them.
"""

import datetime as dt
import logging

from django.db.models import Q
from django.utils import timezone

from .models import Refund

logger = logging.getLogger(__name__)

SUBMIT_LEASE = dt.timedelta(minutes=2)  # longer than one Stripe call can take (timeouts, retries)
STRIPE = "stripe"  # Order.payment_provider of card payments (ticketing/payments)

_STATES = {
    "succeeded": Refund.State.SUCCEEDED,
    "failed": Refund.State.FAILED,
    "canceled": Refund.State.CANCELED,
}


def state_of(status: str) -> str:
    """Our state for a Stripe refund status (`pending`, `requires_action`: still on its way)."""
    return _STATES.get(status, Refund.State.REQUESTED)


def takes_refunds(order) -> bool:
    """Whether refunding this order means asking Stripe for money back."""
    return order.payment_provider == STRIPE and order.payment_status == "paid"


def _payment(order):
    """The Stripe checkout's record of the card payment of this order."""
    from ticketing.payments.models import Payment

    payment = Payment.objects.filter(order_id=order.pk).exclude(intent_id=None).first()
    if payment is None:
        raise LookupError(f"Order {order.code} has no PaymentIntent")
    return payment


def payment_intent_id(order) -> str:
    return _payment(order).intent_id


def submit(refund: Refund) -> bool:
    """Ask Stripe for a pending refund, once: if Stripe already has a refund naming ours in its
    metadata (an earlier run died before it could record the answer), that one is taken.

    A submitter claims the refund for SUBMIT_LEASE first (a conditional UPDATE), so two runners
    never ask Stripe for one refund at the same moment. Returns whether Stripe has it now; on an
    error, or while another submitter holds it, the refund stays pending for the next run."""
    import stripe

    from ticketing.payments import stripe_provider

    now = timezone.now()
    row = Refund.objects.filter(pk=refund.pk).values("state", "submitted_at").get()
    if row["state"] != Refund.State.PENDING:
        return True
    claimed = (
        Refund.objects.filter(pk=refund.pk, state=Refund.State.PENDING)
        .filter(Q(submitting_until__isnull=True) | Q(submitting_until__lt=now))
        .update(submitting_until=now + SUBMIT_LEASE, submitted_at=now)
    )
    if not claimed:
        return False
    try:
        payment = _payment(refund.order)
        remote = (row["submitted_at"] and _already_made(payment.intent_id, refund)) or (
            stripe_provider.refund(
                payment,
                refund.amount,
                reason=refund.reason,
                idempotency_key=refund.idempotency_key,
                metadata={"refund": str(refund.pk), "order": refund.order.code},
            )
        )
    except (stripe.StripeError, LookupError, ValueError) as error:
        logger.warning("refund %s: Stripe did not take it (%s); it stays pending", refund.pk, error)
        Refund.objects.filter(pk=refund.pk).update(
            submitting_until=None, last_error=f"{type(error).__name__}: {error}"[:2000]
        )
        return False
    if remote.amount != refund.amount or remote.currency.upper() != refund.currency:
        # Never silently: the books and Stripe disagree (reconcile_payments reports it too).
        logger.error("refund %s: Stripe made %s %s", refund.pk, remote.amount, remote.currency)
    from .services import apply_provider_state

    apply_provider_state(refund.pk, remote.id, remote.status)
    Refund.objects.filter(pk=refund.pk).update(submitting_until=None, last_error="")
    return True


def stripe_refunds_of(intent_id: str):
    """Every refund Stripe has of this PaymentIntent."""
    from ticketing.payments import stripe_provider

    page = stripe_provider.client().v1.refunds.list(
        params={"payment_intent": intent_id, "limit": 100}
    )
    return page.auto_paging_iter()


def _already_made(intent_id: str, refund: Refund):
    for remote in stripe_refunds_of(intent_id):
        if remote.metadata and remote.metadata.to_dict().get("refund") == str(refund.pk):
            return remote
    return None
