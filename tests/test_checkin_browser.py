"""The door scanner in Chromium with a fake camera that films real ticket QR codes: online
answers, offline answers from the device's bundle (Ed25519 checked in the browser), the sync that
hands offline scans to the server, and a refund reaching the offline door with the next sync.

Each test launches its own Chromium, because the fake camera's video is a launch argument. The
time from the decoded camera frame to the painted answer is printed (run with `-s`)."""

import base64
import re
import secrets

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from playwright.sync_api import expect

from ticketing.checkin import services as checkin
from ticketing.checkin.models import CheckIn, Scan
from ticketing.orders import services as orders
from ticketing.orders.ticket_codes import LOCAL_KEY_ID

from .conftest import make_event
from .fake_camera import write_video

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def door(promoter_a):
    catalogue = promoter_a
    event = catalogue["events"][0]
    order = orders.issue_tickets(
        event.ticket_types.get(), 1, name="Jane Doe", email="jane@example.com"
    )
    device = checkin.create_device(catalogue["promoter"], "Door 1")
    return {"event": event, "order": order, "ticket": order.tickets.get(), "device": device}


@pytest.fixture
def scanner(browser_type, browser_type_launch_args, live_server, server_activity, tmp_path):
    """open(segments) -> a page of a Chromium whose camera films `segments`, paired as Door 1."""
    launched, console = [], []

    def open_scanner(device, segments, cookies=()):
        video = write_video(tmp_path / f"camera-{len(launched)}.y4m", segments)
        browser = browser_type.launch(
            **browser_type_launch_args,
            args=[
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={video}",
            ],
        )
        context = browser.new_context()
        launched.append((browser, context))
        page = context.new_page()
        page.on("console", lambda message: console.append(message.text))
        context.add_cookies([{**cookie, "url": live_server.url} for cookie in cookies])
        if device is None:  # not paired yet
            page.goto(f"{live_server.url}/checkin/")
            return page
        page.goto(f"{live_server.url}/checkin/#pair={device.pairing_code}")
        expect(page.get_by_text("Point the camera at a ticket's QR code.")).to_be_visible()
        return page

    yield open_scanner
    for browser, context in launched:
        context.close()
        browser.close()
    server_activity.wait_until_quiet()
    assert not [text for text in console if "Content Security Policy" in text]


def forged_code(event_id: int) -> str:
    """A well-formed code with our key id, signed by a key that is not ours."""
    signed = f"T1.{LOCAL_KEY_ID}.{event_id}.{secrets.token_urlsafe(32)}"
    signature = Ed25519PrivateKey.generate().sign(signed.encode())
    return f"{signed}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


def recent_scans(page):
    return page.get_by_role("list", name="Recent scans").get_by_role("listitem")


def report_timings(page, label: str) -> list[dict]:
    timings = page.evaluate(
        "performance.getEntriesByName('checkin-answer')"
        ".map(e => ({ms: e.duration, result: e.detail.result, online: e.detail.online}))"
    )
    for timing in timings:
        where = "online" if timing["online"] else "offline"
        ms, result = timing["ms"], timing["result"]
        print(f"{label}: camera frame to answer {ms:.0f} ms ({result}, {where})")
    return timings


def test_a_ticket_is_valid_once_then_already_checked_in(scanner, door):
    code = door["ticket"].signed_secret
    page = scanner(door["device"], [(code, 1.0), (None, 2.0)])

    expect(page.get_by_role("alert")).to_contain_text("Valid")
    expect(page.get_by_role("alert")).to_contain_text("Jane Doe")
    again = recent_scans(page).first
    expect(again).to_contain_text("Already checked in · Jane Doe", timeout=10_000)
    expect(page.get_by_role("alert")).to_contain_text("by Door 1")
    expect(recent_scans(page).last).to_contain_text("Valid · Jane Doe")
    results = list(Scan.objects.order_by("pk").values_list("result", flat=True))
    assert results[:2] == ["valid", "already_checked_in"]
    assert CheckIn.objects.get().ticket == door["ticket"]
    timings = report_timings(page, "online")
    assert [t["result"] for t in timings[:2]] == ["valid", "already_checked_in"]


