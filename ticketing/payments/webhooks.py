"""Stripe webhooks: verify the signature, then act on each event once.

Handlers are registered per event type (`register`); each runs inside the transaction that
inserts the event's id into `StripeEvent`, so a redelivery finds the row and does nothing, and
two deliveries at once queue on the primary key (the second then finds it). Events arrive in
any order: every handler checks the state it moves from.
"""

import logging
from collections.abc import Callable

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction

from .models import StripeEvent

logger = logging.getLogger(__name__)

_handlers: dict[str, list[Callable]] = {}


def register(event_type: str, handler: Callable) -> None:
    """Call `handler(event)` for each verified event of `event_type` (once per event id)."""
    if handler not in _handlers.setdefault(event_type, []):
        _handlers[event_type].append(handler)


class BadSignature(Exception):
    pass


def verify(payload: bytes, signature: str | None) -> stripe.Event:
    """The event, if Stripe signed it with our webhook secret (and recently); else BadSignature."""
    try:
        return stripe.Webhook.construct_event(
            payload, signature or "", settings.STRIPE_WEBHOOK_SECRET
        )
    except (ValueError, stripe.SignatureVerificationError) as error:
        raise BadSignature(str(error)) from None


def handle(event: stripe.Event) -> bool:
    """Act on a verified event; False if it was handled before."""
    handlers = _handlers.get(event.type, [])
    try:
        with transaction.atomic():
            StripeEvent.objects.create(id=event.id, type=event.type)
            for handler in handlers:
                handler(event)
    except IntegrityError:
        if StripeEvent.objects.filter(id=event.id).exists():
            return False  # a redelivery: done already
        raise
    return True
