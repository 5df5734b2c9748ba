"""The limits that keep one client from hoarding a show, and their refusals.

- `check_rate(scope, client)`: a rate limit (`settings.RATE_LIMITS`) on hold creation, order
  lookup and notify-me requests.
- `check_active_holds(event_id, client, now)`: at most `settings.HOLDS_PER_CLIENT` live holds of
  one event per client, counted from the database inside the hold's own transaction.

Both raise `TooManyRequests` (429) with the seconds to wait and a message for people.
"""

import hashlib
import math

from django.conf import settings
from django.db import connection
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ticketing.orders.models import Hold

from . import ratelimit
from .errors import TooManyRequests


def check_rate(scope: str, client: str) -> None:
    decision = ratelimit.hit(scope, client)
    if not decision.allowed:
        raise TooManyRequests(
            _("Too many requests from your connection. Please try again in %(wait)s.")
            % {"wait": wait_text(decision.retry_after)},
            retry_after=decision.retry_after,
        )


def check_active_holds(event_id: int, client: str, now) -> None:
    """Refuse a new hold when `client` already has HOLDS_PER_CLIENT live holds of the event.

    Call it inside the transaction that creates the hold, before the hold is written. On
    PostgreSQL a transaction-scoped advisory lock per (event, client) makes the client's
    concurrent requests take turns from here to COMMIT, so each counts the others' committed
    holds: together they never pass the cap, and other clients never wait for it. (SQLite lets
    one writing transaction at a time, which serializes them the same way.)
    """
    cap = settings.HOLDS_PER_CLIENT
    if not cap or not client:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_lock_key(event_id, client)])
    live = list(
        Hold.objects.filter(event_id=event_id, client=client, state=Hold.State.ACTIVE)
        .filter(expires_at__gt=now)
        .order_by("expires_at")
        .values_list("expires_at", flat=True)[:cap]
    )
    if len(live) >= cap:
        retry_after = max(1, math.ceil((live[0] - now).total_seconds()))
        message = ngettext(
            "You already hold tickets for this event. Finish your order or release the hold "
            "first, or try again in %(wait)s.",
            "You already have %(count)s holds for this event. Finish an order or release a "
            "hold first, or try again in %(wait)s.",
            len(live),
        ) % {"count": len(live), "wait": wait_text(retry_after)}
        raise TooManyRequests(message, code="hold_limit", retry_after=retry_after)


def _lock_key(event_id: int, client: str) -> int:
    digest = hashlib.blake2b(f"hold-cap:{event_id}:{client}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)  # bigint, as pg_advisory_xact_lock takes


def wait_text(seconds: int) -> str:
    """`45 seconds`, `3 minutes`: how long to wait, in the active language."""
    if seconds < 60:
        return ngettext("%(count)s second", "%(count)s seconds", seconds) % {"count": seconds}
    minutes = math.ceil(seconds / 60)
    return ngettext("%(count)s minute", "%(count)s minutes", minutes) % {"count": minutes}
