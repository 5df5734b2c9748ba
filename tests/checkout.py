"""Helpers for the checkout tests: an event on sale with ticket types of chosen capacities, the
API calls a fan's browser makes, and a crowd of concurrent buyers on their own connections."""

import datetime as dt
import threading
from decimal import Decimal

from django.db import connection
from django.test import Client
from django.utils import timezone

from ticketing.events.models import Event, TicketType

from .conftest import make_catalogue


def event_on_sale(slug="alpha", *, capacities=(50,), max_per_order=6, **event_fields):
    """A published event of a new promoter, on sale now, with one ticket type per capacity."""
    catalogue = make_catalogue(slug, capacity=capacities[0], **event_fields)
    event = catalogue["events"][0]
    event.ticket_types.update(max_per_order=max_per_order)
    for n, capacity in enumerate(capacities[1:], start=2):
        TicketType.objects.create(
            event=event, name=f"Type {n}", price=Decimal("10.00"), capacity=capacity,
            max_per_order=max_per_order, position=n,
        )  # fmt: skip
    event = Event.objects.get(pk=event.pk)
    return event, list(event.ticket_types.order_by("pk")), catalogue


def post_hold(client, *items, **extra):
    """POST /api/v1/holds with `(ticket_type, quantity)` pairs."""
    body = {"items": [{"ticket_type": t.pk if hasattr(t, "pk") else t, "quantity": q}
                      for t, q in items], **extra}  # fmt: skip
    return client.post("/api/v1/holds", body, content_type="application/json")


def post_order(client, token, key=None, name="Ada Lovelace", email="ada@example.com"):
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(
        f"/api/v1/holds/{token}/order", {"name": name, "email": email},
        content_type="application/json", headers=headers,
    )  # fmt: skip


def lapsed(minutes=30):
    """A moment long enough ago that a hold made then has lapsed (holds last 10 minutes)."""
    return timezone.now() - dt.timedelta(minutes=minutes)


def run_concurrently(calls, max_connections=50, timeout=120):
    """Run the callables in one thread each, released together by a barrier.

    PostgreSQL here has max_connections = 100, shared with other test runs, so a semaphore lets
    at most `max_connections` threads hold a database connection at once: every caller still
    contends, the rest queue for a connection. Each thread closes its own connection before it
    gives its slot back. Returns each call's result, or the exception it raised.
    """
    barrier = threading.Barrier(len(calls))
    slots = threading.BoundedSemaphore(max_connections)
    results = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=timeout)
            with slots:
                try:
                    results[index] = call()
                finally:
                    connection.close()
        except BaseException as error:  # reported to the test, not lost in the thread
            results[index] = error

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a buyer hung (deadlock?)"
    return results


def api_call(method, path, body=None, headers=None):
    """One request through the whole Django stack from a fresh client; (status, json)."""
    response = getattr(Client(), method)(
        path, body, content_type="application/json", headers=headers or {}
    )
    return response.status_code, (response.json() if response.content else None)
