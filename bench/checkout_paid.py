"""The paid path of `bench.checkout --paid`: fans who hold seats, start a card payment (our
PaymentIntent, in localstripe), tokenize a card at "Stripe" as Stripe.js does and confirm it;
localstripe then delivers `payment_intent.succeeded`, signed, to the webhook, which places the
order. Through gunicorn (production settings, 2 sync workers) on PostgreSQL.

Figures: paid orders confirmed per second (orders placed by webhooks during the run, over its
length), as a ratio to the floor (`/healthz` on the same gunicorn); each checkout is 4 requests
of ours plus the webhook. And the webhook's own time, receipt to answer (after the order's
COMMIT), from gunicorn's access log: p50/p99. localstripe waits 1 s before each delivery (a
fixed sleep of its own), which is not ours and is left out of that figure. Checked afterwards:
every payment that reached Stripe became exactly one order, and no ticket type is oversold.
"""

from __future__ import annotations

import contextlib
import http.client
import itertools
import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from bench.harness import Gunicorn, bench_port, floor, median

PORT = bench_port(5)
LOCALSTRIPE_PORT = bench_port(6)
FANS = 16  # concurrent fans
SECONDS = 10
KEYS = {
    "STRIPE_SECRET_KEY": "sk_test_bench",
    "STRIPE_PUBLISHABLE_KEY": "pk_test_bench",
    "STRIPE_WEBHOOK_SECRET": "whsec_bench",
}


