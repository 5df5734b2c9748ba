"""Notify-me writes: subscribe (double opt-in), confirm, unsubscribe, and telling the waiting fans
once an event sells.

Links are signed with the SECRET_KEY (`django.core.signing`), so no token is stored: a confirm
link names its subscription and lasts `CONFIRM_MAX_AGE`; an unsubscribe link never expires.

Limits, because a form that sends email to any address it is given is a tool for mail-bombing:
one address gets at most `MAX_CONFIRMATIONS_PER_ADDRESS` confirmation emails a day (whatever the
event), a confirmation for one subscription is not resent within `RESEND_AFTER`, and one client
may ask as often as `settings.RATE_LIMITS["notify"]` says (ticketing/limits).
"""

import datetime as dt
import logging
import time

from django.conf import settings
from django.contrib.auth.base_user import BaseUserManager
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from ticketing.events.models import Event
from ticketing.fans import languages
from ticketing.outbox.services import enqueue_email, enqueue_emails

from . import emails, selectors
from .models import Subscription

logger = logging.getLogger(__name__)

CONFIRM_SALT = "ticketing.notify.confirm"
UNSUBSCRIBE_SALT = "ticketing.notify.unsubscribe"
CONFIRM_MAX_AGE = dt.timedelta(days=7)
RESEND_AFTER = dt.timedelta(minutes=10)
MAX_CONFIRMATIONS_PER_ADDRESS = 5  # a day
NOTIFY_BATCH = 200
NOTIFY_BUDGET_SECONDS = 20  # one scheduled run; what is left waits for the next minute


class NotifyError(Exception):
    """What the fan is told: a stable `code`, a `message` in the active language, a status."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


# --- Signed links -----------------------------------------------------------------------------


def confirm_token(subscription: Subscription) -> str:
    return signing.dumps(subscription.pk, salt=CONFIRM_SALT, compress=True)


def unsubscribe_token(subscription: Subscription) -> str:
    return signing.dumps(subscription.pk, salt=UNSUBSCRIBE_SALT, compress=True)


def subscription_for_link(token: str, salt: str) -> Subscription:
    """The subscription a confirm (CONFIRM_SALT) or unsubscribe link names, or NotifyError."""
    max_age = CONFIRM_MAX_AGE if salt == CONFIRM_SALT else None
    pk = _subscription_pk(token, salt, max_age)
    subscription = (
        Subscription.objects.select_related("event__artist", "event__venue").filter(pk=pk).first()
    )
    if subscription is None:
        raise NotifyError("bad_link", _("This link is not valid."), 404)
    return subscription


def _subscription_pk(token: str, salt: str, max_age=None) -> int:
    try:
        return int(signing.loads(token, salt=salt, max_age=max_age))
    except signing.SignatureExpired:
        raise NotifyError(
            "link_expired", _("This link has expired. Please ask to be notified again."), 410
        ) from None
    except (signing.BadSignature, TypeError, ValueError):
        raise NotifyError("bad_link", _("This link is not valid."), 404) from None


# --- Subscribe, confirm, unsubscribe ----------------------------------------------------------


def subscribe(event: Event, email, *, language=None, now=None) -> Subscription:
    """Ask to be told about `event`: a pending subscription and a confirmation email.

    Asking again re-sends the confirmation (not within RESEND_AFTER) or, after being told or
    unsubscribing, starts a fresh opt-in; an active subscription stays as it is. Raises
    NotifyError for a bad address, an event nobody can wait for, or too many emails.
    """
    now = now or timezone.now()
    email = _valid_email(email)
    language = languages.from_param(language) or settings.LANGUAGE_CODE
    if not selectors.can_wait_for(event, now):
        if selectors.is_buyable(event, now):
            raise NotifyError("on_sale", _("Tickets are on sale now."), 409)
        raise NotifyError("closed", _("This event sells no more tickets."), 409)
    with transaction.atomic():
        subscription = _locked_subscription(event, email, language, now)
        if subscription.state == Subscription.State.ACTIVE:
            return subscription
        if subscription.state != Subscription.State.PENDING:
            subscription.state = Subscription.State.PENDING
            subscription.confirmation_sent_at = None
        if (
            subscription.confirmation_sent_at
            and now - subscription.confirmation_sent_at < RESEND_AFTER
        ):
            return subscription
        if _confirmations_sent(email, now) >= MAX_CONFIRMATIONS_PER_ADDRESS:
            raise NotifyError(
                "too_many", _("Too many requests for this address. Please try again tomorrow."), 429
            )
        subscription.language = language
        subscription.confirmation_sent_at = now
        subscription.save()
        enqueue_email(
            emails.confirmation_message(
                subscription, confirm_token(subscription), unsubscribe_token(subscription)
            ),
            kind=emails.CONFIRM,
            promoter_id=event.artist.promoter_id,
            reference=f"subscription {subscription.pk}",
        )
    return subscription


def _valid_email(email) -> str:
    email = email.strip() if isinstance(email, str) else ""
    try:
        if len(email) > 254:
            raise ValidationError("too long")
        validate_email(email)
    except ValidationError:
        raise NotifyError("invalid_email", _("Please enter a valid email address.")) from None
    return BaseUserManager.normalize_email(email)


def _locked_subscription(event, email, language, now) -> Subscription:
    """The event's subscription for this address, row-locked; created when there is none."""
    found = (
        Subscription.objects.select_for_update()
        .annotate(address=Lower("email"))
        .filter(event=event, address=email.lower())
        .first()
    )
    if found:
        return found
    try:
        with transaction.atomic():  # a savepoint: a concurrent twin must not sink the outer one
            return Subscription.objects.create(
                event=event, email=email, language=language, created_at=now
            )
    except IntegrityError:
        return _locked_subscription(event, email, language, now)


