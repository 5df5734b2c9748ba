"""The back office's security boundary: staff see and change only their own promoters' data."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from ticketing.events.models import Artist, Event, Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_a(client, manager_a):
    client.force_login(manager_a)
    return client


def changelist(model):
    return reverse(f"admin:events_{model}_changelist")


def change(obj):
    return reverse(f"admin:events_{obj._meta.model_name}_change", args=[obj.pk])


@pytest.mark.parametrize("model", ["artist", "venue", "event", "affiliate", "promoter", "tour"])
def test_change_lists_show_only_own_rows(client_a, promoter_a, promoter_b, model):
    response = client_a.get(changelist(model))
    assert response.status_code == 200
    shown = {obj.pk for obj in response.context["cl"].result_list}
    model_class = response.context["cl"].model
    if model == "tour":
        assert shown == set()  # fixtures have no tours; the list still renders for them
        return
    own = {
        "artist": promoter_a["artist"].pk,
        "venue": promoter_a["venue"].pk,
        "event": promoter_a["events"][0].pk,
        "affiliate": promoter_a["affiliate"].pk,
        "promoter": promoter_a["promoter"].pk,
    }[model]
    assert shown == {own}, model_class
    assert promoter_b["artist"].name not in response.content.decode()


def test_other_promoters_change_pages_are_404(client_a, promoter_a, promoter_b):
    for obj in [promoter_b["artist"], promoter_b["venue"], promoter_b["events"][0],
                promoter_b["promoter"], promoter_b["affiliate"]]:  # fmt: skip
        assert client_a.get(change(obj)).status_code == 404, obj
        delete = reverse(f"admin:events_{obj._meta.model_name}_delete", args=[obj.pk])
        assert client_a.post(delete, {"post": "yes"}).status_code == 404
    assert Artist.objects.filter(pk=promoter_b["artist"].pk).exists()
    assert client_a.get(change(promoter_a["artist"])).status_code == 200


def test_forms_offer_only_own_artists_and_venues(client_a, promoter_a, promoter_b):
    response = client_a.get(reverse("admin:events_event_add"))
    form = response.context["adminform"].form
    assert list(form.fields["artist"].queryset) == [promoter_a["artist"]]
    assert list(form.fields["venue"].queryset) == [promoter_a["venue"]]
    artist_form = client_a.get(reverse("admin:events_artist_add")).context["adminform"].form
    assert list(artist_form.fields["promoter"].queryset) == [promoter_a["promoter"]]


def test_autocomplete_offers_only_own_rows(client_a, promoter_a, promoter_b):
    url = reverse("admin:autocomplete")
    for field, expected, foreign in [
        ("artist", promoter_a["artist"], promoter_b["artist"]),
        ("venue", promoter_a["venue"], promoter_b["venue"]),
    ]:
        response = client_a.get(
            url, {"app_label": "events", "model_name": "event", "field_name": field, "term": ""}
        )
        assert response.status_code == 200
        ids = {int(r["id"]) for r in response.json()["results"]}
        assert ids == {expected.pk}, field
        assert foreign.pk not in ids


def event_form_data(artist, venue, **extra):
    starts = timezone.now() + dt.timedelta(days=30)
    data = {
        "artist": artist.pk,
        "venue": venue.pk,
        "name": "Forged show",
        "slug": "forged-show",
        "starts_at_0": starts.strftime("%Y-%m-%d"),
        "starts_at_1": "20:00:00",
        "on_sale_at_0": timezone.now().strftime("%Y-%m-%d"),
        "on_sale_at_1": "10:00:00",
        "is_published": "on",
        "status": "scheduled",
        "hold_minutes": "10",
        "payment_minutes": "15",
        "ticket_types-TOTAL_FORMS": "0",
        "ticket_types-INITIAL_FORMS": "0",
        "ticket_types-MIN_NUM_FORMS": "0",
        "ticket_types-MAX_NUM_FORMS": "1000",
    }
    data.update(extra)
    return data


def test_forged_post_naming_other_promoters_objects_is_rejected(client_a, promoter_a, promoter_b):
    add = reverse("admin:events_event_add")
    # The other promoter's artist and venue are not valid choices.
    response = client_a.post(add, event_form_data(promoter_b["artist"], promoter_b["venue"]))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "artist" in errors and "venue" in errors
    assert not Event.objects.filter(slug="forged-show").exists()
    # Moving one's own artist to the other promoter is rejected the same way.
    artist = promoter_a["artist"]
    response = client_a.post(change(artist), {
        "promoter": promoter_b["promoter"].pk, "name": artist.name, "slug": artist.slug,
    })  # fmt: skip
    assert "promoter" in response.context["adminform"].form.errors
    artist.refresh_from_db()
    assert artist.promoter == promoter_a["promoter"]
    # And their own data is fine.
    response = client_a.post(add, event_form_data(promoter_a["artist"], promoter_a["venue"]))
    assert response.status_code == 302
    assert Event.objects.get(slug="forged-show").artist == promoter_a["artist"]


def test_viewer_sees_but_cannot_save(client, viewer_a, promoter_a):
    client.force_login(viewer_a)
    artist = promoter_a["artist"]
    response = client.get(change(artist))
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    response = client.post(change(artist), {
        "promoter": artist.promoter_id, "name": "Renamed", "slug": artist.slug,
    })  # fmt: skip
    assert response.status_code == 403
    artist.refresh_from_db()
    assert artist.name != "Renamed"
    assert client.get(reverse("admin:events_event_add")).status_code == 403


def test_actions_touch_only_editable_events(client, promoter_a, promoter_b):
    # A manager of A who is only a viewer of B cannot publish B's events through an action.
    user = get_user_model().objects.create_user("mixed", password="pw", is_staff=True)
    Membership.objects.create(user=user, promoter=promoter_a["promoter"], role="manager")
    Membership.objects.create(user=user, promoter=promoter_b["promoter"], role="viewer")
    Event.objects.update(is_published=False)
    client.force_login(user)
    ids = [promoter_a["events"][0].pk, promoter_b["events"][0].pk]
    client.post(changelist("event"), {"action": "publish", "_selected_action": ids})
    assert Event.objects.get(pk=ids[0]).is_published
    assert not Event.objects.get(pk=ids[1]).is_published


def test_superuser_sees_everything(client, promoter_a, promoter_b):
    admin = get_user_model().objects.create_superuser("root", password="pw")
    client.force_login(admin)
    response = client.get(changelist("artist"))
    assert {a.pk for a in response.context["cl"].result_list} == {
        promoter_a["artist"].pk, promoter_b["artist"].pk,
    }  # fmt: skip
    assert client.get(change(promoter_b["events"][0])).status_code == 200
