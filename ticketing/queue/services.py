"""Waiting-room writes: the draw, the admission rate, joining and admission passes.

The database is written when the promoter changes the rate, once at the draw, and when the
admission mark has to be re-based (auto rate moved, or the mark ran past everyone who joined);
never once per fan. A fan's join costs one atomic cache increment; a pass costs nothing stored.
"""

import datetime as dt
import math
import time

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from . import admission, counters, pow, selectors, tokens
from .errors import QueueError
from .models import WaitingRoom
from .selectors import ms

KEEP_MARGIN_MS = 60_000
CAP_SLACK_SECONDS = 5


def _locked(event_id: int) -> WaitingRoom:
    return WaitingRoom.objects.select_for_update().select_related("event").get(pk=event_id)


def _desired_rate(room: WaitingRoom, now) -> int:
    if room.rate_mode == WaitingRoom.RateMode.FIXED:
        return room.rate_per_minute
    # Auto: admit, per minute, what one admission window can sell of the seats left (lapsed
    # holds count as left) and of those about to lapse; none at sell-out, and again when holds
    # are about to give their seats back.
    left = selectors.seats_left(room.event, now) + selectors.seats_lapsing_soon(room.event, now)
    ceiling = getattr(settings, "QUEUE_AUTO_MAX_RATE", 1000)
    return min(math.ceil(left / room.admission_window_minutes), ceiling)


def _keep_after(room: WaitingRoom, now_ms: int) -> int:
    return now_ms - room.admission_window_minutes * admission.MINUTE_MS - KEEP_MARGIN_MS


def _rebase(room: WaitingRoom, now, rate: int) -> None:
    now_ms = ms(now)
    mark = min(admission.mark_at(room.schedule, now_ms), selectors.joined(room))
    room.schedule = admission.with_checkpoint(
        room.schedule, now_ms, mark, rate, _keep_after(room, now_ms)
    )


def ensure_drawn(room: WaitingRoom, now) -> WaitingRoom:
    """At (or after) the on-sale moment: close the pre-queue, fix its size, publish the seed."""
    if room.drawn_at is not None or now < room.event.on_sale_at:
        return room
    with transaction.atomic():
        room = _locked(room.pk)
        if room.drawn_at is None:
            room.pre_queue_count = counters.close_pre_queue(room)
            room.drawn_at = now
            on_sale_ms = ms(room.event.on_sale_at)
            room.schedule = [[on_sale_ms, 0, _desired_rate(room, now)]]
            room.save(update_fields=["pre_queue_count", "drawn_at", "schedule", "updated_at"])
    selectors.forget_room(room.pk)
    return room


