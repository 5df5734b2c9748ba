"""Admission is enforced where seats are taken: holds need a pass while the room is on."""

import datetime as dt
import functools

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from ticketing.orders.models import Hold
from ticketing.queue import tokens

from .checkout import api_call, event_on_sale, post_hold, run_concurrently
from .queue_helpers import ask_pass, event_with_room, join


@pytest.fixture(autouse=True)
def _fresh_cache(settings):
    settings.QUEUE_POW_DIFFICULTY = 8
    cache.clear()
    yield
    cache.clear()


def admitted_pass(event) -> str:
    """A fan who joins an open room with a fast rate, and is admitted a moment later."""
    ticket = join(event.pk).json()["ticket"]
    response = ask_pass(event.pk, ticket)
    assert response.status_code == 200, response.json()
    return response.json()["pass"]


def open_room(slug="gate", **fields):
    fields.setdefault("rate_per_minute", 600_000)  # everyone admitted within a millisecond
    return event_with_room(slug, on_sale_in=-dt.timedelta(minutes=1), **fields)


@pytest.mark.django_db
def test_without_a_pass_the_api_refuses_with_the_queue_url():
    event, (ga,), _ = open_room()
    for extra in ({}, {"queue_pass": ""}, {"queue_pass": "forged:pass"}):
        response = post_hold(Client(), (ga, 1), **extra)
        assert response.status_code == 403
        body = response.json()
        assert body["error"] == "queue_required"
        assert body["queue_url"].endswith(f"/e/{event.slug}/")
        assert body["queue_status_url"].endswith(f"/q/{event.pk}/status")
    assert not Hold.objects.exists()


@pytest.mark.django_db
def test_a_pass_makes_one_active_hold():
    event, (ga,), _ = open_room()
    queue_pass = admitted_pass(event)
    response = post_hold(Client(), (ga, 2), queue_pass=queue_pass)
    assert response.status_code == 201, response.json()
    second = post_hold(Client(), (ga, 1), queue_pass=queue_pass)
    assert (second.status_code, second.json()["error"]) == (409, "queue_pass_used")
    # The fan who lets the hold go may use the pass again within the window.
    token = response.json()["token"]
    assert Client().delete(f"/api/v1/holds/{token}").status_code == 204
    assert post_hold(Client(), (ga, 1), queue_pass=queue_pass).status_code == 201


@pytest.mark.django_db
def test_the_drf_view_enforces_the_same():
    event, (ga,), _ = open_room()
    # A non-canonical body (a string quantity DRF coerces) goes to the DRF view.
    body = {"items": [{"ticket_type": ga.pk, "quantity": "1"}]}
    response = Client().post("/api/v1/holds", body, content_type="application/json")
    assert (response.status_code, response.json()["error"]) == (403, "queue_required")
    body["queue_pass"] = admitted_pass(event)
    response = Client().post("/api/v1/holds", body, content_type="application/json")
    assert response.status_code == 201


@pytest.mark.django_db
def test_an_expired_or_other_events_pass_is_refused():
    event, (ga,), room = open_room()
    _, (other_ga,), _ = open_room("other")
    expired = tokens.sign_pass(
        tokens.AdmissionPass(event.pk, f"{room.epoch}:f1", int(timezone.now().timestamp() * 1000))
    )
    response = post_hold(Client(), (ga, 1), queue_pass=expired)
    assert (response.status_code, response.json()["error"]) == (403, "queue_required")
    assert "ended" in response.json()["detail"]
    response = post_hold(Client(), (other_ga, 1), queue_pass=admitted_pass(event))
    assert (response.status_code, response.json()["error"]) == (403, "queue_required")


@pytest.mark.django_db
def test_the_event_page_form_needs_the_pass_too():
    event, (ga,), _ = open_room()
    url = f"/e/{event.slug}/hold"
    refused = Client().post(url, {f"qty-{ga.pk}": "1", "language": "en"})
    assert refused.status_code == 403
    assert "waiting room" in refused.content.decode()
    fine = Client().post(url, {f"qty-{ga.pk}": "1", "language": "en",
                                "queue_pass": admitted_pass(event)})  # fmt: skip
    assert fine.status_code == 302


@pytest.mark.django_db
def test_events_without_a_room_sell_as_before():
    _, (ga,), _ = event_on_sale("plain")
    assert post_hold(Client(), (ga, 1)).status_code == 201


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_hold_per_pass_under_concurrent_use():
    event, (ga,), _ = open_room(capacities=(100,))
    queue_pass = admitted_pass(event)
    body = {"items": [{"ticket_type": ga.pk, "quantity": 1}], "queue_pass": queue_pass}
    results = run_concurrently([functools.partial(api_call, "post", "/api/v1/holds", body)] * 30)
    statuses = sorted(status for status, _ in results)
    assert statuses == [201] + [409] * 29
    assert {body["error"] for status, body in results if status == 409} == {"queue_pass_used"}
    assert Hold.objects.filter(state="active").count() == 1
    ga.refresh_from_db()
    assert ga.held == 1
