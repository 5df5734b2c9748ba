"""Card payment writes: start a payment for a hold, confirm the card, and act on Stripe's word.

The hold keeps its seats while the fan pays, for at most the payment window
(the event's `payment_minutes`, from the start of the payment). Only `payment_intent.succeeded`
places the order (`orders.services.place_paid_order`), in the transaction that records the
Stripe event, so a redelivered or concurrent event acts once. If the seats are gone by then
(the window lapsed and they were released), the payment is refunded in full and the fan told.
A declined card leaves the payment open for another card within the window; a cancelled or
timed-out payment gives the seats back and tells the fan.

Lock order is the checkout's: the hold row, then the payment row (then event and ticket types,
in `place_paid_order`). No Stripe call is made while a row is locked.
"""

import datetime as dt
import logging

import stripe
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ticketing.events.money import to_minor
from ticketing.fans import languages
from ticketing.orders import services as orders
from ticketing.orders.errors import HoldNotActive, InvalidRequest, NotFound, NotOnSale
from ticketing.orders.models import Hold
from ticketing.orders.selectors import hold_total, order_refusal
from ticketing.outbox.services import enqueue_email

from . import emails, stripe_provider
from .errors import CardDeclined, PaymentUnavailable
from .models import Payment

logger = logging.getLogger(__name__)

OPEN = (Payment.Status.CREATING, Payment.Status.PENDING)


def window(event) -> dt.timedelta:
    """How long the seats stay held while the fan pays: the event's payment window."""
    return dt.timedelta(minutes=event.payment_minutes)


# --- The fan pays ---------------------------------------------------------------------------


def start_payment(token: str, *, name, email, language=None, now=None) -> Payment:
    """The hold's card payment, with its PaymentIntent: created on the first call (the hold then
    lasts the payment window from now), the same one on every later call."""
    now = now or timezone.now()
    if not stripe_provider.configured():
        raise PaymentUnavailable(_("Card payments are not available."))
    name, email = orders.validate_customer(name, email)
    with transaction.atomic():
        hold = Hold.objects.select_for_update().filter(token=token).first()
        if hold is None:
            raise NotFound("No such hold.")
        payment = Payment.objects.filter(hold=hold).first()
        if payment is None:
            if not hold.is_live(now):
                raise HoldNotActive(_("This hold has run out; please start again."))
            hold.item_list = list(hold.items.select_related("ticket_type"))
            total, currency = hold_total(hold)
            if refusal := order_refusal(hold.event, now):
                raise NotOnSale(refusal.message, code=refusal.code)
            payment = Payment.objects.create(
                hold=hold,
                amount=to_minor(total, currency),
                currency=currency,
                name=name,
                email=email,
                language=languages.from_param(language) or hold.language,
                created_at=now,
            )
            # The window replaces the hold's own expiry: the fan gets the whole window to pay.
            Hold.objects.filter(pk=hold.pk).update(expires_at=now + window(hold.event))
        elif payment.status in OPEN and (payment.name, payment.email) != (name, email):
            Payment.objects.filter(pk=payment.pk).update(name=name, email=email)
    if payment.status == Payment.Status.CREATING:
        intent = stripe_provider.create_intent(payment)  # idempotent: a retry gets the same
        Payment.objects.filter(pk=payment.pk, status=Payment.Status.CREATING).update(
            intent_id=intent.id, client_secret=intent.client_secret, status=Payment.Status.PENDING
        )
        payment.refresh_from_db()
    return payment


def pay_with_card(token: str, card_token: str, now=None) -> Payment:
    """Confirm the payment with the card tokenized by Stripe.js. Raises CardDeclined with a
    message for the fan (the payment stays open for another card); returns the payment, whose
    PaymentIntent may now want 3-D Secure (`requires_action`, finished in the browser)."""
    now = now or timezone.now()
    payment = payment_for_hold(token, now)
    if payment.status != Payment.Status.PENDING:
        raise HoldNotActive(_("This payment is no longer open."), code="payment_closed")
    if not isinstance(card_token, str) or not card_token.startswith("tok_"):
        raise InvalidRequest(_("Enter your card details."))
    try:
        intent = stripe_provider.confirm_with_card_token(payment, card_token)
    except stripe.CardError as error:
        _next_attempt(payment, error.user_message or str(error))
        raise CardDeclined(
            _("Your card was declined. Please try another card."), stripe_code=error.code
        ) from None
    payment.intent_status = intent.status
    return payment


