"""Notify-me reads: which events fans may wait for, which sell now, and the counts promoters see."""

import zoneinfo

from django.db.models import Count, Q

from ticketing.events.models import Event
from ticketing.orders import selectors as checkout

from .models import Subscription


def is_buyable(event: Event, now) -> bool:
    """On sale, with a seat left in some ticket type (seats in lapsed holds count as free)."""
    return checkout.sale_status(event, now).code == "on_sale" and any(
        row["available"] for row in checkout.availability(event, now)
    )


def can_wait_for(event: Event, now) -> bool:
    """Not on sale yet, or on sale and sold out: tickets may come."""
    code = checkout.sale_status(event, now).code
    return code == "not_yet_on_sale" or (code == "on_sale" and not is_buyable(event, now))


def events_with_waiting_fans():
    waiting = Subscription.objects.filter(state=Subscription.State.ACTIVE).values("event_id")
    return (
        Event.objects.filter(pk__in=waiting)
        .select_related("artist", "venue")
        .prefetch_related("ticket_types")
    )


def counts_by_event(subscriptions) -> list[dict]:
    """Per event of `subscriptions` (already scoped to what the viewer may see): how many wait
    for confirmation, wait for tickets, were told and left."""
    states = Subscription.State
    rows = list(
        subscriptions.values(
            "event_id", "event__slug", "event__artist__name", "event__venue__city",
            "event__starts_at", "event__venue__time_zone",
        )
        .annotate(
            pending=Count("pk", filter=Q(state=states.PENDING)),
            active=Count("pk", filter=Q(state=states.ACTIVE)),
            notified=Count("pk", filter=Q(state=states.NOTIFIED)),
            unsubscribed=Count("pk", filter=Q(state=states.UNSUBSCRIBED)),
        )
        .order_by("event__starts_at", "event_id")
    )  # fmt: skip
    for row in rows:
        local = row["event__starts_at"].astimezone(
            zoneinfo.ZoneInfo(row["event__venue__time_zone"])
        )
        row["event_label"] = (
            f"{row['event__artist__name']} – {row['event__venue__city']}, {local:%Y-%m-%d %H:%M}"
        )
    return rows