def _confirmations_sent(email: str, now) -> int:
    return (
        Subscription.objects.annotate(address=Lower("email"))
        .filter(address=email.lower(), confirmation_sent_at__gt=now - dt.timedelta(days=1))
        .count()
    )


def confirm(token: str, now=None) -> Subscription:
    """The fan clicked the link in the confirmation email: a pending subscription becomes
    active. Any other state is left alone (an unsubscribe is not undone by an old link)."""
    pk = _subscription_pk(token, CONFIRM_SALT, max_age=CONFIRM_MAX_AGE)
    with transaction.atomic():
        subscription = _get_locked(pk)
        if subscription.state == Subscription.State.PENDING:
            subscription.state = Subscription.State.ACTIVE
            subscription.confirmed_at = now or timezone.now()
            subscription.save(update_fields=["state", "confirmed_at"])
    return subscription


def unsubscribe(token: str, now=None) -> Subscription:
    pk = _subscription_pk(token, UNSUBSCRIBE_SALT)
    with transaction.atomic():
        subscription = _get_locked(pk)
        if subscription.state != Subscription.State.UNSUBSCRIBED:
            subscription.state = Subscription.State.UNSUBSCRIBED
            subscription.unsubscribed_at = now or timezone.now()
            subscription.save(update_fields=["state", "unsubscribed_at"])
    return subscription


def _get_locked(pk: int) -> Subscription:
    subscription = (
        Subscription.objects.select_for_update()
        .select_related("event__artist", "event__venue")
        .filter(pk=pk)
        .first()
    )
    if subscription is None:
        raise NotifyError("bad_link", _("This link is not valid."), 404)
    return subscription


# --- Telling them -----------------------------------------------------------------------------


def notify_subscribers(now=None, *, batch_size: int = NOTIFY_BATCH) -> int:
    """Tell every active subscriber of an event that now sells (on sale, seats left) once, and
    return how many were told. Scheduled every minute (`ticketing.notify.handlers`); safe to run
    twice at once: each batch locks its rows and skips those another run holds."""
    now = now or timezone.now()
    deadline = time.monotonic() + NOTIFY_BUDGET_SECONDS
    told = 0
    for event in selectors.events_with_waiting_fans():
        if not selectors.is_buyable(event, now):
            continue
        while time.monotonic() < deadline:
            with transaction.atomic():
                waiting = list(
                    Subscription.objects.filter(event=event, state=Subscription.State.ACTIVE)
                    .select_for_update(skip_locked=True)
                    .order_by("pk")[:batch_size]
                )
                for subscription in waiting:
                    subscription.event = event
                enqueue_emails(
                    [
                        (
                            emails.notification_message(s, unsubscribe_token(s)),
                            f"subscription {s.pk}",
                        )
                        for s in waiting
                    ],
                    kind=emails.TICKETS,
                    promoter_id=event.artist.promoter_id,
                )
                Subscription.objects.filter(pk__in=[s.pk for s in waiting]).update(
                    state=Subscription.State.NOTIFIED, notified_at=now
                )
            told += len(waiting)
            if len(waiting) < batch_size:
                break
    if told:
        logger.info("Told %d fans that tickets are available", told)
    return told
