"""Helpers for the waiting-room tests: an event with its room, and what a fan's browser does
(read the status, solve the proof of work, join, ask for a pass)."""

import datetime as dt

from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from ticketing.queue import pow
from ticketing.queue.models import WaitingRoom

from .checkout import event_on_sale


def event_with_room(slug="queue", *, on_sale_in=dt.timedelta(minutes=10), capacities=(50,),
                    **room_fields):  # fmt: skip
    """An event going on sale `on_sale_in` from now (negative: already on sale), its waiting
    room on and its pre-queue open."""
    event, ticket_types, _ = event_on_sale(
        slug, capacities=capacities, on_sale_at=timezone.now() + on_sale_in
    )
    room_fields.setdefault("pre_queue_minutes", 60)
    room = WaitingRoom.objects.create(event=event, **room_fields)
    cache.clear()
    return event, ticket_types, room


def solve(client, event_id) -> dict:
    status = client.get(f"/q/{event_id}/status").json()
    challenge = status["pow"]["challenge"]
    return {"challenge": challenge, "nonce": pow.solve(challenge, status["pow"]["difficulty"])}


def join(event_id, client=None):
    client = client or Client()
    return client.post(f"/q/{event_id}/join", solve(client, event_id),
                       content_type="application/json")  # fmt: skip


def ask_pass(event_id, ticket, client=None):
    return (client or Client()).post(
        f"/q/{event_id}/pass", {"ticket": ticket}, content_type="application/json"
    )
