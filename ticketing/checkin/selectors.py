"""Check-in reads: a device's events, the offline bundle, manual search, and the promoter's
figures (counts per event and ticket type, arrivals over time, attendees, the scan log)."""

import datetime as dt

from django.db.models import Count, Q
from django.db.models.functions import TruncMinute
from django.utils import timezone

from ticketing.events.models import Event, TicketType
from ticketing.orders import selectors as order_selectors
from ticketing.orders.models import Order, Ticket

from .errors import EventNotFound
from .models import CheckIn, DoorSettings, Scan

# The events a door can still need: from yesterday's (a show past midnight) on.
EVENTS_SINCE = dt.timedelta(days=1)
MAX_EVENTS = 100
# The bundle's ticket lists cover the shows whose doors open within this: tonight's and
# tomorrow's, not every ticket of a season (ask with ?event= for another one).
TICKETS_AHEAD = dt.timedelta(days=2)
SEARCH_LIMIT = 25
MIN_SEARCH_LENGTH = 2


def promoter_events(promoter_id):
    return Event.objects.filter(artist__promoter=promoter_id)


def device_events(device, now=None):
    """The events a device scans for: its promoter's, not cancelled, not over since yesterday."""
    now = now or timezone.now()
    return (
        promoter_events(device.promoter_id)
        .exclude(status=Event.Status.CANCELLED)
        .filter(starts_at__gte=now - EVENTS_SINCE)
        .select_related("artist", "venue")
        .order_by("starts_at", "pk")[:MAX_EVENTS]
    )


def device_event(device, event_id) -> Event:
    """One of the device's promoter's events by id, or EventNotFound (also for another
    promoter's: it is as absent to this device as one that never existed)."""
    if type(event_id) is not int:
        if not (isinstance(event_id, str) and event_id.isdigit() and len(event_id) < 19):
            raise EventNotFound("No such event.")
        event_id = int(event_id)
    event = (
        promoter_events(device.promoter_id)
        .select_related("artist", "venue", "door_settings")
        .filter(pk=event_id)
        .first()
    )
    if event is None:
        raise EventNotFound("No such event.")
    return event


def allows_reentry(event) -> bool:
    try:
        return event.door_settings.allow_reentry  # loaded with the event by device_event
    except DoorSettings.DoesNotExist:
        return False


def valid_ticket_q(prefix: str = "") -> Q:
    """Tickets that admit: of a confirmed order, and not refunded on their own (a partial
    refund voids some tickets of an order that stays confirmed)."""
    return Q(**{f"{prefix}order__state": Order.State.CONFIRMED, f"{prefix}voided_at": None})


def is_valid(ticket) -> bool:
    return ticket.order.state == Order.State.CONFIRMED and ticket.voided_at is None


# --- JSON for the scanner ------------------------------------------------------------------


def iso(moment) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def ticket_json(ticket) -> dict | None:
    if ticket is None:
        return None
    return {
        "id": ticket.pk,
        "name": ticket.order.name,
        "order": ticket.order.code,
        "ticket_type": ticket.ticket_type.name,
        "event": ticket.order.event_id,
        "payment_status": ticket.order.payment_status,
    }


def check_in_json(check_in) -> dict | None:
    if check_in is None:
        return None
    return {"at": iso(check_in.checked_in_at), "device": check_in.device.name}


def _ticket_state(ticket) -> str:
    return "valid" if is_valid(ticket) else "cancelled"


def bundle(device, event=None, now=None) -> dict:
    """What a device needs to scan with the network down: the public keys (never a private
    one), its events, and the tickets of those starting within TICKETS_AHEAD (or of `event`):
    revoked ones, those checked in, and all of them for manual search. A few queries, whatever
    the numbers."""
    now = now or timezone.now()
    events = [event] if event is not None else list(device_events(device, now))
    event_ids = [e.pk for e in events]
    with_tickets = {e.pk for e in events if event is not None or e.starts_at <= now + TICKETS_AHEAD}
    reentry = set(
        DoorSettings.objects.filter(event__in=event_ids, allow_reentry=True).values_list(
            "event_id", flat=True
        )
    )
    types: dict[int, list] = {}
    for ticket_type in TicketType.objects.filter(event__in=event_ids).order_by("event", "pk"):
        types.setdefault(ticket_type.event_id, []).append(
            {"id": ticket_type.pk, "name": ticket_type.name}
        )
    counts = event_counts(event_ids)
    tickets = list(
        Ticket.objects.filter(order__event__in=with_tickets)
        .select_related("order", "ticket_type", "check_in__device")
        .order_by("order__event", "pk")
    )
    return {
        "generated_at": iso(now),
        "device": {"id": device.pk, "name": device.name},
        "promoter": {"id": device.promoter_id, "name": device.promoter.name},
        "keys": order_selectors.ticket_public_keys(),
        "events": [
            {
                "id": e.pk,
                "name": e.display_name,
                "starts_at": iso(e.starts_at),
                "doors_at": iso(e.doors_at),
                "venue": f"{e.venue.name}, {e.venue.city}",
                "allow_reentry": e.pk in reentry,
                "tickets_included": e.pk in with_tickets,
                "ticket_types": types.get(e.pk, []),
                **counts.get(e.pk, {"checked_in": 0, "sold": 0}),
            }
            for e in events
        ],
        "revoked": [
            {"event": t.order.event_id, "secret": t.secret} for t in tickets if not is_valid(t)
        ],
        "checked_in": [
            {"event": t.order.event_id, "secret": t.secret, **check_in_json(t.check_in)}
            for t in tickets
            if _checked_in(t)
        ],
        "tickets": [
            {
                "id": t.pk,
                "secret": t.secret,
                "event": t.order.event_id,
                "name": t.order.name,
                "order": t.order.code,
                "ticket_type": t.ticket_type.name,
                "state": _ticket_state(t),
            }
            for t in tickets
        ],
    }