def advance(room: WaitingRoom | None, now) -> WaitingRoom | None:
    """Bring the room up to `now` before its status is published: the draw, the auto rate,
    and the cap (admissions nobody was there to use are not saved up for a later burst)."""
    if room is None or not room.enabled:
        return room
    room = ensure_drawn(room, now)
    if room.drawn_at is None:
        return room
    now_ms = ms(now)
    rate = _desired_rate(room, now)
    # Capped once the mark is more than a few seconds of admissions past everyone who joined:
    # that bounds both a later burst and the row's writes (a dozen a minute at most).
    slack = max(1, selectors.current_rate(room) * CAP_SLACK_SECONDS // 60)
    overshoot = admission.mark_at(room.schedule, now_ms) > selectors.joined(room) + slack
    if rate == selectors.current_rate(room) and not overshoot:
        return room
    with transaction.atomic():
        room = _locked(room.pk)
        _rebase(room, now, _desired_rate(room, now))
        room.save(update_fields=["schedule", "updated_at"])
    selectors.forget_room(room.pk)
    return room


def set_rate(event_id: int, *, rate_per_minute=None, auto=False, now=None) -> WaitingRoom:
    """Change the admission rate live: a fixed number of fans per minute, or auto."""
    if auto == (rate_per_minute is not None):
        raise ValueError("Give either a rate per minute or auto.")
    if not auto and (type(rate_per_minute) is not int or not 0 <= rate_per_minute <= 1_000_000):
        raise ValueError("The rate is a whole number of fans per minute, 0 to 1,000,000.")
    now = now or timezone.now()
    with transaction.atomic():
        room = _locked(event_id)
        if auto:
            room.rate_mode = WaitingRoom.RateMode.AUTO
        else:
            room.rate_mode, room.rate_per_minute = WaitingRoom.RateMode.FIXED, rate_per_minute
        if room.drawn_at is not None:
            _rebase(room, now, _desired_rate(room, now))
        room.save()
    selectors.forget_room(event_id)
    return room


def _open_room(event_id: int, now) -> WaitingRoom:
    room = selectors.room(event_id)
    current = selectors.state(room, now)
    if current == "off":
        raise QueueError("This event has no waiting room.", code="not_found", status=404)
    if current == "scheduled":
        raise QueueError("The waiting room is not open yet.", code="queue_not_open", status=409)
    if current == "closed":
        raise QueueError("Sales for this event are closed.", code="queue_closed", status=409)
    return room


def join(event_id: int, challenge, nonce, now=None) -> dict:
    """A place in the queue for a solved proof of work: the signed ticket and what it says."""
    now = now or timezone.now()
    room = _open_room(event_id, now)
    seconds = time.time()
    if not isinstance(challenge, str) or not pow.valid_challenge(event_id, challenge, seconds):
        raise QueueError("The challenge is unknown or too old: read the status again.",
                         code="pow_invalid", status=400)  # fmt: skip
    if not pow.solved(challenge, nonce, pow.difficulty()):
        raise QueueError("The proof of work does not solve the challenge.",
                         code="pow_invalid", status=400)  # fmt: skip
    if not counters.remember_once(pow.digest(challenge, nonce).hex(), 2 * pow.SLOT_SECONDS):
        raise QueueError("This proof of work was used already.", code="pow_reused", status=409)
    ticket = None
    if room.drawn_at is None and now < room.event.on_sale_at:
        number = counters.take_number(room, counters.PRE)
        if not counters.pre_queue_closed(room):
            ticket = tokens.QueueTicket(event_id, room.epoch, counters.PRE, number, ms(now))
    if ticket is None:
        room = ensure_drawn(room, max(now, room.event.on_sale_at))
        number = counters.take_number(room, counters.FIFO)
        ticket = tokens.QueueTicket(event_id, room.epoch, counters.FIFO, number, ms(now))
    return {
        "ticket": tokens.sign_ticket(ticket),
        "event": event_id,
        "kind": ticket.kind,
        "number": ticket.number,
        "position": selectors.position(room, ticket),
        "issued_at": ticket.issued_ms,
    }


def admission_pass(event_id: int, ticket_text, now=None) -> dict:
    """The admission pass for an admitted ticket, expiring with its admission window."""
    now = now or timezone.now()
    room = _open_room(event_id, now)
    ticket = tokens.read_ticket(ticket_text)
    if ticket is None or ticket.event_id != event_id or ticket.epoch != room.epoch:
        raise QueueError("This queue ticket is not valid for this event.",
                         code="invalid_ticket", status=400)  # fmt: skip
    room = ensure_drawn(room, now)
    place = selectors.position(room, ticket)
    now_ms = ms(now)
    admitted_ms = (
        admission.admitted_at(room.schedule, place, ticket.issued_ms) if place is not None else None
    )
    if admitted_ms is None or admitted_ms > now_ms:
        mark = min(admission.mark_at(room.schedule, now_ms), selectors.joined(room))
        raise QueueError("It is not your turn yet.", code="not_admitted_yet", status=409,
                         position=place, admitted_up_to=mark)  # fmt: skip
    expires_ms = admitted_ms + int(room.window / dt.timedelta(milliseconds=1))
    if now_ms >= expires_ms:
        raise QueueError("Your turn has passed: the admission window is over.",
                         code="turn_lapsed", status=410)  # fmt: skip
    signed = tokens.sign_pass(tokens.AdmissionPass(event_id, ticket.pass_id, expires_ms))
    return {"pass": signed, "event": event_id, "expires_at": expires_ms, "position": place}
