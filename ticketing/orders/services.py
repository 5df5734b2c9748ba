"""Checkout writes: the inventory guard, holds, orders, cancellation and hold expiry.

How seats are never sold twice (pretix-style, explicit transactions):

- Seats are taken by one conditional UPDATE per ticket type,
  `SET held = held + n WHERE id = … AND sold + held + n <= capacity`, never read-then-write.
  PostgreSQL's row lock makes concurrent buyers of one type queue on that statement and
  re-check the condition against the committed counter. A multi-item hold takes its types in id
  order (so two buyers never wait on each other in a cycle) inside one transaction: if any type
  is short, the transaction rolls back and nothing is taken. The UPDATEs come last in that
  transaction, so a ticket type's row (the one hot spot of an on-sale) is locked only from
  the UPDATE to COMMIT. A plain read may *refuse* early (sold out a moment ago), never grant.
- A lapsed hold stops counting at once: when seats look short, the buyer first releases the
  event's lapsed holds in a short transaction of its own (committed even when the show then
  turns out sold out) and tries again. Each hold is released exactly once: its row is locked
  and its state re-checked.
- Lock order everywhere is hold rows (by id), then the event row, then ticket-type rows (by
  id); no transaction waits for a hold while holding an event or a ticket type, or for an event
  while holding a ticket type, so there is no deadlock cycle. (The back office keeps to it: a
  change form lowering a capacity locks the event, then its ticket types.)
- An order is placed only while its event still sells: the event row is locked (FOR NO KEY
  UPDATE, which conflicts with any UPDATE of the event but not with the key-share locks fans'
  holds take) and re-read before the seats move. A cancel or unpublish committed first is seen;
  one that comes later waits for the order's commit, so whatever it reads of the event's
  orders after its UPDATE (to cancel them, say) includes this one.
- The counters, a hold's state and an order's state are written here and nowhere else, through
  the models' `inventory` managers (`ticketing.owned_fields` refuses every other write).
- The `tickettype_not_oversold` check constraint is the last line of defence.

Payment is not known here beyond `payments.provider_for`: the inventory code only moves seats.
"""

import datetime as dt
import hashlib
import json
import logging
import time
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from ticketing.events.models import Affiliate, Event, TicketType
from ticketing.fans import languages
from ticketing.limits import services as limits
from ticketing.outbox.services import enqueue_email, enqueue_emails
from ticketing.queue import gate as queue_gate
from ticketing.queue.errors import QueuePassUsed

from . import emails, payments
from .errors import (
    HoldNotActive,
    IdempotencyKeyReused,
    InvalidRequest,
    NotEnoughTickets,
    NotFound,
    NotOnSale,
)
from .models import Hold, HoldItem, Order, Ticket, new_order_code
from .selectors import hold_total, order_refusal, sale_status

logger = logging.getLogger(__name__)

MAX_ITEMS_PER_HOLD = 20
EXPIRY_BATCH = 500
CANCEL_BATCH = 100  # orders of a cancelled event cancelled, and their fans emailed, per transaction


# --- Holds ----------------------------------------------------------------------------------