def _checked_in(ticket) -> bool:
    try:
        return ticket.check_in is not None
    except CheckIn.DoesNotExist:
        return False


def search(event, query: str) -> list[dict]:
    """The event's tickets whose buyer's name contains `query`, or whose order code it is."""
    query = (query or "").strip()
    if len(query) < MIN_SEARCH_LENGTH:
        return []
    code = query.upper().replace("-", "").replace(" ", "")
    tickets = (
        Ticket.objects.filter(order__event=event)
        .filter(Q(order__name__icontains=query) | Q(order__code=code))
        .select_related("order", "ticket_type", "check_in__device")
        .order_by("order__name", "order__code", "pk")[:SEARCH_LIMIT]
    )
    return [
        {
            **ticket_json(t),
            "state": _ticket_state(t),
            "checked_in": check_in_json(t.check_in) if _checked_in(t) else None,
        }
        for t in tickets
    ]


# --- the promoter's view ---------------------------------------------------------------------


def event_counts(event_ids) -> dict[int, dict]:
    """Event id -> {"checked_in": n, "sold": n}: tickets of confirmed orders, and those of them
    checked in. One query."""
    rows = (
        Ticket.objects.filter(valid_ticket_q(), order__event__in=event_ids)
        .values("order__event")
        .annotate(sold=Count("pk"), checked_in=Count("check_in"))
        .order_by()
    )
    return {
        row["order__event"]: {"checked_in": row["checked_in"], "sold": row["sold"]} for row in rows
    }


def ticket_type_counts(event) -> list[dict]:
    """Per ticket type of the event: name, sold (confirmed), checked in. One query."""
    rows = (
        TicketType.objects.filter(event=event)
        .annotate(
            n_sold=Count("tickets", filter=valid_ticket_q("tickets__")),
            n_checked_in=Count("tickets__check_in", filter=valid_ticket_q("tickets__")),
        )
        .order_by("pk")
    )
    return [
        {"id": row.pk, "name": row.name, "sold": row.n_sold, "checked_in": row.n_checked_in}
        for row in rows
    ]


def arrivals(event, minutes: int = 10) -> list[dict]:
    """Check-ins per `minutes` minutes (UTC), oldest first: the timeline of arrivals."""
    rows = (
        CheckIn.objects.filter(event=event)
        .annotate(minute=TruncMinute("checked_in_at", tzinfo=dt.UTC))
        .values("minute")
        .annotate(n=Count("pk"))
        .order_by("minute")
    )
    buckets: dict[dt.datetime, int] = {}
    for row in rows:
        minute = row["minute"]
        start = minute.replace(minute=minute.minute - minute.minute % minutes)
        buckets[start] = buckets.get(start, 0) + row["n"]
    return [{"at": at, "checked_in": n} for at, n in sorted(buckets.items())]


def live(event, now=None) -> dict:
    """The door's figures of an event, as the promoter's live view and its JSON show them."""
    now = now or timezone.now()
    types = ticket_type_counts(event)
    results = dict(
        Scan.objects.filter(event=event)
        .values("result")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("result", "n")
    )
    return {
        "generated_at": iso(now),
        "totals": {
            "sold": sum(row["sold"] for row in types),
            "checked_in": sum(row["checked_in"] for row in types),
        },
        "ticket_types": types,
        "arrivals": [
            {"at": iso(row["at"]), "checked_in": row["checked_in"]} for row in arrivals(event)
        ],
        "scans": {result: results.get(result, 0) for result, _ in Scan.Result.choices},
        "conflicts": Scan.objects.filter(event=event, conflict=True).count(),
    }


def attendees(event):
    """Every ticket of the event with its buyer and check-in, for the CSV."""
    return (
        Ticket.objects.filter(order__event=event)
        .select_related("order", "ticket_type", "check_in__device")
        .order_by("order__name", "order__code", "pk")
    )


def scan_log(event, limit: int = 200):
    return (
        Scan.objects.filter(event=event)
        .select_related("device", "ticket__order", "ticket__ticket_type")
        .order_by("-scanned_at", "-pk")[:limit]
    )
