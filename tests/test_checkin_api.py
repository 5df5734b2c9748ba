"""The door scanners' API: pairing, each scan result, the log, search, the offline bundle and
sync, and that one promoter's devices neither scan nor see another's tickets."""

import base64
import datetime as dt
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.utils import timezone

from tests.checkin_helpers import api, door_catalogue, offline_scan, paired_device, scan, sell
from ticketing.checkin import services as checkin
from ticketing.checkin.models import CheckIn, Device, DoorSettings, Scan
from ticketing.orders import services as orders

pytestmark = pytest.mark.django_db


@pytest.fixture
def door(db):
    catalogue = door_catalogue("alpha")
    device, token = paired_device(catalogue["promoter"])
    event, other_event = catalogue["events"]
    return {**catalogue, "device": device, "token": token, "event": event, "other": other_event}


def b64decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- pairing ---------------------------------------------------------------------------------


def test_a_pairing_code_gives_one_phone_a_token_once(door):
    device = checkin.create_device(door["promoter"], "Side door")
    shown = f"{device.pairing_code[:5]}-{device.pairing_code[5:].lower()}"  # as typed
    status, body = api("post", "pair", body={"code": shown})
    assert status == 201
    assert body["device"] == {"id": device.pk, "name": "Side door"}
    assert body["promoter"] == {"id": door["promoter"].pk, "name": "Alpha"}
    assert api("get", "bundle", body["token"])[0] == 200

    status, again = api("post", "pair", body={"code": device.pairing_code})
    assert (status, again["error"]) == (404, "pairing_code_invalid")
    device.refresh_from_db()
    assert device.token_hash != body["token"]  # only its hash is kept


def test_an_expired_or_unknown_pairing_code_is_refused(door):
    device = checkin.create_device(
        door["promoter"], "Late", now=timezone.now() - dt.timedelta(days=2)
    )
    for code in (device.pairing_code, "ABCDEFGHJK", "", None, 12):
        status, body = api("post", "pair", body={"code": code})
        assert (status, body["error"]) == (404, "pairing_code_invalid")


def test_calls_without_a_valid_token_are_refused(door):
    for token in (None, "nonsense"):
        status, body = api("get", "bundle", token)
        assert (status, body["error"]) == (401, "device_unknown")


def test_a_revoked_device_can_no_longer_scan(door):
    _, tickets = sell(door["event"])
    checkin.revoke(Device.objects.filter(pk=door["device"].pk))
    status, body = scan(door["token"], door["event"], tickets[0].signed_secret)
    assert (status, body["error"]) == (401, "device_revoked")
    assert not CheckIn.objects.exists()


def test_a_new_pairing_code_unpairs_the_old_phone(door):
    device = checkin.new_pairing(door["device"])
    assert api("get", "bundle", door["token"])[0] == 401
    status, body = api("post", "pair", body={"code": device.pairing_code})
    assert status == 201
    assert api("get", "bundle", body["token"])[0] == 200


def test_the_api_sets_no_cookie_and_is_not_cached(door):
    from django.test import Client

    response = Client().get(
        "/api/v1/checkin/bundle", headers={"Authorization": f"Bearer {door['token']}"}
    )
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers and "Cookie" not in response.get("Vary", "")
    assert "no-store" in response["Cache-Control"]


# --- scan results ----------------------------------------------------------------------------


def test_valid_then_already_checked_in_at_another_door(door):
    _, (ticket,) = sell(door["event"], name="Grace Hopper")
    status, body = scan(door["token"], door["event"], ticket.signed_secret)
    assert status == 200
    assert body["result"] == "valid"
    assert body["ticket"]["name"] == "Grace Hopper"
    assert body["checked_in"]["device"] == "Door 1"

    _, token_2 = paired_device(door["promoter"], "Door 2")
    status, body = scan(token_2, door["event"], ticket.signed_secret)
    assert (status, body["result"]) == (200, "already_checked_in")
    assert body["checked_in"]["device"] == "Door 1"
    local = timezone.localtime(CheckIn.objects.get().checked_in_at, door["event"].venue.zone)
    assert body["message"] == f"Already checked in at {local:%H:%M} by Door 1."
    assert CheckIn.objects.count() == 1
    assert list(Scan.objects.order_by("pk").values_list("device__name", "result")) == [
        ("Door 1", "valid"),
        ("Door 2", "already_checked_in"),
    ]


