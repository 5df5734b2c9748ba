"""`manage.py seed_demo` builds the demo catalogue and can be run again safely."""

import pytest
from django.core.management import call_command
from django.utils import timezone

from ticketing.events.models import (
    Affiliate,
    Artist,
    Event,
    Membership,
    Promoter,
    TicketType,
    Venue,
)

pytestmark = pytest.mark.django_db


def snapshot():
    return {
        "promoters": list(Promoter.objects.values_list("slug", "name")),
        "artists": list(Artist.objects.values_list("slug", "promoter__slug")),
        "venues": list(Venue.objects.values_list("name", "city", "time_zone")),
        "events": list(
            Event.objects.order_by("slug").values_list(
                "slug", "starts_at", "on_sale_at", "is_published", "status"
            )
        ),
        "ticket_types": list(
            TicketType.objects.order_by("event__slug", "name").values_list(
                "event__slug", "name", "price", "capacity", "sold"
            )
        ),
        "memberships": list(Membership.objects.values_list("user__username", "promoter__slug")),
        "affiliates": list(Affiliate.objects.values_list("public_key", "domain")),
    }


def test_seed_demo_twice_leaves_the_same_data():
    call_command("seed_demo", superuser=True)
    first = snapshot()
    call_command("seed_demo", superuser=True)
    assert snapshot() == first


def test_demo_catalogue_has_what_the_product_shows():
    call_command("seed_demo")
    artist = Artist.objects.get(slug="demo-artist")
    assert artist.promoter.name == "Demo Promotions"
    upcoming = list(
        Event.objects.filter(artist=artist, is_published=True, starts_at__gt=timezone.now())
    )
    assert len(upcoming) >= 12
    assert len({e.venue_id for e in upcoming}) >= 6
    assert len({e.venue.time_zone for e in upcoming}) >= 4
    assert any(e.is_sold_out for e in upcoming)
    assert any(e.on_sale_at > timezone.now() for e in upcoming)
    assert any(e.status == Event.Status.CANCELLED for e in upcoming)
    assert set(TicketType.objects.filter(event__artist=artist).values_list("name", flat=True)) == {
        "General admission", "VIP",
    }  # fmt: skip
    assert len(set(TicketType.objects.values_list("capacity", flat=True))) > 2
    assert Affiliate.objects.filter(promoter=artist.promoter).exists()
    other = Promoter.objects.exclude(pk=artist.promoter_id).get()
    assert Event.objects.filter(artist__promoter=other).count() >= 1


def test_demo_staff_can_log_in_and_sees_only_demo_data(client):
    call_command("seed_demo")
    assert client.login(username="demo", password="demo")
    response = client.get("/admin/events/event/")
    names = {e.artist.slug for e in response.context["cl"].result_list}
    assert names == {"demo-artist"}