def _next_attempt(payment: Payment, error: str) -> None:
    """After a declined card, a fresh PaymentIntent for the next card (the declined one is
    cancelled, so it can never be paid as well). Stripe would let the same intent be confirmed
    again; localstripe cannot, and a fresh intent per card works with both."""
    declined = payment.intent_id
    payment.attempts += 1
    intent = stripe_provider.create_intent(payment)
    Payment.objects.filter(pk=payment.pk, intent_id=declined, status=Payment.Status.PENDING).update(
        intent_id=intent.id,
        client_secret=intent.client_secret,
        attempts=payment.attempts,
        last_error=error[:500],
    )
    stripe_provider.cancel_intent(declined)


def payment_for_hold(token: str, now=None) -> Payment:
    """The hold's payment as it stands; one whose window lapsed is closed first (so the fan who
    waits on the page learns it at once, not at the next sweep)."""
    payment = Payment.objects.select_related("hold", "order").filter(hold__token=token).first()
    if payment is None:
        raise NotFound("No payment for this hold.")
    if payment.status in OPEN and not payment.hold.is_live(now or timezone.now()):
        close_lapsed(payment.pk, now)
        payment.refresh_from_db()
    return payment


# --- Stripe's word (webhooks) ---------------------------------------------------------------


def _payment_of(intent) -> Payment | None:
    """The payment a PaymentIntent belongs to, locked, after its hold (the lock order). Found by
    the metadata we gave the intent, so an event that overtakes our own API call is not lost."""
    payment_id = (intent.get("metadata") or {}).get("payment_id")
    query = Payment.objects.filter(pk=payment_id) if payment_id else None
    if query is None or not query.exists():
        query = Payment.objects.filter(intent_id=intent["id"])
    row = query.values("pk", "hold_id").first()
    if row is None:
        return None
    Hold.objects.select_for_update().filter(pk=row["hold_id"]).values("pk").first()
    return Payment.objects.select_for_update().select_related("hold").get(pk=row["pk"])


def on_succeeded(event) -> None:
    """`payment_intent.succeeded`: the order, or, if the seats are gone, a refund."""
    intent = event.data.object.to_dict()
    payment = _payment_of(intent)
    if payment is None:
        logger.warning("payment_intent.succeeded for unknown intent %s", intent["id"])
        return
    if payment.status in (Payment.Status.SUCCEEDED, Payment.Status.REFUND_DUE,
                          Payment.Status.REFUNDED):  # fmt: skip
        return
    if int(intent["amount"]) != payment.amount or intent["currency"].upper() != payment.currency:
        logger.error("PaymentIntent %s paid %s %s, not the payment's", intent["id"],
                     intent["amount"], intent["currency"])  # fmt: skip
    with stripe_provider.paid(payment.hold_id):
        order = orders.place_paid_order(
            payment.hold_id,
            name=payment.name,
            email=payment.email,
            language=payment.language,
            payment_provider=stripe_provider.StripeCard.key,
        )
    fields = {"intent_id": intent["id"], "last_error": ""}
    if order is not None:
        Payment.objects.filter(pk=payment.pk).update(
            status=Payment.Status.SUCCEEDED, order=order, **fields
        )
        return
    # The seats are no longer this hold's (or the event stopped selling): never oversell; the
    # money goes back, and seats a hold still has go back on sale.
    if Hold.objects.filter(pk=payment.hold_id, state=Hold.State.ACTIVE).exists():
        orders.release_hold(payment.hold.token)
    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.REFUND_DUE, **fields)
    payment.refresh_from_db()
    enqueue_email(
        emails.payment_refunded(payment),
        kind=emails.PAYMENT_REFUNDED,
        promoter_id=payment.hold.event.artist.promoter_id,
        reference=payment.intent_id,
    )
    transaction.on_commit(lambda: settle_refund(payment.pk))