def test_reentry_only_where_the_event_allows_it(door):
    _, (ticket,) = sell(door["event"])
    scan(door["token"], door["event"], ticket.signed_secret)
    DoorSettings.objects.create(event=door["event"], allow_reentry=True)
    _, body = scan(door["token"], door["event"], ticket.signed_secret)
    assert body["result"] == "reentry"
    assert CheckIn.objects.count() == 1


def test_a_ticket_for_another_event_of_the_promoter_is_the_wrong_event(door):
    _, (ticket,) = sell(door["other"])
    _, body = scan(door["token"], door["event"], ticket.signed_secret)
    assert body["result"] == "wrong_event"
    assert body["ticket"]["event"] == door["other"].pk
    assert not CheckIn.objects.exists()


def test_a_cancelled_ticket_is_refused_and_in_the_revocation_list(door):
    order, (ticket,) = sell(door["event"])
    orders.cancel_order(order)
    _, body = scan(door["token"], door["event"], ticket.signed_secret)
    assert body["result"] == "cancelled"
    assert not CheckIn.objects.exists()
    _, bundle = api("get", "bundle", door["token"])
    assert {"event": door["event"].pk, "secret": ticket.secret} in bundle["revoked"]


def test_a_ticket_refunded_on_its_own_is_refused_and_revoked_while_its_order_stands(door):
    order, (refunded, kept) = sell(door["event"], 2)
    orders.void_tickets(order, [refunded.pk], restock=True)
    _, body = scan(door["token"], door["event"], refunded.signed_secret)
    assert body["result"] == "cancelled"
    _, body = scan(door["token"], door["event"], kept.signed_secret)
    assert body["result"] == "valid"
    _, bundle = api("get", "bundle", door["token"])
    assert {"event": door["event"].pk, "secret": refunded.secret} in bundle["revoked"]
    assert {"event": door["event"].pk, "secret": kept.secret} not in bundle["revoked"]


def test_forged_and_foreign_codes_are_not_ours(door):
    _, (ticket,) = sell(door["event"])
    code = ticket.signed_secret
    other_secret = code.replace(ticket.secret, "x" * len(ticket.secret))
    forged_signature = code[:-3] + ("AAA" if code[-3:] != "AAA" else "BBB")
    for bad in (other_secret, forged_signature, "https://example.com", "T1.local.1.abc.def"):
        status, body = scan(door["token"], door["event"], bad)
        assert (status, body["result"], body["ticket"]) == (200, "unknown", None)
    assert Scan.objects.filter(result="unknown").count() == 4
    assert "https://example.com" in Scan.objects.values_list("code", flat=True)
    assert not CheckIn.objects.exists()
    scan(door["token"], door["event"], code)
    assert Scan.objects.get(result="valid").code == ""  # the log holds no usable ticket code


def test_the_same_scan_id_is_recorded_once(door):
    _, (ticket,) = sell(door["event"])
    scan_id = str(uuid.uuid4())
    first = scan(door["token"], door["event"], ticket.signed_secret, id=scan_id)[1]
    again = scan(door["token"], door["event"], ticket.signed_secret, id=scan_id)[1]
    assert first == again and first["result"] == "valid"
    assert Scan.objects.count() == 1


