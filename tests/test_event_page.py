import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_event_page_shows_event_in_venue_time(client, promoter_a):
    event = promoter_a["events"][0]
    response = client.get(reverse("orders:event", args=[event.slug]), {"lang": "en"})
    assert response.status_code == 200
    page = response.content.decode()
    assert event.artist.name in page and "Berlin" in page
    assert event.local_starts_at.strftime("%H:%M") in page


def test_unpublished_event_page_is_404(client, promoter_a):
    event = promoter_a["events"][0]
    event.is_published = False
    event.save()
    assert client.get(reverse("orders:event", args=[event.slug]), {"lang": "en"}).status_code == 404


def test_healthz_sets_no_cookie(client):
    response = client.get("/healthz")
    assert response.json() == {"ok": True}
    assert "Set-Cookie" not in response and "Cookie" not in response.get("Vary", "")
