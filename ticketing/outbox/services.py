"""The outbox: emails written in the transaction of the change that causes them, sent after it
commits, retried with backoff until they go or `OUTBOX_MAX_ATTEMPTS` is spent. Nothing on a
request path waits for an SMTP server.

Other apps call:

- `enqueue_email(message, kind=..., promoter_id=..., reference=...)`: store a rendered
  `EmailMultiAlternatives`; `enqueue_emails([(message, reference), ...], ...)` for many of one
  kind (one prompt for all of them).
- `send_due()`: the drain (`manage.py send_outbox`; on Lambda every minute).
- `resend(emails)`: the back office's "resend".

Sending, concurrently and safely: a sender claims due emails by pushing their `next_attempt_at`
to the end of a lease, one conditional UPDATE per row (after `SELECT ... FOR UPDATE SKIP LOCKED`
on PostgreSQL, so concurrent senders share the work instead of queueing), then sends outside any
transaction. No two senders hold one email at once. Delivery is at least once: a sender that
dies after the SMTP server took a message and before it marked the row sent leaves the email to
be sent again when its lease ends; every attempt carries the same Message-ID.
"""

import datetime as dt
import logging
import random
import smtplib
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.message import make_msgid
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from ticketing.site import public_host

from . import prompt
from .models import Email

logger = logging.getLogger(__name__)

# A claim outlasts any sender: a drain stops claiming when its budget is spent and releases what
# it has not tried by then; one SMTP operation takes at most EMAIL_TIMEOUT.
LEASE = dt.timedelta(minutes=5)
FIRST_RETRY_SECONDS = 30  # then doubling, with jitter, up to
LAST_RETRY_SECONDS = 3600  # 10 attempts span about four hours
BATCH_SIZE = 50  # emails claimed, and sent over one SMTP connection, at a time
DRAIN_SECONDS = 15  # a scheduled drain's budget, well inside the Lambda timeout (30 s)


