"""Stripe webhooks: verify the signature, then act on each event once.

Handlers are registered per event type (`register`) by dotted path, imported when an event
needs them: the apps register at start-up, and a cold Lambda container answering the widget or
/healthz should import neither them nor the `stripe` library (about 100 ms). Each runs inside
the transaction that
inserts the event's id into `StripeEvent`, so a redelivery finds the row and does nothing, and
two deliveries at once queue on the primary key (the second then finds it). Events arrive in
any order: every handler checks the state it moves from.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.module_loading import import_string

from .models import StripeEvent

if TYPE_CHECKING:
    import stripe

logger = logging.getLogger(__name__)

_handlers: dict[str, list[str]] = {}


def register(event_type: str, handler: str) -> None:
    """Call the function at dotted path `handler` with each verified event of `event_type`
    (once per event id)."""
    if handler not in _handlers.setdefault(event_type, []):
        _handlers[event_type].append(handler)


class BadSignature(Exception):
    pass


def verify(payload: bytes, signature: str | None) -> stripe.Event:
    """The event, if Stripe signed it with our webhook secret (and recently); else BadSignature."""
    import stripe

    try:
        return stripe.Webhook.construct_event(
            payload, signature or "", settings.STRIPE_WEBHOOK_SECRET
        )
    except (ValueError, stripe.SignatureVerificationError) as error:
        raise BadSignature(str(error)) from None


def handle(event: stripe.Event) -> bool:
    """Act on a verified event; False if it was handled before."""
    handlers = [import_string(path) for path in _handlers.get(event.type, [])]
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