def on_failed(event) -> None:
    """`payment_intent.payment_failed`: a declined card. The payment stays open for another
    card within the window; only the reason is kept."""
    intent = event.data.object.to_dict()
    payment = _payment_of(intent)
    if payment is None or payment.status not in OPEN:
        return
    error = intent.get("last_payment_error") or {}
    Payment.objects.filter(pk=payment.pk).update(last_error=(error.get("message") or "")[:500])


def on_canceled(event) -> None:
    """`payment_intent.canceled` (in Stripe's dashboard, say): the seats go back and the fan is
    told."""
    intent = event.data.object.to_dict()
    payment = _payment_of(intent)
    # Only the payment's current intent: the one of a declined card is cancelled by us.
    if payment is not None and payment.status in OPEN and payment.intent_id == intent["id"]:
        _release(payment)


# --- Closing what was not paid --------------------------------------------------------------


def _release(payment: Payment) -> None:
    """The open payment (its hold and row locked) is cancelled: seats back, fan told."""
    if payment.hold.state == Hold.State.ACTIVE:
        orders.release_hold(payment.hold.token)
    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.CANCELED)
    enqueue_email(
        emails.payment_released(payment),
        kind=emails.PAYMENT_RELEASED,
        promoter_id=payment.hold.event.artist.promoter_id,
        reference=payment.intent_id or f"payment-{payment.pk}",
    )


def close_lapsed(payment_id: int, now=None) -> bool:
    """Close one open payment whose window lapsed: seats back, fan told, and its PaymentIntent
    cancelled at Stripe after commit (if the fan's money still arrives, its webhook refunds)."""
    now = now or timezone.now()
    with transaction.atomic():
        hold_id = Payment.objects.filter(pk=payment_id).values_list("hold_id", flat=True).first()
        Hold.objects.select_for_update().filter(pk=hold_id).values("pk").first()
        payment = Payment.objects.select_for_update().select_related("hold__event__artist")
        payment = payment.get(pk=payment_id)
        if payment.status not in OPEN or payment.hold.is_live(now):
            return False
        _release(payment)
    if payment.intent_id:
        stripe_provider.cancel_intent(payment.intent_id)
    return True


def settle_refund(payment_id: int) -> None:
    """Refund a payment that arrived too late, in full (idempotent: the Stripe idempotency key
    is the payment's, so running it again returns the same refund)."""
    payment = Payment.objects.get(pk=payment_id)
    if payment.status != Payment.Status.REFUND_DUE:
        return
    try:
        refund = stripe_provider.refund(
            payment,
            payment.amount,
            reason="paid after the hold ran out; seats no longer available",
            idempotency_key=f"payment-{payment.pk}-late-refund",
            metadata={"payment_id": str(payment.pk)},
        )
    except stripe.StripeError:
        logger.exception("Refund of payment %s failed; the sweep retries it", payment.pk)
        return
    Payment.objects.filter(pk=payment.pk, status=Payment.Status.REFUND_DUE).update(
        status=Payment.Status.REFUNDED, refund_id=refund.id
    )


def sweep(now=None) -> dict:
    """Every minute: close the open payments whose window lapsed, and retry due refunds."""
    now = now or timezone.now()
    lapsed = Payment.objects.filter(status__in=OPEN).filter(
        Q(hold__expires_at__lte=now) | ~Q(hold__state=Hold.State.ACTIVE)
    )
    closed = sum(close_lapsed(pk, now) for pk in lapsed.values_list("pk", flat=True)[:500])
    due = list(
        Payment.objects.filter(status=Payment.Status.REFUND_DUE).values_list("pk", flat=True)[:100]
    )
    for pk in due:
        settle_refund(pk)
    return {"closed": closed, "refunds": len(due)}
