"""Pairing a phone by staff login: the scanner page's one form hands the page a pairing code of
the staff member's own promoter, never another's."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from tests.checkin_helpers import api
from tests.conftest import make_staff
from ticketing.checkin.models import Device
from ticketing.events.models import Membership

pytestmark = pytest.mark.django_db


def test_logged_in_staff_pair_their_phone_for_their_promoter(client, promoter_a, viewer_a):
    client.force_login(viewer_a)
    response = client.post("/checkin/staff-pair", {"name": "Viewer's phone"})
    assert response.status_code == 302
    device = Device.objects.get()
    assert (device.promoter, device.name, device.created_by) == (
        promoter_a["promoter"], "Viewer's phone", viewer_a,
    )  # fmt: skip
    assert response["Location"] == f"/checkin/#pair={device.pairing_code}"
    status, body = api("post", "pair", body={"code": device.pairing_code})
    assert (status, body["promoter"]["id"]) == (201, promoter_a["promoter"].pk)


def test_staff_of_two_promoters_choose_one_of_theirs(promoter_a, promoter_b, db):
    user = make_staff("both", promoter_a["promoter"], Membership.Role.VIEWER)
    Membership.objects.create(user=user, promoter=promoter_b["promoter"], role="viewer")
    client = Client()
    client.force_login(user)
    assert client.post("/checkin/staff-pair").status_code == 400
    third = make_staff("third", promoter_a["promoter"], "owner")  # not a member of B
    assert client.post("/checkin/staff-pair", {"promoter": "x"}).status_code == 400
    client.post("/checkin/staff-pair", {"promoter": promoter_b["promoter"].pk})
    assert Device.objects.get().promoter == promoter_b["promoter"]

    client.force_login(third)
    assert (
        client.post("/checkin/staff-pair", {"promoter": promoter_b["promoter"].pk}).status_code
        == 400
    )
    assert Device.objects.count() == 1


def test_no_pairing_without_staff_login(client, promoter_a):
    response = client.post("/checkin/staff-pair")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert not Device.objects.exists()


def test_new_door_device_prints_a_code_that_pairs(promoter_a):
    out = io.StringIO()
    call_command("new_door_device", "alpha", "Main door", stdout=out)
    device = Device.objects.get(name="Main door")
    text = out.getvalue()
    shown = f"{device.pairing_code[:5]}-{device.pairing_code[5:]}"
    assert f"Pairing code for Main door (Alpha): {shown}" in text
    assert f"/checkin/#pair={device.pairing_code}" in text
    assert "█" in text or "▀" in text  # the QR code, drawn in the terminal
    assert api("post", "pair", body={"code": shown})[0] == 201
    with pytest.raises(CommandError, match="No promoter 'nope'"):
        call_command("new_door_device", "nope", "x", stdout=io.StringIO())


def test_the_scanner_page_offers_staff_pairing_only_to_staff(client, promoter_a, viewer_a):
    page = client.get("/checkin/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-api="/api/v1/checkin/"' in html
    assert 'href="/admin/login/?next=/checkin/"' in html
    assert 'action="/checkin/staff-pair"' not in html

    client.force_login(viewer_a)
    html = client.get("/checkin/").content.decode()
    assert 'action="/checkin/staff-pair"' in html


def test_the_service_worker_is_served_from_the_page_path_and_revalidated(client):
    response = client.get("/checkin/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Cache-Control"] == "no-cache"  # a new version reaches the phones at once
    assert "Set-Cookie" not in response.headers
