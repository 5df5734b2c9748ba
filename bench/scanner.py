"""The door's answer time in Chromium: from the camera frame the decoder got to the answer
painted, online (the server decides) and offline (the phone checks the signature itself).

    flock /tmp/bench.lock .venv/bin/python -m bench.scanner

gunicorn with production settings on PostgreSQL (bench/harness.py) serves the page and the API;
Debian's Chromium runs the scanner with a fake camera filming TICKETS ticket QR codes one after
another (tests/fake_camera.py). The first half is scanned online, the rest offline
(`context.set_offline`). The page records `performance.measure` entries: "checkin-decode"
(frame -> QR text, jsQR here: desktop Chromium on Linux has no BarcodeDetector) and
"checkin-answer" (frame -> answer painted). The floor is the decoding alone, the part no
server or database can shorten; the browser's round trips to `/healthz` and to the scan API are
shown for the network and the server's share.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import tempfile
from decimal import Decimal
from pathlib import Path

from bench.harness import Gunicorn, bench_database, bench_port, production_env

PORT = bench_port(7)
TICKETS = 20
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def door(database_url: str):
    """A device's pairing code and TICKETS ticket codes of a demo event starting in 2 hours."""
    os.environ.update(production_env(DATABASE_URL=database_url))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ticketing.settings")
    import django

    django.setup()
    from django.utils import timezone

    from ticketing.checkin import services as checkin
    from ticketing.events.models import Artist, Event, TicketType
    from ticketing.orders import services

    artist = Artist.objects.get(slug="demo-artist")
    now = timezone.now()
    event = Event.objects.create(
        artist=artist, venue=artist.promoter.venues.first(), slug=f"scanner-{now:%H%M%S}",
        starts_at=now + dt.timedelta(hours=2), on_sale_at=now - dt.timedelta(days=1),
        is_published=True,
    )  # fmt: skip
    ticket_type = TicketType.objects.create(
        event=event, name="GA", price=Decimal("30.00"), capacity=TICKETS, max_per_order=TICKETS
    )
    order = services.issue_tickets(ticket_type, TICKETS, name="Bench Fan", email="b@example.com")
    codes = [ticket.signed_secret for ticket in order.tickets.select_related("order")]
    device = checkin.create_device(artist.promoter, "Bench door")
    return device.pairing_code, codes, event


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    from playwright.sync_api import expect, sync_playwright

    from tests.fake_camera import write_video

    database_url = bench_database("scanner")
    pairing_code, codes, event = door(database_url)
    half = len(codes) // 2
    segments = [segment for code in codes for segment in ((code, 0.8), (None, 0.4))]
    with (
        tempfile.TemporaryDirectory() as tmp,
        Gunicorn({"DATABASE_URL": database_url, "CONN_MAX_AGE": "60"}, PORT) as server,
        sync_playwright() as playwright,
    ):
        video = write_video(Path(tmp) / "camera.y4m", [(None, 3.0), *segments])
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={video}",
            ],
        )
        page = browser.new_page()
        page.goto(f"{server.url}/checkin/#pair={pairing_code}")
        scans = page.get_by_role("list", name="Recent scans").get_by_role("listitem")
        valid = scans.filter(has_text="Valid")
        expect(valid).to_have_count(half, timeout=60_000)
        page.context.set_offline(True)
        expect(valid).to_have_count(len(codes), timeout=60_000)
        page.context.set_offline(False)
        round_trips = page.evaluate(
            """async () => { const times = [];
                for (let i = 0; i < 20; i++) { const t = performance.now();
                  await (await fetch('/healthz', {cache: 'no-store'})).text();
                  times.push(performance.now() - t); }
                return times; }"""
        )
        # The scan API alone, from the page, with the device's token: an already-scanned ticket.
        scan_trips = page.evaluate(
            """async ([event, code]) => {
                const token = await CheckinStore.get('token'); const times = [];
                for (let i = 0; i < 20; i++) { const t = performance.now();
                  await (await fetch('/api/v1/checkin/scans', {method: 'POST',
                    headers: {'Authorization': 'Bearer ' + token,
                              'Content-Type': 'application/json'},
                    body: JSON.stringify({event: event, code: code})})).json();
                  times.push(performance.now() - t); }
                return times; }""",
            [event.pk, codes[0]],
        )
        decode = page.evaluate(
            "performance.getEntriesByName('checkin-decode').map(e => e.duration)"
        )
        answers = page.evaluate(
            "performance.getEntriesByName('checkin-answer')"
            ".map(e => [e.duration, e.detail.online, e.detail.result])"
        )
        browser.close()

    online = [ms for ms, is_online, result in answers if is_online and result == "valid"]
    offline = [ms for ms, is_online, result in answers if not is_online and result == "valid"]
    floor = statistics.median(decode)
    print(f"event {event.pk}: {len(online)} online and {len(offline)} offline valid answers")
    print("| scenario | n | p50 ms | p95 ms | ratio to floor (p50) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    rows = [
        ("floor: camera frame -> QR text (jsQR)", decode),
        ("camera frame -> answer painted, online", online),
        ("camera frame -> answer painted, offline", offline),
        ("browser round trip to /healthz", round_trips),
        ("browser round trip to POST scans (already in)", scan_trips),
    ]
    for name, values in rows:
        p50 = statistics.median(values)
        print(
            f"| {name} | {len(values)} | {p50:.0f} | {percentile(values, 0.95):.0f} | "
            f"{p50 / floor:.1f}x |"
        )


if __name__ == "__main__":
    main()