def create_hold(
    items,
    *,
    affiliate_key=None,
    click_id=None,
    language=None,
    client="",
    queue_pass=None,
    now=None,
) -> Hold:
    """Take seats for `items` (`[{"ticket_type": id, "quantity": n}, …]`) all or nothing.

    Raises InvalidRequest, NotOnSale or NotEnoughTickets; returns the new active hold, its
    `item_list` filled in. `language` is the fan's (a code the fan pages speak, else English):
    the hold's pages, and the order's emails, speak it. `client` (`limits.client_key`) is
    rate-limited and capped in live holds per event (`TooManyRequests`, 429). While the event's
    waiting room is on, `queue_pass` must be a valid admission pass (ticketing/queue/gate.py:
    403 queue_required), and makes at most one active hold (409 queue_pass_used).
    """
    now = now or timezone.now()
    if client:
        limits.check_rate("holds", client)
    wanted = parse_items(items)
    ticket_types = {
        ticket_type.pk: ticket_type
        for ticket_type in TicketType.objects.select_related("event")
        .filter(pk__in=wanted)
        .order_by()  # no ORDER BY to compile or sort: this is the busiest query of an on-sale
    }
    unknown = sorted(set(wanted) - set(ticket_types))
    if unknown:
        raise InvalidRequest(
            f"Unknown ticket type: {', '.join(map(str, unknown))}.", unknown_ticket_types=unknown
        )
    event = check_can_sell(list(ticket_types.values()), wanted, now)
    pass_id = queue_gate.admit(event, queue_pass, now)
    hold_fields = {
        "event": event,
        "created_at": now,
        "expires_at": now + dt.timedelta(minutes=event.hold_minutes),
        "affiliate_id": _affiliate_id(affiliate_key, event),
        "click_id": _uuid_or_none(click_id),
        "language": languages.from_param(language) or settings.LANGUAGE_CODE,
        "client": client,
        "queue_pass": pass_id,
    }

    # Lapsed holds only stand in a buyer's way when seats are short: then, and only then,
    # release them (committed, whatever happens next) and look again.
    if _short(ticket_types, wanted) and not release_lapsed_holds(event.pk, now):
        # Read the counters again: another buyer or the cleanup may have released lapsed
        # holds since our first read (our release waited for it, or found nothing left).
        _refresh_counters(ticket_types)
        if short := _short(ticket_types, wanted):
            # Sold out: say so without a transaction or a lock. In a sell-out storm this is
            # most requests, and they must not queue behind the buyers.
            raise _not_enough(short, short.remaining)
    try:
        return _save_hold(hold_fields, ticket_types, wanted)
    except NotEnoughTickets:
        # The seats went between our read and our UPDATE. If lapsed holds took them, they are
        # free once released: one more try, and its answer is final.
        release_lapsed_holds(event.pk, now)
        return _save_hold(hold_fields, ticket_types, wanted)


def _short(ticket_types: dict[int, TicketType], wanted: dict[int, int]) -> TicketType | None:
    """The first ticket type (by id) with fewer seats left than wanted, by the counters read."""
    return next(
        (ticket_types[pk] for pk in sorted(wanted) if ticket_types[pk].remaining < wanted[pk]),
        None,
    )


def _refresh_counters(ticket_types: dict[int, TicketType]) -> None:
    counters = TicketType.objects.filter(pk__in=ticket_types).values_list("pk", "sold", "held")
    for pk, sold, held in counters:
        ticket_types[pk].sold, ticket_types[pk].held = sold, held


def _save_hold(fields: dict, ticket_types: dict[int, TicketType], wanted: dict[int, int]) -> Hold:
    try:
        return _insert_hold(fields, ticket_types, wanted)
    except IntegrityError as error:
        if fields["queue_pass"] and "queue_pass" in str(error):  # our partial unique index
            raise QueuePassUsed(_("Your admission pass already holds tickets.")) from None
        raise


def _insert_hold(fields, ticket_types, wanted) -> Hold:
    with transaction.atomic():
        limits.check_active_holds(fields["event"].pk, fields["client"], fields["created_at"])
        hold = Hold.objects.create(**fields)
        hold.item_list = HoldItem.objects.bulk_create(
            HoldItem(hold=hold, ticket_type=ticket_types[pk], quantity=quantity)
            for pk, quantity in sorted(wanted.items())
        )
        # Seats last: a ticket type's row is the one hot spot of an on-sale, and its lock is
        # held from this UPDATE to COMMIT, so nothing else may run in between. (The inserts
        # above take only KEY SHARE locks on it, which never conflict with the UPDATE.)
        for ticket_type_id in sorted(wanted):
            _take(ticket_types[ticket_type_id], wanted[ticket_type_id])
    return hold