@pytest.mark.parametrize(
    "body,message",
    [
        ({"code": "x"}, "`event`"),
        ({"event": 1}, "either `code`"),
        ({"event": 1, "code": "x", "ticket": 1}, "either `code`"),
        ({"event": 1, "code": 5}, "`code`"),
        ({"event": 1, "ticket": "5"}, "`ticket`"),
        ({"event": 1, "code": "x", "id": "not-a-uuid"}, "`id`"),
        ({"event": 1, "code": "x", "scanned_at": "yesterday"}, "`scanned_at`"),
    ],
)
def test_bad_scans_are_a_400_that_says_why(door, body, message):
    status, answer = api("post", "scans", door["token"], body)
    assert (status, answer["error"]) == (400, "invalid")
    assert message in answer["detail"]


# --- manual search ---------------------------------------------------------------------------


def test_search_by_name_or_order_code_then_admit_by_ticket(door):
    order, (ticket, _) = sell(door["event"], 2, name="Katherine Johnson")
    sell(door["event"], name="Someone Else")
    _, body = api("get", "search", door["token"], event=door["event"].pk, q="johnson")
    assert [row["name"] for row in body["results"]] == ["Katherine Johnson"] * 2
    code = f"{order.code[:4]}-{order.code[4:].lower()}"
    _, body = api("get", "search", door["token"], event=door["event"].pk, q=code)
    assert {row["order"] for row in body["results"]} == {order.code}

    _, answer = scan(door["token"], door["event"], ticket=ticket)
    assert answer["result"] == "valid"
    _, body = api("get", "search", door["token"], event=door["event"].pk, q="johnson")
    assert [row["checked_in"] is not None for row in body["results"]] == [True, False]


# --- the offline bundle and sync -------------------------------------------------------------


def test_the_bundle_has_public_keys_that_verify_codes_and_nothing_that_signs(door):
    _, (ticket, checked) = sell(door["event"], 2)
    scan(door["token"], door["event"], checked.signed_secret)
    status, bundle = api("get", "bundle", door["token"])
    assert status == 200
    code = ticket.signed_secret
    signed, _, signature = code.rpartition(".")
    key_id = signed.split(".")[1]
    public_key = Ed25519PublicKey.from_public_bytes(b64decode(bundle["keys"][key_id]))
    public_key.verify(b64decode(signature), signed.encode("ascii"))  # what NOTES tells the page
    assert all(len(b64decode(key)) == 32 for key in bundle["keys"].values())

    event = next(e for e in bundle["events"] if e["id"] == door["event"].pk)
    assert (event["sold"], event["checked_in"], event["allow_reentry"]) == (2, 1, False)
    assert [row["secret"] for row in bundle["checked_in"]] == [checked.secret]
    assert {row["id"] for row in bundle["tickets"]} == {ticket.pk, checked.pk}


def test_sync_reports_two_offline_doors_admitting_the_same_ticket(door):
    _, (ticket, other) = sell(door["event"], 2)
    _, token_2 = paired_device(door["promoter"], "Door 2")
    now = timezone.now()
    door_1 = [offline_scan(door["event"], ticket, now - dt.timedelta(minutes=5))]
    door_2 = [
        offline_scan(door["event"], ticket, now - dt.timedelta(minutes=4)),
        offline_scan(door["event"], other, now - dt.timedelta(minutes=3)),
    ]
    status, body = api("post", "sync", door["token"], {"scans": door_1})
    assert (status, body["conflicts"], body["results"][0]["result"]) == (200, 0, "valid")

    status, body = api("post", "sync", token_2, {"scans": door_2})
    assert body["conflicts"] == 1
    first, second = body["results"]
    assert (first["id"], first["result"], first["conflict"]) == (
        door_2[0]["id"], "already_checked_in", True,
    )  # fmt: skip
    assert first["checked_in"]["device"] == "Door 1"
    assert (second["result"], second["conflict"]) == ("valid", False)
    check_in = CheckIn.objects.get(ticket=ticket)
    assert check_in.checked_in_at == dt.datetime.fromisoformat(door_1[0]["scanned_at"])

    # The phone retries the same sync (its answer was lost): nothing is recorded twice.
    _, again = api("post", "sync", token_2, {"scans": door_2})
    assert again == body
    assert Scan.objects.count() == 3


