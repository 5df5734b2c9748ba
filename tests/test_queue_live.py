"""The waiting room in the promoter's live sales view: the queue's figures and the rate control,
scoped to the promoter's own events."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.urls import reverse

from ticketing.events.models import Membership
from ticketing.queue import services
from ticketing.queue.models import WaitingRoom

from .conftest import make_staff
from .queue_helpers import event_with_room, join

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache(settings):
    settings.QUEUE_POW_DIFFICULTY = 8
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def room_on_sale():
    event, _, _ = event_with_room(on_sale_in=-dt.timedelta(minutes=1), rate_per_minute=0)
    for _ in range(3):
        assert join(event.pk).status_code == 201
    return event


def _manager(event, role=Membership.Role.MANAGER, name="manager"):
    return make_staff(f"{name}-{event.pk}", event.artist.promoter, role)


def test_the_live_view_shows_the_queue_beside_the_seats(client, room_on_sale):
    event = room_on_sale
    client.force_login(_manager(event, Membership.Role.VIEWER, "viewer"))
    data = client.get(reverse("admin:events_event_live_json", args=[event.pk])).json()["queue"]
    assert (data["state"], data["waiting"], data["admitted"]) == ("open", 3, 0)
    assert (data["seats_left"], data["holds_active"], data["rate_per_minute"]) == (50, 0, 0)
    assert data["sell_out_eta"] == "–"  # nothing sold yet: no estimate

    page = client.get(reverse("admin:events_event_live", args=[event.pk])).content.decode()
    assert '<caption>Waiting room (<span data-live="state">open</span>)</caption>' in page
    assert '<td data-live="waiting">3</td>' in page and '<td data-live="seats_left">50</td>' in page
    assert reverse("admin:events_event_queue_rate", args=[event.pk]) in page


def test_the_rate_control_sets_a_rate_or_auto(client, room_on_sale):
    event = room_on_sale
    client.force_login(_manager(event))
    url = reverse("admin:events_event_queue_rate", args=[event.pk])
    live = reverse("admin:events_event_live", args=[event.pk])

    response = client.post(url, {"rate": "90"}, follow=True)
    assert response.redirect_chain[-1][0] == live
    assert "Admission rate: 90 fans per minute." in response.content.decode()
    room = WaitingRoom.objects.get(pk=event.pk)
    assert (room.rate_mode, room.rate_per_minute) == ("fixed", 90)

    response = client.post(url, {"rate": "lots"}, follow=True)
    assert "The rate is a whole number of fans per minute" in response.content.decode()
    assert WaitingRoom.objects.get(pk=event.pk).rate_per_minute == 90

    client.post(url, {"auto": "1"})
    assert WaitingRoom.objects.get(pk=event.pk).rate_mode == "auto"
    figures = client.get(reverse("admin:events_event_live_json", args=[event.pk])).json()
    assert figures["queue"]["rate_mode"] == "auto" and figures["queue"]["rate_per_minute"] == 5


def test_the_rate_control_is_for_the_promoters_managers_only(client, room_on_sale):
    event = room_on_sale
    url = reverse("admin:events_event_queue_rate", args=[event.pk])
    client.force_login(_manager(event, Membership.Role.VIEWER, "viewer"))
    assert client.post(url, {"rate": "1000"}).status_code == 403
    other, _, _ = event_with_room("other")
    client.force_login(_manager(other))
    assert client.post(url, {"rate": "1000"}).status_code == 404
    assert client.get(reverse("admin:events_event_live_json", args=[event.pk])).status_code == 404
    assert WaitingRoom.objects.get(pk=event.pk).rate_per_minute == 0
    services.set_rate(event.pk, rate_per_minute=1)  # the service itself still works


def test_without_a_waiting_room_the_live_view_has_no_queue_section(client, room_on_sale):
    WaitingRoom.objects.filter(pk=room_on_sale.pk).update(enabled=False)
    cache.clear()
    client.force_login(_manager(room_on_sale))
    page = client.get(reverse("admin:events_event_live", args=[room_on_sale.pk]))
    assert page.status_code == 200 and "live-queue" not in page.content.decode()
