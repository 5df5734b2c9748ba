"""Waiting-room reads: the room (cached a moment, it is read on every hold), where a ticket
stands, the status document every waiting fan polls, and the promoter's live figures."""

import datetime as dt
import time

from django.core.cache import cache
from django.db.models import Sum
from django.utils import timezone

from ticketing.orders.models import Hold, HoldItem
from ticketing.orders.selectors import live_inventory

from . import admission, counters, draw, pow
from .models import WaitingRoom
from .tokens import QueueTicket

ROOM_CACHE_SECONDS = 2


def _room_key(event_id: int) -> str:
    return f"queue:room:{event_id}"


def room(event_id: int) -> WaitingRoom | None:
    """The event's waiting room (with its event), or None; cached for a couple of seconds."""
    key = _room_key(event_id)
    found = cache.get(key)
    if found is None:
        found = WaitingRoom.objects.select_related("event").filter(pk=event_id).first() or False
        cache.set(key, found, ROOM_CACHE_SECONDS)
    return found or None


def forget_room(event_id: int) -> None:
    cache.delete(_room_key(event_id))


def ms(moment) -> int:
    return int(moment.timestamp() * 1000)


def state(found: WaitingRoom | None, now) -> str:
    if found is None or not found.enabled:
        return "off"
    if found.event.sales_state(now) in {"sales_closed", "event_cancelled", "event_unpublished"}:
        return "closed"
    if now < found.pre_queue_opens_at:
        return "scheduled"
    if now < found.event.on_sale_at or found.drawn_at is None:
        return "pre_queue"
    return "open"


def position(found: WaitingRoom, ticket: QueueTicket) -> int | None:
    """The ticket's 0-based place in the admission order, once it is known."""
    if found.drawn_at is None:
        return None
    if ticket.kind == counters.FIFO:
        return found.pre_queue_count + ticket.number - 1
    if 1 <= ticket.number <= found.pre_queue_count:
        return draw.position(bytes.fromhex(found.seed), found.pre_queue_count, ticket.number - 1)
    return None


def joined(found: WaitingRoom) -> int:
    if found.drawn_at is None:
        return counters.count(found, counters.PRE)
    return found.pre_queue_count + counters.count(found, counters.FIFO)


def current_rate(found: WaitingRoom) -> int:
    if found.schedule:
        return found.schedule[-1][2]
    return found.rate_per_minute if found.rate_mode == WaitingRoom.RateMode.FIXED else 0


def seats_left(event, now) -> int:
    return sum(row.left for row in live_inventory(event, now))


def seats_lapsing_soon(event, now, within=dt.timedelta(minutes=1)) -> int:
    """Seats in live holds that lapse within `within`: the auto rate admits fans for them
    before they are free, so the next fans are at the door when they are."""
    return (
        HoldItem.objects.filter(
            hold__event=event, hold__state=Hold.State.ACTIVE,
            hold__expires_at__gt=now, hold__expires_at__lte=now + within,
        ).aggregate(n=Sum("quantity"))["n"] or 0
    )  # fmt: skip


def status_document(found: WaitingRoom | None, event_id: int, now=None) -> dict:
    """What every waiting fan polls (NOTES/docs: docs/queue.md). `found` as advanced by
    services.advance, so the draw and the rate are up to date."""
    now = now or timezone.now()
    current = state(found, now)
    document = {"event": event_id, "state": current, "server_time": ms(now)}
    if current == "off":
        return document
    now_ms = ms(now)
    total = joined(found)
    mark = min(admission.mark_at(found.schedule, now_ms), total) if found.drawn_at else 0
    window_ms = found.admission_window_minutes * admission.MINUTE_MS
    left = seats_left(found.event, now)
    published = current != "scheduled"
    document.update(
        {
            "pre_queue_opens_at": ms(found.pre_queue_opens_at),
            "on_sale_at": ms(found.event.on_sale_at),
            "commitment": found.commitment if published else None,
            "seed": found.seed if found.drawn_at else None,
            "pre_queue_count": found.pre_queue_count,
            "joined": total,
            "admitted_up_to": mark,
            "turn_lapsed_below": min(admission.mark_at(found.schedule, now_ms - window_ms), mark),
            "rate_per_minute": current_rate(found),
            "rate_mode": found.rate_mode,
            "admission_window_seconds": found.admission_window_minutes * 60,
            "sold_out": left == 0,
            "pow": {
                "algorithm": pow.ALGORITHM,
                "challenge": pow.challenge(event_id, time.time()),
                "difficulty": pow.difficulty(),
            },
            "draw": {"algorithm": "feistel-hmac-sha256", "rounds": draw.ROUNDS},
            "join_url": f"/q/{event_id}/join",
            "pass_url": f"/q/{event_id}/pass",
        }
    )
    return document


def live_figures(event, now=None) -> dict:
    """The promoter's live view: the queue beside the inventory."""
    now = now or timezone.now()
    found = room(event.pk)
    left = seats_left(event, now)
    figures = {"state": state(found, now), "seats_left": left, "sold_out": left == 0}
    if found is None:
        return figures
    now_ms = ms(now)
    total = joined(found)
    mark = min(admission.mark_at(found.schedule, now_ms), total) if found.drawn_at else 0
    minute_ago = min(admission.mark_at(found.schedule, now_ms - admission.MINUTE_MS), total)
    recent = dt.timedelta(minutes=5)
    taken = (
        HoldItem.objects.filter(
            hold__event=event, hold__created_at__gte=now - recent,
            hold__state__in=[Hold.State.ACTIVE, Hold.State.ORDERED],
        ).aggregate(n=Sum("quantity"))["n"] or 0
    )  # fmt: skip
    per_minute = taken / (recent.total_seconds() / 60)
    figures.update(
        {
            "joined": total,
            "admitted": mark,
            "waiting": max(total - mark, 0),
            "admitted_per_minute": max(mark - minute_ago, 0) if found.drawn_at else 0,
            "rate_mode": found.rate_mode,
            "rate_per_minute": current_rate(found),
            "holds_active": Hold.objects.filter(
                event=event,
                state=Hold.State.ACTIVE,
                expires_at__gt=now,
                queue_pass__isnull=False,
            ).count(),
            "sell_out_eta_minutes": round(left / per_minute, 1) if per_minute and left else None,
        }
    )
    return figures