def _take(ticket_type: TicketType, quantity: int) -> None:
    """One conditional UPDATE; if the seats are not there, the caller's transaction rolls back."""
    taken = TicketType.inventory.filter(
        pk=ticket_type.pk, capacity__gte=F("sold") + F("held") + quantity
    ).update(held=F("held") + quantity)
    if not taken:
        available = (
            TicketType.objects.filter(pk=ticket_type.pk)
            .values_list(F("capacity") - F("sold") - F("held"), flat=True)
            .get()
        )
        raise _not_enough(ticket_type, max(available, 0))


def _not_enough(ticket_type: TicketType, available: int) -> NotEnoughTickets:
    # Messages for people, in the active language (the fan pages', English for the API).
    message = (
        _("%(name)s is sold out.") % {"name": ticket_type.name}
        if available == 0
        else _("Only %(available)s × %(name)s left.")
        % {"available": available, "name": ticket_type.name}
    )
    return NotEnoughTickets(
        message,
        code="sold_out" if available == 0 else "insufficient",
        ticket_type=ticket_type.pk,
        available=available,
    )


def parse_items(items) -> dict[int, int]:
    """`[{"ticket_type": id, "quantity": n}, …]` as `{id: n}`, a type named twice summed."""
    if not isinstance(items, list | tuple) or not items:
        raise InvalidRequest(
            _("Choose at least one ticket."), fields={"items": "Must not be empty."}
        )
    if len(items) > MAX_ITEMS_PER_HOLD:
        raise InvalidRequest(f"At most {MAX_ITEMS_PER_HOLD} items per hold.")
    wanted: dict[int, int] = {}
    for item in items:
        ticket_type = item.get("ticket_type") if isinstance(item, dict) else None
        quantity = item.get("quantity") if isinstance(item, dict) else None
        if not _is_int(ticket_type) or ticket_type < 1:
            raise InvalidRequest("Each item needs a ticket type id.", fields={"ticket_type": item})
        if not _is_int(quantity) or quantity < 1:
            raise InvalidRequest(
                "Quantities are whole numbers of at least 1.",
                fields={"quantity": quantity},
                ticket_type=ticket_type,
            )
        wanted[ticket_type] = wanted.get(ticket_type, 0) + quantity
    return wanted


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_can_sell(ticket_types: list[TicketType], wanted: dict[int, int], now) -> Event:
    """The one event these ticket types belong to, if all of them sell `wanted` now."""
    events = {ticket_type.event_id for ticket_type in ticket_types}
    if len(events) != 1:
        raise InvalidRequest("A hold is for the tickets of one event.")
    event = ticket_types[0].event
    status = sale_status(event, now)
    if status.code != "on_sale":
        raise NotOnSale(status.message, code=status.code, **status.details)
    if len({ticket_type.currency for ticket_type in ticket_types}) > 1:
        raise InvalidRequest("These ticket types are sold in different currencies.")
    for ticket_type in ticket_types:
        starts = ticket_type.sales_start_at or event.on_sale_at
        ends = ticket_type.sales_end_at or event.sales_close_at
        if now < starts:
            raise NotOnSale(
                _("%(name)s is not on sale yet.") % {"name": ticket_type.name},
                code="not_yet_on_sale",
                ticket_type=ticket_type.pk,
                on_sale_at=starts.isoformat(),
            )
        if now >= ends:
            raise NotOnSale(
                _("Sales of %(name)s have closed.") % {"name": ticket_type.name},
                code="sales_closed",
                ticket_type=ticket_type.pk,
            )
        if wanted[ticket_type.pk] > ticket_type.max_per_order:
            raise InvalidRequest(
                _("At most %(max)s × %(name)s per order.")
                % {"max": ticket_type.max_per_order, "name": ticket_type.name},
                fields={"quantity": _("At most %(max)s.") % {"max": ticket_type.max_per_order}},
                ticket_type=ticket_type.pk,
                max_per_order=ticket_type.max_per_order,
            )
    return event


def _affiliate_id(public_key, event: Event) -> int | None:
    """Attribution never blocks a sale: an unknown, inactive or foreign key is ignored."""
    if not public_key or not isinstance(public_key, str) or len(public_key) > 32:
        return None
    return (
        Affiliate.objects.filter(
            public_key=public_key, is_active=True, promoter__artists=event.artist_id
        )
        .values_list("pk", flat=True)
        .first()
    )


