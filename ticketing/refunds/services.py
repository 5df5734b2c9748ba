"""Refund writes: refunds of tickets (from the order admin, a cancelled event's job, a fan's
request after a postponement), their state from the provider's webhooks, postponements.

How a refund happens exactly once, though the provider is another system:

1. One transaction: the order's row is locked, the tickets are voided (their seats back on sale
   if asked: `orders.services.void_tickets`, the inventory's code), the `Refund` row is written
   `pending` with an idempotency key, and the fan's email goes into the outbox.
2. After commit, outside any transaction, the provider is asked (`providers.submit`), with that
   key; its answer (or, later, its webhook) moves the row on by a conditional UPDATE.

A run that dies between 1 and 2 leaves a `pending` row: whoever resumes submits it again, and the
provider finds the refund it already made for that key (Stripe's idempotency key; and the
refund's metadata names our row, so even a provider that forgets keys is asked only once).
The seats never move twice: a ticket is voided once (`voided_at`), refunded once
(`RefundedTicket.ticket` is unique), and a job refunds an order once (`refund_once_per_job`).
"""

import datetime as dt
import logging
import time
from contextlib import suppress

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from ticketing.events.models import Event
from ticketing.events.money import to_minor
from ticketing.orders import services as order_services
from ticketing.orders.models import Order
from ticketing.outbox.services import enqueue_email

from . import emails, providers
from .errors import RefundRefused
from .models import Postponement, Refund, RefundedTicket, RefundJob

logger = logging.getLogger(__name__)

JOB_BATCH = 20  # orders a job takes at a time
JOB_LEASE = dt.timedelta(minutes=2)  # longer than a runner's budget plus one provider call
JOB_BUDGET_SECONDS = 20.0  # within Lambda's 30 s


