"""The event page as the waiting room (test client): its countdown and queue data for the
page's script, no cookie, still cacheable; and the plain ticket form without a room."""

import datetime as dt
import re

import pytest
from django.core.cache import cache

from ticketing.queue.models import WaitingRoom

from .checkout import event_on_sale
from .queue_helpers import event_with_room

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


def test_waiting_room_page_carries_its_countdown_and_sets_no_cookie(client):
    event, _, _ = event_with_room(on_sale_in=dt.timedelta(minutes=10))

    response = client.get(f"/e/{event.slug}/?lang=en&affiliate=aff123&click=c-1")

    assert response.status_code == 200
    assert not response.cookies
    assert "Cookie" not in response.get("Vary", "")
    assert "public" in response["Cache-Control"]
    html = response.content.decode()
    on_sale_ms = int(event.on_sale_at.timestamp() * 1000)
    section = re.search(r"<section[^>]*data-queue[^>]*>", html).group(0)
    assert f'data-on-sale="{on_sale_ms}"' in section
    assert f'data-status-url="/q/{event.pk}/status"' in section
    assert f'data-join-url="/q/{event.pk}/join"' in section
    assert 'data-state="pre_queue"' in section
    assert 'role="timer"' in html
    assert "Waiting room" in html
    # The ticket form waits for the fan's turn, ready to carry the pass and the attribution.
    form = re.search(r"<form[^>]*hold[^>]*>", html).group(0)
    assert " hidden" in form and "data-queue-gated" in form
    assert 'name="queue_pass"' in html
    assert 'name="affiliate" value="aff123"' in html and 'name="click" value="c-1"' in html
    assert "queue/queue-core.js" in html and "queue/waiting-room.js" in html
    # Strict CSP: nothing inline.
    assert "<script>" not in html and " style=" not in html and " onclick" not in html
    assert 'data-countdown-kind="on-sale"' not in html  # the room has its own countdown


def test_waiting_room_page_is_translated(client):
    event, _, _ = event_with_room()
    html = client.get(f"/e/{event.slug}/?lang=de").content.decode()
    assert "Warteraum" in html
    assert "Fans vor dir" in html and "Du bist im Warteraum" in html


def test_without_a_room_or_with_it_off_the_page_is_the_plain_ticket_form(client):
    event, _, _ = event_on_sale("plain")
    html = client.get(f"/e/{event.slug}/?lang=en").content.decode()
    assert "data-queue" not in html and "queue_pass" not in html
    assert "queue/waiting-room.js" not in html

    event, _, room = event_with_room("room-off")
    WaitingRoom.objects.filter(pk=room.pk).update(enabled=False)
    cache.clear()
    html = client.get(f"/e/{event.slug}/?lang=en").content.decode()
    assert "data-queue" not in html and "queue_pass" not in html


def test_a_hold_without_a_pass_shows_the_waiting_room_again(client):
    event, (ga,), _ = event_with_room(on_sale_in=-dt.timedelta(minutes=1))
    response = client.post(f"/e/{event.slug}/hold", {f"qty-{ga.pk}": "1", "lang": "en"})
    assert response.status_code == 403
    html = response.content.decode()
    assert "waiting room" in html and "data-queue" in html


def test_before_the_pre_queue_opens_the_page_says_when_it_does(client):
    event, _, room = event_with_room(on_sale_in=dt.timedelta(hours=2), pre_queue_minutes=30)
    html = client.get(f"/e/{event.slug}/?lang=en").content.decode()
    assert 'data-state="scheduled"' in html
    opens_ms = int(room.pre_queue_opens_at.timestamp() * 1000)
    assert f'data-pre-queue-opens="{opens_ms}"' in html
    assert "The waiting room opens" in html