@dataclass
class Delivery:
    """What one send did: emails sent, to be retried, given up on, released untried; and whether
    it stopped early (the mail server unreachable or gone, or the budget spent)."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    released: int = 0
    stopped: bool = False

    def __iadd__(self, other: "Delivery") -> "Delivery":
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed
        self.released += other.released
        self.stopped |= other.stopped
        return self


# --- Writing ---------------------------------------------------------------------------------


def enqueue_email(
    message: EmailMultiAlternatives, *, kind: str, promoter_id: int | None, reference: str = ""
) -> Email:
    """Store `message` to be sent once the current transaction commits (at once outside one).

    Call it inside the transaction of the change the email tells about: the email exists if and
    only if the change does. `kind` says what it is (order_confirmation), `reference` what it is
    about (an order code), `promoter_id` whose back office shows it.
    """
    email = _stored(message, kind=kind, promoter_id=promoter_id, reference=reference)
    email.save(force_insert=True)
    prompt.after_commit([email.pk])
    return email


def enqueue_emails(
    messages: Iterable[tuple[EmailMultiAlternatives, str]], *, kind: str, promoter_id: int | None
) -> list[Email]:
    """`enqueue_email` for many `(message, reference)` of one kind: one insert, one prompt."""
    emails = Email.objects.bulk_create(
        _stored(message, kind=kind, promoter_id=promoter_id, reference=reference)
        for message, reference in messages
    )
    if emails:
        prompt.after_commit([email.pk for email in emails])
    return emails


def _stored(message: EmailMultiAlternatives, **fields) -> Email:
    email = Email.from_message(message, **fields)
    # One Message-ID for every attempt: a copy sent twice (at least once) is recognisably one.
    email.message["headers"].setdefault("Message-ID", _message_id())
    return email


def _message_id() -> str:
    return make_msgid(domain=public_host())


def resend(emails: QuerySet[Email], now=None) -> int:
    """Send these again now, with a fresh set of attempts. A sent email goes out once more under a
    new Message-ID (mail providers drop a second copy of one they already delivered)."""
    now = now or timezone.now()
    with transaction.atomic():
        chosen = list(Email.objects.filter(pk__in=emails.values("pk")).select_for_update())
        for email in chosen:
            email.message["headers"]["Message-ID"] = _message_id()
            email.state = Email.State.PENDING
            email.attempts = 0
            email.next_attempt_at = now
            email.save(update_fields=["message", "state", "attempts", "next_attempt_at"])
        prompt.after_commit([email.pk for email in chosen])
    return len(chosen)


# --- Sending ---------------------------------------------------------------------------------


def send_due(*, now=None, budget_seconds: float = DRAIN_SECONDS) -> Delivery:
    """Send every email that is due, a batch at a time, until none is left or the budget is
    spent. Safe to run in several processes at once."""
    deadline = time.monotonic() + budget_seconds
    total = Delivery()
    while time.monotonic() < deadline:
        batch = _claim(Email.objects.all(), now or timezone.now(), BATCH_SIZE)
        if not batch:
            break
        delivery = _deliver(batch, now, deadline)
        total += delivery
        if delivery.stopped:
            break
    return total


def send_emails(ids: list[int], *, now=None, budget_seconds: float = DRAIN_SECONDS) -> Delivery:
    """The prompt attempt at emails just committed: those of `ids` still due (a drain may have
    sent them already)."""
    batch = _claim(Email.objects.filter(pk__in=ids), now or timezone.now(), len(ids))
    return _deliver(batch, now, time.monotonic() + budget_seconds) if batch else Delivery()


def _claim(candidates: QuerySet[Email], now, limit: int) -> list[Email]:
    """Take up to `limit` due emails for this sender until its lease ends; counts the attempt."""
    due = {"state": Email.State.PENDING, "next_attempt_at__lte": now}
    with transaction.atomic():
        ids = list(
            candidates.filter(**due)
            .order_by("next_attempt_at", "pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        # Conditional, row by row: where the database takes no row locks (SQLite), a sender
        # that read the same rows claims none of those another sender has already claimed.
        claimed = [
            pk
            for pk in ids
            if Email.objects.filter(pk=pk, **due).update(
                next_attempt_at=now + LEASE, attempts=F("attempts") + 1
            )
        ]
    return list(Email.objects.filter(pk__in=claimed).order_by("next_attempt_at", "pk"))


def _deliver(batch: list[Email], now, deadline: float) -> Delivery:
    """Send claimed emails over one connection; record how each went."""
    delivery = Delivery()
    connection = get_connection()
    try:
        connection.open()
    except Exception as error:  # refused, timed out, TLS or login failure: none of them went
        logger.warning("outbox: no mail server (%s); %d email(s) wait", error, len(batch))
        for email in batch:
            delivery += _failed(email, error, now)
        delivery.stopped = True
        return delivery
    try:
        for index, email in enumerate(batch):
            if time.monotonic() >= deadline:
                delivery += _release(batch[index:], now)
                delivery.stopped = True
                break
            try:
                accepted = connection.send_messages([email.to_message()])
            except Exception as error:
                delivery += _failed(email, error, now)
                if not _about_this_message(error):  # the connection broke: the rest wait
                    delivery += _release(batch[index + 1 :], now)
                    delivery.stopped = True
                    break
            else:
                if accepted:
                    Email.objects.filter(pk=email.pk).update(
                        state=Email.State.SENT, sent_at=now or timezone.now(), last_error=""
                    )
                    delivery.sent += 1
                else:  # the backend had no recipient to send to
                    delivery += _failed(email, ValueError("no recipients"), now, permanent=True)
    finally:
        try:
            connection.close()
        except Exception:  # a server gone mid-QUIT: nothing left to do
            logger.debug("outbox: closing the mail connection failed", exc_info=True)
    return delivery


def _about_this_message(error: Exception) -> bool:
    """The server refused this message; the connection is still good for the next one."""
    return isinstance(
        error,
        smtplib.SMTPRecipientsRefused | smtplib.SMTPSenderRefused | smtplib.SMTPDataError,
    )


def _permanent(error: Exception) -> bool:
    """Every recipient refused for good (5xx): no retry will change that."""
    return isinstance(error, smtplib.SMTPRecipientsRefused) and all(
        code >= 500 for code, _ in error.recipients.values()
    )


def _failed(email: Email, error: Exception, now, *, permanent: bool = False) -> Delivery:
    now = now or timezone.now()
    give_up = permanent or _permanent(error) or email.attempts >= settings.OUTBOX_MAX_ATTEMPTS
    changes = {"last_error": f"{type(error).__name__}: {error}"[:2000]}
    if give_up:
        changes["state"] = Email.State.FAILED
    else:
        changes["next_attempt_at"] = now + dt.timedelta(seconds=retry_delay(email.attempts))
    Email.objects.filter(pk=email.pk).update(**changes)
    logger.warning(
        "outbox: email %s (%s %s) attempt %d failed: %s%s",
        email.pk, email.kind, email.reference, email.attempts, changes["last_error"],
        "; given up" if give_up else "",
    )  # fmt: skip
    return Delivery(failed=1) if give_up else Delivery(retrying=1)


def _release(emails: list[Email], now) -> Delivery:
    """Give back claimed emails this sender did not try: due again now, no attempt counted."""
    if not emails:
        return Delivery()
    Email.objects.filter(pk__in=[email.pk for email in emails]).update(
        next_attempt_at=now or timezone.now(), attempts=F("attempts") - 1
    )
    return Delivery(released=len(emails))


def retry_delay(attempts: int) -> float:
    """Seconds before the next attempt after `attempts` failed ones: 30 s doubling to an hour,
    ±20% so that emails that failed together do not all come back at the same moment."""
    base = min(LAST_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** (attempts - 1))
    return base * random.uniform(0.8, 1.2)  # noqa: S311 (jitter, not secrecy)