def _uuid_or_none(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def release_hold(token: str) -> Hold:
    """The fan gives the seats back. Releasing a hold that already lapsed or was released is a
    no-op; one that became an order cannot be released."""
    with transaction.atomic():
        hold = Hold.objects.select_for_update().filter(token=token).first()
        if hold is None:
            raise NotFound("No such hold.")
        if hold.state == Hold.State.ORDERED:
            raise HoldNotActive(_("This hold is already an order."), code="hold_ordered")
        if hold.state == Hold.State.ACTIVE:
            _release([hold.pk], Hold.State.RELEASED)
            hold.state = Hold.State.RELEASED
    return hold


def _lapsed(now):
    """Holds that ran out but still count in `held` (found through the partial indexes)."""
    return Hold.objects.filter(state=Hold.State.ACTIVE, expires_at__lte=now)


def release_lapsed_holds(event_id: int, now) -> int:
    """Release the lapsed holds of one event now, so they stop counting before cleanup runs."""
    lapsed = _lapsed(now).filter(event_id=event_id)
    if not lapsed.exists():  # one probe of a partial index, no transaction
        return 0
    with transaction.atomic():
        # Lock in id order; a buyer racing us waits, then skips what we released (PostgreSQL
        # re-checks the WHERE clause on the row it waited for).
        ids = list(lapsed.order_by("pk").select_for_update().values_list("pk", flat=True))
        return _release(ids, Hold.State.EXPIRED)


def expire_holds(now=None, batch_size: int = EXPIRY_BATCH) -> int:
    """Release every lapsed hold; returns how many. Idempotent, and safe to run twice at once:
    concurrent runs skip the rows the other has locked and share the work."""
    now = now or timezone.now()
    released = 0
    while True:
        with transaction.atomic():
            ids = list(
                _lapsed(now)
                .order_by("pk")
                .select_for_update(skip_locked=True)
                .values_list("pk", flat=True)[:batch_size]
            )
            released += _release(ids, Hold.State.EXPIRED)
        if len(ids) < batch_size:
            return released


def _release(hold_ids: list[int], state: str) -> int:
    """Give back the seats of active holds whose rows this transaction has locked."""
    if not hold_ids:
        return 0
    Hold.inventory.filter(pk__in=hold_ids).update(state=state)
    freed = (
        HoldItem.objects.filter(hold_id__in=hold_ids)
        .values("ticket_type_id")
        .annotate(quantity=Sum("quantity"))
        .order_by("ticket_type_id")
    )
    for row in freed:
        TicketType.inventory.filter(pk=row["ticket_type_id"]).update(
            held=F("held") - row["quantity"]
        )
    return len(hold_ids)


# --- Orders ---------------------------------------------------------------------------------


def place_order(
    token: str,
    *,
    name,
    email,
    idempotency_key: str | None = None,
    payment_provider: str | None = None,
    language: str | None = None,
    now=None,
) -> tuple[Order, bool]:
    """Turn an active hold into an order: held seats become sold, one ticket per seat, and the
    confirmation email goes into the outbox in the same transaction (sent after commit).

    The order speaks `language` (the page's the fan ordered on), else the hold's. Returns
    `(order, created)`. The same `idempotency_key` for the same hold returns the same
    order (`created` False), also when both requests arrive at once: the hold row is locked, and
    the database allows one order per hold and one order per key.
    """
    now = now or timezone.now()
    name, email = validate_customer(name, email)
    key = _idempotency_key(idempotency_key)
    fingerprint = _request_fingerprint(name, email, payment_provider) if key else ""
    if key and (replayed := _replay(key, token, fingerprint)):
        return replayed, False
    try:
        with transaction.atomic():
            hold = Hold.objects.select_for_update().filter(token=token).first()
            if hold is None:
                raise NotFound("No such hold.")
            if hold.state == Hold.State.ORDERED:
                order = hold.order
                if key and order.idempotency_key == key:
                    return _same_request(order, token, fingerprint), False
                raise HoldNotActive(_("This hold is already an order."), code="hold_ordered")
            if not hold.is_live(now):
                code = "hold_released" if hold.state == Hold.State.RELEASED else "hold_expired"
                raise HoldNotActive(_("This hold has run out; please start again."), code=code)
            order = _convert(
                hold, name, email, now, key=key, fingerprint=fingerprint,
                payment_provider=payment_provider, language=language,
            )  # fmt: skip
    except IntegrityError:
        # Only a key reused for another hold, in a race, gets here: the unique constraint held.
        if key and (replayed := _replay(key, token, fingerprint)):
            return replayed, False
        raise
    return order, True


def _idempotency_key(raw) -> str | None:
    """The Idempotency-Key header (or the hold form's field): a structured-field string, so
    printable ASCII; at most 255 characters, as the database keeps it."""
    key = (raw or "").strip() or None
    if key and not (len(key) <= 255 and key.isascii() and key.isprintable()):
        raise InvalidRequest(
            "The Idempotency-Key must be printable ASCII of at most 255 characters."
        )
    return key


def _request_fingerprint(name: str, email: str, payment_provider: str | None) -> str:
    """What an order request carries besides its hold, hashed: stored with its Idempotency-Key."""
    carried = json.dumps([name, email, payment_provider or ""], ensure_ascii=False)
    return hashlib.sha256(carried.encode()).hexdigest()


def _replay(key: str, token: str, fingerprint: str) -> Order | None:
    order = Order.objects.select_related("hold").filter(idempotency_key=key).first()
    return None if order is None else _same_request(order, token, fingerprint)


def _same_request(order: Order, token: str, fingerprint: str) -> Order:
    """The order its key made, if this request is the same again; else 422."""
    if order.hold.token != token:
        raise IdempotencyKeyReused("This Idempotency-Key was already used for another hold.")
    # Orders placed before fingerprints were kept have none: their hold is all we can compare.
    if order.idempotency_fingerprint and order.idempotency_fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used with different details; use a new key for a "
            "new request."
        )
    return order