@contextlib.contextmanager
def localstripe():
    process = subprocess.Popen(
        [sys.executable, "-m", "localstripe", "--port", str(LOCALSTRIPE_PORT), "--from-scratch"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", LOCALSTRIPE_PORT), 0.2),
        ):
            break
        time.sleep(0.1)
    try:
        yield f"http://127.0.0.1:{LOCALSTRIPE_PORT}"
    finally:
        process.terminate()
        process.wait(10)


FAN_NUMBERS = itertools.count(1)  # next() is atomic under the GIL: each hold a fan of its own


def _post(conn: http.client.HTTPConnection, path: str, body: bytes, content_type: str, **headers):
    conn.request("POST", path, body, {"Content-Type": content_type, **headers})
    response = conn.getresponse()
    return response.status, response.getheader("Location"), response.read()


def fan(server_port: int, ticket_type_id: int, until: float, counts: dict, lock) -> None:
    ours = http.client.HTTPConnection("127.0.0.1", server_port, timeout=30)
    stripe = http.client.HTTPConnection("127.0.0.1", LOCALSTRIPE_PORT, timeout=30)
    hold_body = json.dumps({"items": [{"ticket_type": ticket_type_id, "quantity": 2}]}).encode()
    card = urllib.parse.urlencode({
        "card[number]": "4242424242424242", "card[exp_month]": "12", "card[exp_year]": "2030",
        "card[cvc]": "123", "key": KEYS["STRIPE_PUBLISHABLE_KEY"],
    }).encode()  # fmt: skip
    details = urllib.parse.urlencode({"name": "Bench Fan", "email": "fan@example.com"}).encode()
    while time.monotonic() < until:
        # Each hold from a fan of its own, as CloudFront names the viewer: the per-client
        # limits (ticketing/limits) count holds by that address.
        n = next(FAN_NUMBERS)
        viewer = f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"
        status, _, body = _post(
            ours, "/api/v1/holds", hold_body, "application/json",
            **{"CloudFront-Viewer-Address": f"{viewer}:443"},
        )  # fmt: skip
        if status != 201:
            with lock:
                counts["errors"] += 1
            continue
        token = json.loads(body)["token"]
        status, _, _ = _post(
            ours, f"/pay/{token}/start", details, "application/x-www-form-urlencoded"
        )
        _, _, tokenized = _post(stripe, "/v1/tokens", card, "application/x-www-form-urlencoded")
        card_token = json.loads(tokenized)["id"]
        paid, _, _ = _post(
            ours, f"/pay/{token}/card", json.dumps({"token": card_token}).encode(),
            "application/json",
        )  # fmt: skip
        with lock:
            counts["paid" if status == 302 and paid == 200 else "errors"] += 1


def request_times(access_log: Path) -> dict[str, list[float]]:
    """Milliseconds of each request by kind, from gunicorn's access log (`%(D)s`, in µs)."""
    times: dict[str, list[float]] = {}
    for line in access_log.read_text().splitlines():
        path, status, micros = line.split()
        kind = "/pay/…/" + path.rsplit("/", 1)[1] if path.startswith("/pay/") else path
        times.setdefault(f"{kind} {status}", []).append(int(micros) / 1000)
    return {kind: sorted(values) for kind, values in times.items()}


def p99(values: list[float]) -> float:
    return values[max(0, int(len(values) * 0.99) - 1)] if values else float("nan")


def paid_path(database_url: str) -> None:
    from django.db.models import Count, Min

    from bench.checkout import broken_counters, burst_ticket_type
    from ticketing.payments.models import Payment

    with localstripe() as stripe_url, tempfile.TemporaryDirectory() as scratch:
        access_log = Path(scratch) / "access.log"
        # Emails are kept in memory (no SMTP server here): the webhook still renders and
        # "sends" the confirmation after its COMMIT, as the outbox does.
        env = {
            "DATABASE_URL": database_url, "CONN_MAX_AGE": "60", "STRIPE_API_BASE": stripe_url,
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend", **KEYS,
        }  # fmt: skip
        log_format = ["--access-logformat", "%(U)s %(s)s %(D)s"]
        with Gunicorn(
            env, port=PORT, workers=2, extra_args=log_format, log_path=access_log
        ) as server:
            reference = floor(server.url)
            hook = urllib.parse.urlencode({
                "url": f"{server.url}/payments/stripe/webhook",
                "secret": KEYS["STRIPE_WEBHOOK_SECRET"],
            }).encode()  # fmt: skip
            config = http.client.HTTPConnection("127.0.0.1", LOCALSTRIPE_PORT, timeout=10)
            _post(config, "/_config/webhooks/bench", hook, "application/x-www-form-urlencoded")

            ticket_type = burst_ticket_type(1_000_000, "paid")
            counts, lock = {"paid": 0, "errors": 0}, threading.Lock()
            started = time.monotonic()
            threads = [
                threading.Thread(
                    target=fan, args=(PORT, ticket_type.pk, started + SECONDS, counts, lock)
                )
                for _ in range(FANS)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            payments = Payment.objects.filter(hold__event=ticket_type.event)
            deadline = time.monotonic() + 30  # the last webhooks (localstripe waits 1 s)
            while time.monotonic() < deadline:
                if not payments.exclude(status="succeeded").exists():
                    break
                time.sleep(0.5)
            ended = time.monotonic()
            summary = payments.aggregate(n=Count("pk"), first=Min("created_at"))
            succeeded = payments.filter(status="succeeded", order__isnull=False).count()
            orders = ticket_type.event.orders.count()
            oversold = broken_counters(ticket_type.pk)
        times = request_times(access_log)

    seconds = ended - started
    per_second = succeeded / seconds
    print("\n### paid path: hold -> PaymentIntent -> card -> webhook -> confirmed\n")
    print(f"floor: {reference.rps:,.0f} req/s (/healthz, same gunicorn, 2 sync workers)\n")
    print("| fans | card payments confirmed at Stripe | orders placed by webhook | orders/s "
          "| ratio to floor | webhook p50 ms | webhook p99 ms | errors | oversold |")  # fmt: skip
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    hooks = times.get("/payments/stripe/webhook 200", [])
    print(
        f"| {FANS} | {counts['paid']:,} | {succeeded:,} | {per_second:,.1f} "
        f"| {per_second / reference.rps:.2%} | {median(hooks):.1f} | {p99(hooks):.1f} "
        f"| {counts['errors']} | {oversold} |"
    )
    print(f"\n(run of {SECONDS} s plus the last deliveries: {seconds:.1f} s; "
          f"{summary['n']} payments, {orders} orders)")  # fmt: skip
    print("\n| our request | count | p50 ms | p99 ms |\n| --- | ---: | ---: | ---: |")
    for kind, values in sorted(times.items()):
        if not kind.startswith("/healthz"):
            print(f"| {kind} | {len(values):,} | {median(values):.1f} | {p99(values):.1f} |")
