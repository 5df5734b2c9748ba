"""Our books against Stripe's, to the minor unit: `manage.py reconcile_payments` (daily).

For every order paid by card in the period, Stripe's PaymentIntent must have received exactly
the order's total, and Stripe's refunds of it must be exactly ours (same ids, amounts, states).
On our side alone, an order's total less its refunds must be what its valid tickets are worth
(what the analytics count as revenue), and no order may be refunded more than it was paid.
"""

import datetime as dt
import logging
from dataclasses import dataclass

from django.apps import apps
from django.db.models import Prefetch
from django.utils import timezone

from ticketing.events.money import to_minor
from ticketing.orders.models import Order, Ticket

from . import providers
from .models import Refund

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Difference:
    order: str  # the order's code
    what: str  # amount_received | refund_missing_at_stripe | refund_unknown | ...
    ours: object
    stripe: object

    def line(self) -> str:
        return f"{self.order}: {self.what}: ours {self.ours}, Stripe's {self.stripe}"


def report(*, days: int = 30, now=None) -> list[Difference]:
    """Every difference for the orders placed in the last `days` days (refunds included)."""
    now = now or timezone.now()
    orders = (
        Order.objects.filter(created_at__gte=now - dt.timedelta(days=days))
        .prefetch_related(
            Prefetch("refunds", queryset=Refund.objects.order_by("pk")),
            Prefetch("tickets", queryset=Ticket.objects.live()),
        )
        .order_by("pk")
    )
    differences = []
    for order in orders.iterator(chunk_size=200):
        differences += _books(order)
        if providers.takes_refunds(order) or any(
            r.provider == providers.STRIPE for r in order.refunds.all()
        ):
            differences += _against_stripe(order)
    differences += _late_payments(now - dt.timedelta(days=days))
    for difference in differences:
        logger.warning("reconcile: %s", difference.line())
    return differences


def _late_payments(since) -> list[Difference]:
    """Payments that succeeded after their seats were gone have no order: the Stripe checkout
    refunds them whole (`Payment.refund_id`). Stripe must have given back exactly the amount."""
    if not apps.is_installed("ticketing.payments"):
        return []
    import stripe

    from ticketing.payments.models import Payment

    found = []
    late = Payment.objects.filter(
        created_at__gte=since, status__in=["refund_due", "refunded"], intent_id__isnull=False
    )
    for payment in late.order_by("pk").iterator(chunk_size=200):
        name = f"payment {payment.intent_id}"
        try:
            back = sum(
                r.amount
                for r in providers.stripe_refunds_of(payment.intent_id)
                if r.status in ("succeeded", "pending")
            )
        except stripe.StripeError as error:
            found.append(Difference(name, "stripe_unreachable", payment.amount, str(error)))
            continue
        if payment.status == "refunded" and back != payment.amount:
            found.append(Difference(name, "late_payment_refunded", payment.amount, back))
        elif payment.status == "refund_due":
            found.append(Difference(name, "late_payment_refund_due", payment.amount, back))
    return found


def _books(order) -> list[Difference]:
    total = to_minor(order.total, order.currency)
    refunded = sum(r.amount for r in order.refunds.all() if r.state not in _UNDONE)
    valid = sum(to_minor(t.price, order.currency) for t in order.tickets.all())
    found = []
    if refunded > total:
        found.append(Difference(order.code, "refunded_more_than_paid", refunded, total))
    if order.state == Order.State.CONFIRMED and total - refunded != valid:
        found.append(Difference(order.code, "total_less_refunds_vs_valid_tickets",
                                total - refunded, valid))  # fmt: skip
    return found


_UNDONE = (Refund.State.FAILED, Refund.State.CANCELED)


def _against_stripe(order) -> list[Difference]:
    import stripe

    from ticketing.payments import stripe_provider

    found = []
    intent_id = None
    try:
        intent_id = providers.payment_intent_id(order)
        intent = stripe_provider.client().v1.payment_intents.retrieve(intent_id)
        theirs = {r.id: r for r in providers.stripe_refunds_of(intent_id)}
    except (stripe.StripeError, LookupError) as error:
        return [Difference(order.code, "stripe_lookup_failed", intent_id, str(error))]
    total = to_minor(order.total, order.currency)
    # What the intent took (`amount_received`; localstripe leaves it out, its charge has it).
    facts = intent.to_dict()
    received = (
        facts.get("amount_received", facts.get("amount")) if intent.status == "succeeded" else 0
    )
    if order.payment_status == "paid" and received != total:
        found.append(Difference(order.code, "amount_received", total, received))
    if intent.currency.upper() != order.currency:
        found.append(Difference(order.code, "currency", order.currency, intent.currency.upper()))
    ours = {r.provider_refund_id: r for r in order.refunds.all() if r.provider_refund_id}
    for refund in order.refunds.all():
        if refund.provider == providers.STRIPE and not refund.provider_refund_id:
            found.append(Difference(order.code, "refund_not_submitted", refund.amount, None))
    for refund_id, refund in ours.items():
        remote = theirs.get(refund_id)
        if remote is None:
            found.append(Difference(order.code, "refund_missing_at_stripe", refund_id, None))
            continue
        if remote.amount != refund.amount:
            found.append(Difference(order.code, f"refund_amount {refund_id}", refund.amount,
                                    remote.amount))  # fmt: skip
        if providers.state_of(remote.status) != refund.state:
            found.append(Difference(order.code, f"refund_state {refund_id}", refund.state,
                                    remote.status))  # fmt: skip
    for refund_id, remote in theirs.items():
        if refund_id not in ours:
            found.append(Difference(order.code, "refund_unknown", None,
                                    f"{refund_id} {remote.amount}"))  # fmt: skip
    return found
