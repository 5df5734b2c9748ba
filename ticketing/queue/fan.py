"""The event page's waiting room: what the page needs to become one (ticketing/orders' event
page asks `page_context`). Everything personal (the queue ticket, the pass) lives in the fan's
browser, so the page stays the same bytes for everyone and cacheable."""

from django.urls import reverse

from . import selectors


def page_context(event, now) -> dict | None:
    """None when the event's waiting room is off (or sales are closed): the page is the plain
    ticket form. Otherwise the data the page's script starts from; it polls the status."""
    room = selectors.room(event.pk)
    current = selectors.state(room, now)
    if current in {"off", "closed"}:
        return None
    return {
        "state": current,
        "event_id": event.pk,
        "status_url": reverse("queue:status", args=[event.pk]),
        "join_url": reverse("queue:join", args=[event.pk]),
        "pass_url": reverse("queue:pass", args=[event.pk]),
        "on_sale_at_ms": selectors.ms(event.on_sale_at),
        "pre_queue_opens_at": room.pre_queue_opens_at,
        "pre_queue_opens_at_ms": selectors.ms(room.pre_queue_opens_at),
        "admission_window_minutes": room.admission_window_minutes,
    }