def _convert(
    hold: Hold,
    name,
    email,
    now,
    *,
    key=None,
    fingerprint="",
    payment_provider=None,
    language=None,
    confirmation=True,
) -> Order:
    """The locked, live hold becomes an order: the order and its tickets, the hold `ordered`,
    the fan's confirmation in the outbox (unless `confirmation` is off), and, last, its seats
    move from held to sold once the event is seen to still sell."""
    items = list(hold.items.select_related("ticket_type").order_by("ticket_type_id"))
    hold.item_list = items
    total, currency = hold_total(hold)
    provider = payments.provider_for(payment_provider, total, currency)
    if provider is None:
        raise InvalidRequest(_("This payment method is not available."), payment=payment_provider)

    order = Order(
        event=Event.objects.select_related("artist", "venue").get(pk=hold.event_id),
        hold=hold,
        name=name,
        email=email,
        total=total,
        currency=currency,
        payment_provider=provider.key,
        affiliate_id=hold.affiliate_id,
        click_id=hold.click_id,
        language=languages.from_param(language) or hold.language,
        idempotency_key=key,
        idempotency_fingerprint=fingerprint,
        created_at=now,
    )
    order.payment_status = provider.start(order).status
    _insert_with_unique_code(order)
    Ticket.objects.bulk_create(
        Ticket(order=order, ticket_type=item.ticket_type, price=item.ticket_type.price)
        for item in items
        for _ in range(item.quantity)
    )
    Hold.inventory.filter(pk=hold.pk).update(state=Hold.State.ORDERED)
    hold.state = Hold.State.ORDERED
    if confirmation:
        enqueue_email(
            emails.order_confirmation(order),
            kind=emails.ORDER_CONFIRMATION,
            promoter_id=order.event.artist.promoter_id,
            reference=order.code,
        )

    # Last, as the seats in `_save_hold`: the event row (every order of the event waits for its
    # lock) and the ticket types' rows (the hot spot of an on-sale) stay locked from here to
    # COMMIT, so nothing else runs in between.
    _lock_selling_event(hold.event_id, now)
    for item in items:
        moved = TicketType.inventory.filter(pk=item.ticket_type_id, held__gte=item.quantity).update(
            held=F("held") - item.quantity, sold=F("sold") + item.quantity
        )
        if not moved:  # the counters disagree with the holds: refuse rather than oversell
            raise RuntimeError(f"Ticket type {item.ticket_type_id} holds fewer than hold {hold.pk}")
    return order