def refund_tickets(
    order: Order,
    ticket_ids=None,
    *,
    reason: str,
    restock: bool = True,
    by=None,
    job: RefundJob | None = None,
    key: str | None = None,
    email: str = emails.REFUND_ISSUED,
    note: str = "",
    submit: bool = True,
    now=None,
) -> Refund:
    """Refund some tickets of a confirmed order (`ticket_ids`; None: all it has left), give
    their seats back when `restock`, tell the fan, then ask the provider (unless `submit` is off:
    the caller submits it later). The same `key` again returns the refund it
    made. Raises RefundRefused when there is nothing (left) to refund."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise RefundRefused("Please give a reason for the refund.", code="reason_required")
    with transaction.atomic():
        order = (
            Order.objects.select_for_update(of=("self",))
            .select_related("event__artist", "event__venue")
            .get(pk=order.pk)
        )
        if key and (done := Refund.objects.filter(idempotency_key=key).first()):
            return done
        if order.state != Order.State.CONFIRMED:
            raise RefundRefused(_("This order is cancelled."), code="order_cancelled")
        live = order.tickets.live()
        if ticket_ids is not None:
            live = live.filter(pk__in=list(ticket_ids))
        tickets = list(live)
        if not tickets:
            raise RefundRefused(_("There is nothing left to refund."), code="nothing_to_refund")
        order_services.void_tickets(order, [t.pk for t in tickets], restock=restock, now=now)
        lines = [(t, to_minor(t.price, order.currency)) for t in tickets]
        paid_by_card = providers.takes_refunds(order)
        refund = Refund.objects.create(
            order=order,
            amount=sum(amount for _, amount in lines),
            currency=order.currency,
            reason=reason[:500],
            state=Refund.State.PENDING if paid_by_card else Refund.State.RECORDED,
            provider=order.payment_provider,
            # A ticket is refunded once, so its first ticket names a refund for good.
            idempotency_key=key or f"order-{order.pk}-ticket-{tickets[0].pk}",
            restock=restock,
            job=job,
            created_by=by,
            created_at=now,
        )
        RefundedTicket.objects.bulk_create(
            RefundedTicket(refund=refund, ticket=ticket, amount=amount) for ticket, amount in lines
        )
        enqueue_email(
            emails.refund_issued(order, refund, tickets, kind=email, note=note),
            kind=email,
            promoter_id=order.event.artist.promoter_id,
            reference=order.code,
        )
    if submit and refund.state == Refund.State.PENDING:
        providers.submit(refund)
        refund.refresh_from_db()
    return refund


def refund_order(order: Order, **kwargs) -> Refund:
    """Refund every ticket the order has left."""
    return refund_tickets(order, None, **kwargs)


# --- The provider's answers and webhooks ------------------------------------------------------

# A refund's state only moves forward, whatever order its webhooks come in: a late "pending"
# never undoes "succeeded", an event delivered twice changes nothing the second time.
_RANK = {
    Refund.State.PENDING: 0,
    Refund.State.REQUESTED: 1,
    Refund.State.SUCCEEDED: 2,
    Refund.State.FAILED: 3,
    Refund.State.CANCELED: 3,
}


def apply_provider_state(refund_id: int | None, provider_refund_id: str, status: str) -> bool:
    """Record what the provider says of one of our refunds (found by our id or the provider's).
    Returns whether anything changed."""
    state = providers.state_of(status)
    behind = [s for s, rank in _RANK.items() if rank < _RANK[state]]
    found = Refund.objects.filter(provider_refund_id=provider_refund_id)
    if refund_id is not None and not found.exists():
        found = Refund.objects.filter(pk=refund_id, provider_refund_id__isnull=True)
    changed = found.filter(state__in=behind).update(
        state=state, provider_refund_id=provider_refund_id, updated_at=timezone.now()
    )
    if not changed and refund_id is not None:
        # The state is no news, but the provider's id may be (a webhook before the API answer).
        found.filter(provider_refund_id__isnull=True).update(provider_refund_id=provider_refund_id)
    return bool(changed)


# --- Cancelled events: refund every order, in the background -------------------------------


def start_refund_job(event: Event, *, note: str = "", by=None) -> RefundJob:
    """The running job refunding this (cancelled) event's orders: the one there is, else a new
    one. Runs nothing itself: `run_refund_job` does (see `jobs.kick`)."""
    if event.status != Event.Status.CANCELLED:
        raise RefundRefused("Cancel the event first.", code="event_not_cancelled")
    with transaction.atomic():
        # The event's row orders concurrent starts (the partial unique index would refuse the
        # second one anyway).
        Event.objects.select_for_update(no_key=True).filter(pk=event.pk).exists()
        job = RefundJob.objects.filter(event=event, state=RefundJob.State.RUNNING).first()
        if job is None:
            job = RefundJob.objects.create(
                event=event,
                note=note.strip(),
                created_by=by,
                orders_total=event.orders.filter(state=Order.State.CONFIRMED).count(),
            )
    return job


def run_refund_job(
    job_id: int, *, budget_seconds: float = JOB_BUDGET_SECONDS, max_orders=None, now=None
) -> RefundJob | None:
    """Go on with a job for at most `budget_seconds` (or `max_orders` orders): first the
    refunds an earlier run wrote but could not submit, then the event's confirmed orders, a batch
    at a time. Returns the job, or None if another runner holds it. Resumable at any point."""
    started = timezone.now()
    if (
        not RefundJob.objects.filter(
            pk=job_id,
            state=RefundJob.State.RUNNING,
        )
        .filter(_lease_free(started))
        .update(leased_until=started + JOB_LEASE)
    ):
        return None  # done, or another runner has it
    job = RefundJob.objects.select_related("event__artist", "event__venue").get(pk=job_id)
    deadline = time.monotonic() + budget_seconds
    handled = 0
    try:
        for refund in job.refunds.filter(state=Refund.State.PENDING).order_by("pk"):
            providers.submit(refund)
        while time.monotonic() < deadline and (max_orders is None or handled < max_orders):
            size = JOB_BATCH if max_orders is None else min(JOB_BATCH, max_orders - handled)
            batch = list(job.event.orders.filter(state=Order.State.CONFIRMED).order_by("pk")[:size])
            if not batch:
                break
            for order in batch:
                # RefundRefused: refunded or cancelled by staff since the batch was read.
                with suppress(RefundRefused):
                    refund_order(
                        order,
                        reason=f"Event cancelled (job {job.pk})",
                        job=job,
                        key=f"job-{job.pk}-order-{order.pk}",
                        email=emails.EVENT_CANCELLED_REFUNDED,
                        note=job.note,
                        now=now,
                    )
                handled += 1
            RefundJob.objects.filter(pk=job.pk).update(orders_done=job.refunds.count())
        left = job.event.orders.filter(state=Order.State.CONFIRMED).exists()
        unsent = job.refunds.filter(state=Refund.State.PENDING).exists()
        finished = {} if left or unsent else {"state": RefundJob.State.DONE,
                                               "finished_at": timezone.now()}  # fmt: skip
        RefundJob.objects.filter(pk=job.pk).update(
            orders_done=job.refunds.count(), leased_until=None, last_error="", **finished
        )
    except Exception as error:
        logger.exception("refund job %s stopped", job.pk)
        RefundJob.objects.filter(pk=job.pk).update(
            leased_until=None, last_error=f"{type(error).__name__}: {error}"[:2000]
        )
        raise
    job.refresh_from_db()
    return job


def _lease_free(now):
    from django.db.models import Q

    return Q(leased_until__isnull=True) | Q(leased_until__lt=now)


def resume_refund_jobs(*, budget_seconds: float = JOB_BUDGET_SECONDS) -> int:
    """Go on with every running job whose lease is free (the schedule; `run_refund_jobs`)."""
    deadline = time.monotonic() + budget_seconds
    ran = 0
    for job_id in RefundJob.objects.filter(state=RefundJob.State.RUNNING).values_list(
        "pk", flat=True
    ):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        if run_refund_job(job_id, budget_seconds=left) is not None:
            ran += 1
    return ran


# --- Postponement -------------------------------------------------------------------------


def postpone_event(
    event: Event, *, new_starts_at, refunds_until, note: str = "", by=None, now=None
) -> tuple[Postponement, int]:
    """Move an event to a new start (doors and the close of sales keep their distance to it),
    mark it postponed, and tell every ticket holder (outbox) that they may ask for a refund
    until `refunds_until`. Returns the postponement and how many fans were emailed."""
    now = now or timezone.now()
    if refunds_until <= now:
        raise RefundRefused("The refund window must end in the future.", code="window_past")
    if event.status == Event.Status.CANCELLED:
        raise RefundRefused("A cancelled event cannot be postponed.", code="event_cancelled")
    with transaction.atomic():
        event = (
            Event.objects.select_for_update(no_key=True, of=("self",))
            .select_related("artist", "venue")
            .get(pk=event.pk)
        )
        if new_starts_at < event.on_sale_at:
            raise RefundRefused(
                "The new start must come after sales open "
                f"({timezone.localtime(event.on_sale_at, event.venue.zone):%d %b %Y %H:%M}).",
                code="starts_before_sales",
            )
        shift = new_starts_at - event.starts_at
        if event.off_sale_at and event.off_sale_at + shift <= event.on_sale_at:
            raise RefundRefused(
                "Sales would close before they open: move the close of sales first.",
                code="sales_close_before_open",
            )
        postponement = Postponement.objects.create(
            event=event, previous_starts_at=event.starts_at, new_starts_at=new_starts_at,
            refunds_until=refunds_until, note=note.strip(), created_by=by, created_at=now,
        )  # fmt: skip
        moved = {"starts_at": new_starts_at, "status": Event.Status.POSTPONED}
        if event.doors_at:
            moved["doors_at"] = F("doors_at") + shift
        if event.off_sale_at:
            moved["off_sale_at"] = F("off_sale_at") + shift
        Event.objects.filter(pk=event.pk).update(**moved)
        event.refresh_from_db()
        orders = list(event.orders.filter(state=Order.State.CONFIRMED).order_by("pk"))
        for order in orders:
            order.event = event
            enqueue_email(
                emails.event_postponed(order, postponement),
                kind=emails.EVENT_POSTPONED,
                promoter_id=event.artist.promoter_id,
                reference=order.code,
            )
    return postponement, len(orders)


def refund_window(order: Order, now=None) -> Postponement | None:
    """The postponement whose refund window is open for this order now, if any."""
    now = now or timezone.now()
    if order.state != Order.State.CONFIRMED or order.event.status != Event.Status.POSTPONED:
        return None
    latest = order.event.postponements.order_by("-created_at", "-pk").first()
    return latest if latest and latest.refunds_until > now else None


def request_postponement_refund(order: Order, now=None) -> Refund:
    """The fan asks for their money back after a postponement: every ticket they have left is
    refunded (seats back on sale) while the promoter's window is open; refused after it."""
    now = now or timezone.now()
    postponement = refund_window(order, now)
    if postponement is None:
        if order.event.status == Event.Status.POSTPONED and order.state == Order.State.CONFIRMED:
            raise RefundRefused(
                _("The time to ask for a refund has ended."), code="refund_window_closed"
            )
        raise RefundRefused(_("This order cannot be refunded on request."), code="not_postponed")
    return refund_order(
        order,
        reason="Event postponed: refund on the fan's request",
        key=f"postponement-{postponement.pk}-order-{order.pk}",
        now=now,
    )
