"""The promoter's side of the door in the back office: devices with their pairing QR, the
door's live counts, arrivals, the attendee CSV and the scan log, each scoped per promoter."""

import csv
import io
import re

import pytest
import segno
from django.conf import settings
from django.test import Client

from tests.checkin_helpers import api, paired_device, scan, sell
from tests.conftest import make_staff
from ticketing.checkin.models import Device, DoorSettings
from ticketing.events.models import Membership

pytestmark = pytest.mark.django_db


def admin_url(model, *args):
    path = "".join(f"/{arg}" for arg in args)
    return f"/admin/checkin/{model}{path}" + ("" if "." in path else "/")


def test_a_manager_adds_a_device_and_pairs_a_phone_with_the_code_shown(
    client, promoter_a, manager_a
):
    client.force_login(manager_a)
    response = client.post(
        admin_url("device", "add"), {"name": "Main door", "promoter": promoter_a["promoter"].pk}
    )
    assert response.status_code == 302
    device = Device.objects.get(name="Main door")
    page = client.get(admin_url("device", device.pk, "change")).content.decode()
    shown = re.search(r"type the code <strong>([A-Z0-9-]+)</strong>", page).group(1)
    # The QR code is the scanner page's address with the pairing code (SITE_URL's origin).
    pair_url = f"{settings.SITE_URL}/checkin/#pair={device.pairing_code}"
    qr = segno.make(pair_url, error="m")
    assert re.search(r'<svg [^>]*class="segno"><title>Pairing QR code</title>', page)
    assert qr.svg_inline(scale=5, dark="#000", light="#fff").split("<path")[1][:200] in page

    status, body = api("post", "pair", body={"code": shown})
    assert (status, body["device"]["name"]) == (201, "Main door")
    page = client.get(admin_url("device", device.pk, "change")).content.decode()
    assert "Paired." in page and "Pairing QR code" not in page


def test_revoking_a_device_in_the_admin_stops_its_token(client, promoter_a, manager_a):
    device, token = paired_device(promoter_a["promoter"])
    client.force_login(manager_a)
    client.post(admin_url("device"), {"action": "revoke", "_selected_action": [device.pk]})
    status, body = api("get", "bundle", token)
    assert (status, body["error"]) == (401, "device_revoked")


def test_the_door_view_counts_check_ins_per_ticket_type(client, promoter_a, manager_a):
    event = promoter_a["events"][0]
    _, tickets = sell(event, 3, name="=HYPERLINK(evil)")
    _, token = paired_device(promoter_a["promoter"], "North door")
    scan(token, event, tickets[0].signed_secret)
    scan(token, event, tickets[0].signed_secret)
    client.force_login(manager_a)

    changelist = client.get(admin_url("doorevent")).content.decode()
    assert re.search(r'field-checked_in">1<.*field-sold">3<', changelist, re.DOTALL)

    page = client.get(admin_url("doorevent", event.pk, "change"))
    assert page.status_code == 200
    assert page.context["live"]["totals"] == {"sold": 3, "checked_in": 1}
    assert page.context["live"]["scans"]["already_checked_in"] == 1
    assert [row["checked_in"] for row in page.context["arrivals"]] == [1]
    assert "North door" in page.content.decode()

    live = client.get(admin_url("doorevent", event.pk, "live.json")).json()
    assert live["ticket_types"] == [{"id": event.ticket_types.get().pk, "name": "GA",
                                     "sold": 3, "checked_in": 1}]  # fmt: skip

    response = client.get(admin_url("doorevent", event.pk, "attendees.csv"))
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["order", "name", "email"]
    assert len(rows) == 4
    assert {row[1] for row in rows[1:]} == {"'=HYPERLINK(evil)"}  # inert in a spreadsheet
    assert sorted(row[8] for row in rows[1:]) == ["", "", "North door"]


def test_reentry_is_set_per_event_by_editors_only(client, promoter_a, manager_a, viewer_a):
    event = promoter_a["events"][0]
    client.force_login(viewer_a)
    client.post(admin_url("doorevent"), {"action": "allow_reentry", "_selected_action": [event.pk]})
    assert not DoorSettings.objects.exists()
    assert client.get(admin_url("doorevent", event.pk, "change")).status_code == 200

    client.force_login(manager_a)
    client.post(admin_url("doorevent"), {"action": "allow_reentry", "_selected_action": [event.pk]})
    assert DoorSettings.objects.get(event=event).allow_reentry


def test_another_promoter_sees_none_of_it(promoter_a, promoter_b):
    event = promoter_a["events"][0]
    _, tickets = sell(event, name="Alpha Fan")
    device, token = paired_device(promoter_a["promoter"])
    scan(token, event, tickets[0].signed_secret)
    client = Client()
    client.force_login(make_staff("owner-b", promoter_b["promoter"], Membership.Role.OWNER))

    for url in (
        admin_url("device", device.pk, "change"),
        admin_url("doorevent", event.pk, "change"),
        admin_url("doorevent", event.pk, "live.json"),
        admin_url("doorevent", event.pk, "attendees.csv"),
    ):
        assert client.get(url).status_code == 404, url
    scan_log = client.get(admin_url("scan")).content.decode()
    assert "Alpha Fan" not in scan_log and "Door 1" not in scan_log and "Berlin" not in scan_log
    assert "Door 1" not in client.get(admin_url("device")).content.decode()
    client.post(admin_url("device"), {"action": "revoke", "_selected_action": [device.pk]})
    assert api("get", "bundle", token)[0] == 200


def test_a_manager_cannot_add_a_device_for_another_promoter(client, manager_a, promoter_b):
    client.force_login(manager_a)
    response = client.post(
        admin_url("device", "add"), {"name": "Sneaky", "promoter": promoter_b["promoter"].pk}
    )
    assert response.status_code == 200  # the form again, with its error
    assert "Select a valid choice" in response.content.decode()
    assert not Device.objects.exists()