def _lock_selling_event(event_id: int, now) -> None:
    """Lock the event's row until commit and refuse if it no longer sells (see the module
    docstring): a cancel cannot slip in between the answer and the commit."""
    event = (
        Event.objects.select_for_update(no_key=True)
        .only("is_published", "status", "on_sale_at", "off_sale_at", "starts_at")
        .get(pk=event_id)
    )
    if refusal := order_refusal(event, now):
        raise NotOnSale(refusal.message, code=refusal.code)


def issue_tickets(ticket_type: TicketType, quantity: int, *, name, email, now=None) -> Order:
    """Sell seats of one type outside the fan checkout (the demo's sales): the same guard and
    the same records as a fan's order (a hold that becomes an order at once), without the sales
    window, the per-order limit or the confirmation email."""
    now = now or timezone.now()
    with transaction.atomic():
        # The event before its ticket types (`_convert` asks again; the lock is ours already).
        _lock_selling_event(ticket_type.event_id, now)
        hold = Hold.objects.create(
            event_id=ticket_type.event_id, created_at=now, expires_at=now + dt.timedelta(minutes=1)
        )
        HoldItem.objects.create(hold=hold, ticket_type=ticket_type, quantity=quantity)
        _take(ticket_type, quantity)
        # Paid at the venue, as ever: a card provider's default would refuse an order it did
        # not take the money for.
        venue = payments.PayAtVenue.key
        return _convert(hold, name, email, now, payment_provider=venue, confirmation=False)


def _insert_with_unique_code(order: Order, attempts: int = 5) -> None:
    for attempt in range(attempts):
        try:
            with transaction.atomic():  # a savepoint: a clashing code must not sink the order
                order.save(force_insert=True)
            return
        except IntegrityError:
            if attempt == attempts - 1 or not Order.objects.filter(code=order.code).exists():
                raise
            order.code = new_order_code()


def validate_customer(name, email) -> tuple[str, str]:
    errors = {}
    name = name.strip() if isinstance(name, str) else ""
    email = email.strip() if isinstance(email, str) else ""
    if not name:
        errors["name"] = _("Please enter your name.")
    elif len(name) > 200:
        errors["name"] = _("At most 200 characters.")
    try:
        if len(email) > 254:
            raise ValidationError("too long")
        validate_email(email)
    except ValidationError:
        errors["email"] = _("Please enter a valid email address.")
    if errors:
        raise InvalidRequest(_("Please check your details."), fields=errors)
    return name, email


