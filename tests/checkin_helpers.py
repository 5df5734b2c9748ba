"""What the check-in tests share: paired devices, sold tickets, calls to the scanner API."""

import uuid

from django.test import Client

from tests.conftest import make_catalogue
from ticketing.checkin import services as checkin
from ticketing.orders import services as orders


def sell(event, n=1, *, name="Ada Lovelace", email="ada@example.com"):
    """An order of `n` tickets of the event's first ticket type; (order, tickets)."""
    ticket_type = event.ticket_types.order_by("pk").first()
    hold = orders.create_hold([{"ticket_type": ticket_type.pk, "quantity": n}])
    order, _ = orders.place_order(hold.token, name=name, email=email)
    return order, list(order.tickets.order_by("pk"))


def paired_device(promoter, name="Door 1"):
    """A device of the promoter paired as a phone would be: (device, token)."""
    device = checkin.create_device(promoter, name)
    return checkin.pair(device.pairing_code)


def api(method, path, token=None, body=None, **params):
    """A call to /api/v1/checkin/<path> from a fresh client (no cookies); (status, json)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    url = f"/api/v1/checkin/{path}"
    client = Client()
    if method == "get":
        response = client.get(url, params, headers=headers)
    else:
        response = client.post(url, body or {}, content_type="application/json", headers=headers)
    return response.status_code, response.json()


def scan(token, event, code=None, *, ticket=None, **extra):
    body = {"event": event.pk, **({"code": code} if ticket is None else {"ticket": ticket.pk})}
    return api("post", "scans", token, {**body, **extra})


def offline_scan(event, ticket, scanned_at, result="valid"):
    return {
        "id": str(uuid.uuid4()),
        "event": event.pk,
        "code": ticket.signed_secret,
        "scanned_at": scanned_at.isoformat(),
        "result": result,
    }


def door_catalogue(slug="alpha", events=2):
    return make_catalogue(slug, events=events)