def test_offline_the_phone_admits_a_valid_ticket_refuses_a_forged_one_then_syncs(scanner, door):
    event, ticket = door["event"], door["ticket"]
    # A lead of empty frames: time to go offline before the camera sees the first ticket.
    page = scanner(
        door["device"],
        [(None, 4.0), (ticket.signed_secret, 1.0), (None, 1.5), (forged_code(event.pk), 1.0),
         (None, 1.5)],
    )  # fmt: skip
    page.context.set_offline(True)
    expect(page.get_by_text("Offline", exact=True)).to_be_visible()

    expect(recent_scans(page).filter(has_text="Valid · Jane Doe · offline")).to_have_count(
        1, timeout=15_000
    )
    expect(recent_scans(page).filter(has_text="Not a ticket of ours")).not_to_have_count(
        0, timeout=10_000
    )
    assert not Scan.objects.exists()  # nothing reached the server
    timings = report_timings(page, "offline")
    assert {"valid", "unknown"} <= {t["result"] for t in timings if not t["online"]}

    # The page itself loads with no network (the service worker), with its scans kept.
    page.reload()
    expect(page.get_by_role("heading", name="Recent scans")).to_be_visible()
    assert page.evaluate("navigator.serviceWorker.controller !== null")
    cached = page.evaluate(
        "caches.keys().then(names => Promise.all(names.map(name => caches.open(name)"
        ".then(cache => cache.keys())))).then(lists => lists.flat()"
        ".map(request => new URL(request.url).pathname))"
    )
    assert {"/checkin/", "/static/checkin/scanner.js", "/static/checkin/verify.js"} <= set(cached)
    expect(recent_scans(page).filter(has_text="Valid · Jane Doe · offline")).to_have_count(1)

    # Meanwhile another door, online, let the same ticket in first.
    other_door = checkin.create_device(door["device"].promoter, "Door 2")
    first = checkin.record_scan(
        other_door, event, checkin.ScanRequest(event_id=event.pk, code=ticket.signed_secret)
    )
    assert first.scan.result == "valid"

    page.context.set_offline(False)
    expect(page.get_by_text(re.compile(r"waiting to sync"))).to_have_count(0, timeout=15_000)
    conflicts = page.get_by_role("list", name="Sync conflicts")
    expect(conflicts).to_contain_text("Jane Doe: admitted offline at")
    synced = Scan.objects.filter(device=door["device"], offline=True)
    assert set(synced.values_list("offline_result", flat=True)) >= {"valid", "unknown"}
    assert synced.filter(offline_result="valid", conflict=True).exists()
    assert CheckIn.objects.get().device == other_door


def test_manual_search_by_name_online_and_by_order_code_offline(scanner, door):
    page = scanner(door["device"], [(None, 1.0)])
    page.get_by_label("Name or order code").fill("jane")
    page.get_by_role("button", name="Search").click()
    results = page.get_by_role("list", name="Search results")
    expect(results).to_contain_text(f"Jane Doe · {door['order'].code} · GA")
    page.get_by_role("button", name="Admit Jane Doe").click()
    expect(page.get_by_role("alert")).to_contain_text("Valid")
    assert CheckIn.objects.get().ticket == door["ticket"]
    page.get_by_role("alert").click()  # staff tap the answer away

    page.context.set_offline(True)
    page.get_by_label("Name or order code").fill(door["order"].code.lower())
    page.get_by_role("button", name="Search").click()
    page.get_by_role("button", name="Admit Jane Doe").click()
    expect(page.get_by_role("alert")).to_contain_text("Already checked in")
    expect(recent_scans(page).first).to_contain_text("Already checked in · Jane Doe · offline")


def test_a_refunded_ticket_is_refused_offline_after_the_next_sync(scanner, door):
    page = scanner(door["device"], [(None, 5.0), (door["ticket"].signed_secret, 1.0)])
    assert orders.cancel_order(door["order"])
    page.get_by_role("button", name="Sync now").click()
    expect(page.get_by_text(re.compile(r"synced \d"))).to_be_visible()
    page.context.set_offline(True)

    expect(recent_scans(page).first).to_contain_text(
        "Refunded or cancelled · Jane Doe · offline", timeout=15_000
    )
    expect(page.get_by_role("alert")).to_contain_text("Refunded or cancelled")
    assert not Scan.objects.exists()
    report_timings(page, "offline refusal")


def test_pairing_by_the_code_typed_in_or_by_a_staff_login(scanner, door, manager_a, client):
    page = scanner(None, [(None, 1.0)])
    code = door["device"].pairing_code
    page.get_by_label("Pairing code").fill(f"{code[:5].lower()}-{code[5:].lower()}")
    page.get_by_role("button", name="Pair", exact=True).click()
    expect(page.get_by_text("Point the camera at a ticket's QR code.")).to_be_visible()
    expect(page.get_by_text("Door 1 ·")).to_be_visible()
    expect(page.get_by_label("Event")).to_contain_text(door["event"].name)

    client.force_login(manager_a)
    session = {"name": "sessionid", "value": client.cookies["sessionid"].value}
    page = scanner(None, [(None, 1.0)], cookies=[session])
    page.get_by_role("button", name="Pair as manager-a").click()
    expect(page.get_by_text("Point the camera at a ticket's QR code.")).to_be_visible()
    expect(page.get_by_text("manager-a's phone ·")).to_be_visible()


def test_offline_a_ticket_of_the_promoters_other_event_is_the_wrong_event(scanner, door):
    tomorrow = door["event"]
    other = make_event(tomorrow.artist, tomorrow.venue, days=3)
    order = orders.issue_tickets(other.ticket_types.get(), 1, name="Max Muster", email="m@x.de")
    code = order.tickets.get().signed_secret
    page = scanner(door["device"], [(None, 4.0), (code, 1.0)])
    expect(page.get_by_label("Event")).to_have_value(str(tomorrow.pk))  # the nearest event
    page.context.set_offline(True)

    expect(page.get_by_role("alert")).to_contain_text("Wrong event", timeout=15_000)
    expect(page.get_by_role("alert")).to_contain_text(f"This ticket is for {other.name}")
    expect(recent_scans(page).first).to_contain_text("Wrong event · offline")