def cancel_order(order: Order, now=None) -> bool:
    """Cancel a confirmed order and return its seats; False if it was already cancelled."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.state != Order.State.CONFIRMED:
            return False
        seats = (
            order.tickets.live()  # a refunded ticket's seat went already
            .values("ticket_type_id")
            .annotate(count=Count("pk"))
            .order_by("ticket_type_id")
        )
        for row in seats:
            TicketType.inventory.filter(pk=row["ticket_type_id"]).update(
                sold=F("sold") - row["count"]
            )
        Order.inventory.filter(pk=order.pk).update(
            state=Order.State.CANCELLED, cancelled_at=now or timezone.now()
        )
    return True


def void_tickets(order: Order, ticket_ids, *, restock: bool, now=None) -> list[int]:
    """Void these tickets of a confirmed order (a refund): with `restock`, their seats go back
    on sale. The order is cancelled once none of its tickets is left. Returns the ids voided now
    (those already voided, or of another order, are left out). Runs in the caller's transaction,
    if any; lock order as everywhere: the order row, then its ticket types (by id)."""
    now = now or timezone.now()
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.state != Order.State.CONFIRMED:
            return []
        live = order.tickets.live()
        ids = list(live.filter(pk__in=list(ticket_ids)).values_list("pk", flat=True))
        if not ids:
            return []
        if restock:
            seats = (
                Ticket.objects.filter(pk__in=ids)
                .values("ticket_type_id")
                .annotate(count=Count("pk"))
                .order_by("ticket_type_id")
            )
            for row in seats:
                moved = TicketType.inventory.filter(
                    pk=row["ticket_type_id"], sold__gte=row["count"]
                ).update(sold=F("sold") - row["count"])
                if not moved:  # the counters disagree with the tickets: refuse, change nothing
                    raise RuntimeError(f"Ticket type {row['ticket_type_id']} sold too few")
        Ticket.inventory.filter(pk__in=ids).update(voided_at=now)
        if not live.exists():
            Order.inventory.filter(pk=order.pk).update(
                state=Order.State.CANCELLED, cancelled_at=now
            )
    return ids


# --- Cancelled events -----------------------------------------------------------------------


@dataclass(frozen=True)
class EventOrdersCancelled:
    cancelled: int  # orders cancelled now, each fan emailed
    remaining: int  # confirmed orders of these events left when the budget ran out


def cancel_event_orders(
    events, *, note: str = "", budget_seconds: float = 20.0, now=None
) -> EventOrdersCancelled:
    """Cancel the confirmed orders of these events, which must be cancelled already: seats go
    back through `cancel_order`, and each fan gets an email (through the outbox) with the
    promoter's `note`.

    Batches of CANCEL_BATCH orders, each batch with its emails in one transaction: an order is
    cancelled exactly when its fan's email is written. It stops starting batches when the budget
    is spent (an admin request must end well inside Lambda's 30 s) and says how many remain;
    calling it again goes on where it stopped.

    Refunding every order instead is the cancel action's other choice: a background job of
    `ticketing/refunds` (`services.run_refund_job`), which voids each order's tickets through
    `void_tickets` and refunds them.
    """
    deadline = time.monotonic() + budget_seconds
    cancelled = 0
    cancelled_events = events.filter(status=Event.Status.CANCELLED).select_related(
        "artist", "venue"
    )
    for event in cancelled_events:
        while time.monotonic() < deadline:
            confirmed = event.orders.filter(state=Order.State.CONFIRMED).order_by("pk")
            batch = list(confirmed[:CANCEL_BATCH])
            if not batch:
                break
            with transaction.atomic():
                messages = []
                for order in batch:
                    if cancel_order(order, now):
                        order.event = event  # the email needs it; loaded once per event
                        messages.append((emails.event_cancelled(order, note), order.code))
                enqueue_emails(
                    messages, kind=emails.EVENT_CANCELLED, promoter_id=event.artist.promoter_id
                )
            cancelled += len(messages)
    remaining = Order.objects.filter(event__in=cancelled_events, state=Order.State.CONFIRMED)
    return EventOrdersCancelled(cancelled=cancelled, remaining=remaining.count())


# --- Paid by a provider's webhook -----------------------------------------------------------


def place_paid_order(hold_id: int, *, name, email, language, payment_provider, now=None):
    """A card payment arrived (`ticketing.payments`): the hold becomes its order, tickets and
    confirmation email included, inside the caller's transaction. Returns the order, or None if
    the seats are no longer the hold's (it was released or expired, or the event stopped
    selling): the caller then refunds. A hold still `active` past its expiry still holds its
    seats (nothing released them yet), so it is converted."""
    now = now or timezone.now()
    hold = Hold.objects.select_for_update().filter(pk=hold_id).first()
    if hold is None or hold.state != Hold.State.ACTIVE:
        return None
    try:
        with transaction.atomic():  # a savepoint: a refusal leaves the hold as it was
            return _convert(
                hold, name, email, now, payment_provider=payment_provider, language=language
            )
    except NotOnSale:
        return None
