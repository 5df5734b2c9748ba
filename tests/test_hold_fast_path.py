"""POST /api/v1/holds answers without DRF when the request is in canonical form
(ticketing/orders/hold_api.py): every answer must be the one DRF's view gives, byte for byte."""

import json

import pytest
from django.test import Client, RequestFactory
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from ticketing.orders import api
from ticketing.orders.models import Hold

from .checkout import event_on_sale

pytestmark = pytest.mark.django_db

HEADERS = ("Content-Type", "Allow", "Cache-Control")


@pytest.fixture
def sale():
    _, types, _ = event_on_sale(capacities=(10, 3), max_per_order=4)
    _, cancelled_types, _ = event_on_sale("bravo", status="cancelled")
    return {"ga": types[0].pk, "vip": types[1].pk, "cancelled": cancelled_types[0].pk}


def drf_answer(body, content_type="application/json", **headers):
    """The DRF view's own answer to the same request."""
    request = RequestFactory().post("/api/v1/holds", body, content_type=content_type, **headers)
    return api.Holds.as_view()(request).render()


def served(client, body, content_type="application/json", **headers):
    return client.post("/api/v1/holds", body, content_type=content_type, **headers)


def same_answer(fast, drf):
    assert (fast.status_code, fast.content) == (drf.status_code, drf.content)
    assert {h: fast.get(h) for h in HEADERS} == {h: drf.get(h) for h in HEADERS}


def test_a_new_hold_reads_as_drfs_serializer_writes_it(client, sale):
    ga, vip = sale["ga"], sale["vip"]
    items = [{"ticket_type": ga, "quantity": 2}, {"ticket_type": vip, "quantity": 1}]
    body = {"items": items, "affiliate": "", "click": "", "language": "de"}
    response = served(client, body)
    assert response.status_code == 201
    assert not isinstance(response, Response)  # answered without DRF
    hold = Hold.objects.get(token=response.json()["token"])
    hold.item_list = list(hold.items.select_related("ticket_type").order_by("ticket_type_id"))
    request = RequestFactory().get("/")  # same host: testserver
    expected = JSONRenderer().render(api.HoldOutput(hold, context={"request": request}).data)
    assert response.content == expected
    assert response["Cache-Control"] == "private, no-store" and response["Allow"] == "POST, OPTIONS"


@pytest.mark.parametrize(
    "items",
    [
        [("vip", 3), ("vip", 1)],  # insufficient after the first
        [("ga", 5)],  # over max_per_order
        [(999_999, 1)],  # unknown ticket type
        [("ga", 1), ("cancelled", 1)],  # two events
        [("cancelled", 1)],  # not on sale
    ],
)
def test_checkout_errors_say_what_drf_says(client, sale, items):
    *before, last = [{"items": [{"ticket_type": sale.get(t, t), "quantity": q}]} for t, q in items]
    for body in before:
        assert served(client, body).status_code == 201
    fast = served(client, last)
    assert fast.status_code in (400, 409)
    assert not isinstance(fast, Response)
    same_answer(fast, drf_answer(last))


@pytest.mark.parametrize(
    "body, content_type, headers",
    [
        ('{"items": [{"ticket_type": GA, "quantity": "2"}]}', "application/json", {}),  # "2"
        ('{"items": [{"ticket_type": GA, "quantity": 2.0}]}', "application/json", {}),
        ('{"items": [{"ticket_type": GA, "quantity": true}]}', "application/json", {}),
        ('{"items": [{"ticket_type": GA, "quantity": 2, "x": 1}]}', "application/json", {}),
        ('{"items": [{"ticket_type": GA, "quantity": 2}], "affiliate": " k "}',
         "application/json", {}),
        ('{"items": [{"ticket_type": GA, "quantity": 2}], "click": "a\\u0000b"}',
         "application/json", {}),
        ('{"items": [{"ticket_type": GA, "quantity": 2}], "extra": [[[[1]]]]}',
         "application/json", {}),
        ('{"items": [{"ticket_type": GA, "quantity": 2}], "language": "xx"}',
         "application/json", {}),
        ('{"items": []}', "application/json", {}),
        ("[1, 2]", "application/json", {}),
        ("{items: [", "application/json", {}),
        ("", "application/json", {}),
        ('{"items": [{"ticket_type": GA, "quantity": 2}]}', "text/plain", {}),
        ('{"items": [{"ticket_type": GA, "quantity": 2}]}', "application/json",
         {"HTTP_ACCEPT": "text/html"}),
    ],
)  # fmt: skip
def test_anything_else_is_drfs_to_answer(client, sale, body, content_type, headers):
    body = body.replace("GA", str(sale["ga"]))
    fast = served(client, body, content_type, **headers)
    assert isinstance(fast, Response)  # handed to the DRF view
    Hold.objects.all().delete()  # so that the DRF view sees the same seats
    drf = drf_answer(body, content_type, **headers)
    if fast.status_code == 201:  # a new hold each time: compare all but its own token and times
        assert drf.status_code == 201
        fast_data, drf_data = json.loads(fast.content), json.loads(drf.content)
        for data in (fast_data, drf_data):
            del data["token"], data["url"], data["expires_at"]
        assert fast_data == drf_data
    else:
        same_answer(fast, drf)


def test_other_methods_are_drfs(client):
    fast, drf = Client().get("/api/v1/holds"), api.Holds.as_view()(RequestFactory().get("/"))
    same_answer(fast, drf.render())
    assert fast.status_code == 405