def test_a_ticket_refunded_while_a_door_was_offline_is_a_conflict(door):
    order, (ticket,) = sell(door["event"])
    orders.cancel_order(order)
    scans = [offline_scan(door["event"], ticket, timezone.now() - dt.timedelta(minutes=1))]
    _, body = api("post", "sync", door["token"], {"scans": scans})
    assert (body["results"][0]["result"], body["conflicts"]) == ("cancelled", 1)


def test_sync_refuses_what_is_not_a_list_of_scans(door):
    for body in ({}, {"scans": "x"}, {"scans": [{"event": 1, "code": "x"}]}):
        status, answer = api("post", "sync", door["token"], body)
        assert (status, answer["error"]) == (400, "invalid")


# --- promoter scoping ------------------------------------------------------------------------


def test_another_promoters_device_can_neither_scan_nor_see(door):
    _, (ticket,) = sell(door["event"], name="Alpha Fan")
    bravo = door_catalogue("bravo", events=1)
    _, token_b = paired_device(bravo["promoter"], "Bravo door")

    status, body = scan(token_b, door["event"], ticket.signed_secret)
    assert (status, body["error"]) == (404, "event_not_found")
    status, body = scan(token_b, bravo["events"][0], ticket.signed_secret)
    assert (body["result"], body["ticket"]) == ("unknown", None)
    status, body = scan(token_b, bravo["events"][0], ticket=ticket)
    assert (body["result"], body["ticket"]) == ("unknown", None)
    assert api("get", "search", token_b, event=door["event"].pk, q="Alpha")[0] == 404
    assert api("get", "bundle", token_b, event=door["event"].pk)[0] == 404
    _, bundle = api("get", "bundle", token_b)
    assert [e["id"] for e in bundle["events"]] == [bravo["events"][0].pk]
    assert bundle["tickets"] == [] and bundle["revoked"] == []
    assert not CheckIn.objects.exists()


def test_bundle_and_scan_queries_do_not_grow_with_the_tickets(door):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(call):
        with CaptureQueriesContext(connection) as captured:
            status, _ = call()
        assert status == 200
        return len(captured)

    _, (first,) = sell(door["event"])
    bundle = lambda: api("get", "bundle", door["token"])  # noqa: E731
    few = queries(bundle)
    for n in range(5):
        order, tickets = sell(door["other"] if n % 2 else door["event"], 3, name=f"Fan {n}")
        scan(door["token"], tickets[0].order.event, tickets[0].signed_secret)
    orders.cancel_order(order)
    assert queries(bundle) == few <= 8
    # Device, event (with its door settings), ticket; the admission and the scan, in a
    # transaction (here a savepoint and its release: the test runs in a transaction).
    assert queries(lambda: scan(door["token"], door["event"], first.signed_secret)) == 7


def test_the_bundle_lists_tickets_of_the_next_two_days_unless_asked(door):
    from tests.conftest import make_event

    later = make_event(door["artist"], door["venue"], days=5)
    _, (soon,) = sell(door["event"])
    _, (next_week,) = sell(later)
    _, bundle = api("get", "bundle", door["token"])
    included = {e["id"]: e["tickets_included"] for e in bundle["events"]}
    assert included == {door["event"].pk: True, door["other"].pk: True, later.pk: False}
    assert [t["id"] for t in bundle["tickets"]] == [soon.pk]
    _, bundle = api("get", "bundle", door["token"], event=later.pk)
    assert [t["id"] for t in bundle["tickets"]] == [next_week.pk]


def test_the_bundle_is_compressed_for_phones_that_ask(door):
    from django.test import Client

    sell(door["event"], 6)
    response = Client().get(
        "/api/v1/checkin/bundle",
        headers={"Authorization": f"Bearer {door['token']}", "Accept-Encoding": "gzip"},
    )
    assert response["Content-Encoding"] == "gzip"
    assert "Cookie" not in response.get("Vary", "")
