"""An on-sale minute through the waiting room, and the same on-sale without it.

    flock /tmp/bench.lock .venv/bin/python -m bench.queue

20,000 simulated fans arrive over 60 s (evenly, in random order of their own) for 2,000 seats of
one ticket type, through nginx `proxy_cache` (the CDN stand-in of bench/widget.py) in front of
gunicorn (2 workers, production settings, Redis as the shared cache for the queue's counters, as
ElastiCache in production). Every request really goes through nginx to gunicorn; the origin's
requests are counted in gunicorn's access log, the database's row writes in pg_stat_user_tables
(read after gunicorn has stopped, so every backend has flushed its counts).

With the waiting room (pre-queue opens at once, on-sale 10 s in, fixed rate 2,400 fans/min):
each fan GETs the status (CDN), solves the proof of work (difficulty lowered to 6 bits here, so
that one Python process can solve 20,000 of them; the browser's cost at the real 15 bits is
measured by the unit tests' difficulty arithmetic, not here) and POSTs one join. Waiting fans
poll the status: all of them would poll every 3 s; a sample of POLLERS fans does so here, and
since the status is one document for everyone, what reaches the origin does not depend on how
many poll (it is at most one request per cache lifetime per nginx cache). A driver polls the
status every second like a fan, and each fan whose position is below `admitted_up_to` asks for
its pass and POSTs its hold (1 seat) with it.

Without the waiting room: each fan POSTs its hold when it arrives.

The floor: wrk on `/healthz` of the same gunicorn in the same run; the hold p99 is given as a
ratio to the floor's p99.
"""

import contextlib
import datetime as dt
import math
import os
import random
import re
import subprocess
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import requests

from bench.checkout import setup_django
from bench.harness import Gunicorn, bench_database, bench_port, floor
from bench.widget import Nginx

PORT_ORIGIN, PORT_CDN, PORT_REDIS = (bench_port(n) for n in (5, 6, 7))
FANS = 20_000
ARRIVAL_SECONDS = 60
SEATS = 2_000
ON_SALE_AFTER = 10  # seconds after the first arrival
RATE = 2_400  # fans admitted per minute
POW_BITS = 6
POLLERS = 300
POLL_SECONDS = 3
THREADS = 64
SEAT_TABLES = {"orders_hold", "orders_holditem", "events_tickettype"}

_local = threading.local()


def session() -> requests.Session:
    if not hasattr(_local, "session"):
        _local.session = requests.Session()
    return _local.session


def viewer(fan: int) -> dict[str, str]:
    """Each simulated fan from an address of its own, as CloudFront names it: the per-client
    limits (ticketing/limits) count holds by it."""
    address = f"10.{fan // 65536 % 256}.{fan // 256 % 256}.{fan % 256}"
    return {"CloudFront-Viewer-Address": f"{address}:443"}


def count_hold(outcome: dict, latency: list, status: int, begin: float, started: float) -> None:
    """One hold's answer into the run's figures (the caller holds the lock)."""
    latency.append((time.monotonic() - begin) * 1000)
    if status == 201:
        outcome["holds"] += 1
        if outcome["holds"] == SEATS:
            outcome["sold_out_at"] = time.monotonic() - started
    else:
        outcome["refused"] += 1


def origin_counts(log: Path) -> dict[str, int]:
    counts = {"status": 0, "join": 0, "pass": 0, "holds": 0, "other": 0}
    for line in log.read_text().splitlines() if log.exists() else ():
        match = re.search(r'"(GET|POST) (\S+)', line)
        path = match.group(2) if match else ""
        kind = (
            "status" if path.endswith("/status") else "join" if path.endswith("/join")
            else "pass" if path.endswith("/pass") else "holds" if path == "/api/v1/holds"
            else "other"
        )  # fmt: skip
        counts[kind] += 1
    return counts


def row_writes(database_url: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables"
        ).fetchall()
    return dict(rows)


def writes_between(before: dict, after: dict) -> dict[str, int]:
    return {t: after[t] - before.get(t, 0) for t in after if after[t] - before.get(t, 0)}


def make_event(label: str, *, room: bool):
    from django.utils import timezone

    from ticketing.events.models import Artist, Event, TicketType
    from ticketing.queue.models import WaitingRoom

    artist = Artist.objects.get(slug="demo-artist")
    now = timezone.now()
    event = Event.objects.create(
        artist=artist, venue=artist.promoter.venues.first(),
        slug=f"onsale-{label}-{now:%H%M%S}", starts_at=now + dt.timedelta(days=30),
        on_sale_at=now + dt.timedelta(seconds=ON_SALE_AFTER if room else -60), is_published=True,
    )  # fmt: skip
    ticket_type = TicketType.objects.create(
        event=event, name="General admission", price=Decimal("39.50"), capacity=SEATS,
        max_per_order=4,
    )  # fmt: skip
    if room:
        WaitingRoom.objects.create(event=event, pre_queue_minutes=30, rate_per_minute=RATE)
    return event, ticket_type


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)] if ordered else 0.0


def kendall_tau(sequence: list[float]) -> float:
    """Kendall's tau-b between the index order (distinct) and `sequence` (ties allowed: a tied
    pair is neither concordant nor discordant), counting discordant pairs with a merge sort."""

    def count(values):
        if len(values) < 2:
            return values, 0
        middle = len(values) // 2
        left, a = count(values[:middle])
        right, b = count(values[middle:])
        merged, inversions, i, j = [], a + b, 0, 0
        while i < len(left) and j < len(right):
            if left[i] <= right[j]:  # equal values: a tie, not an inversion
                merged.append(left[i])
                i += 1
            else:
                merged.append(right[j])
                inversions += len(left) - i
                j += 1
        return merged + left[i:] + right[j:], inversions

    n = len(sequence)
    if n < 2:
        return 1.0
    pairs = n * (n - 1) // 2
    tied = sum(t * (t - 1) // 2 for t in Counter(sequence).values())
    discordant = count(list(sequence))[1]
    return (pairs - tied - 2 * discordant) / math.sqrt((pairs - tied) * pairs)


def chi_square_uniformity(seed_hex: str, count: int, bins: int = 10) -> tuple[float, int, float]:
    """Independence of arrival decile and drawn-position decile over the whole pre-queue:
    (chi-square, degrees of freedom, p-value by the Wilson-Hilferty approximation)."""
    from ticketing.queue import draw

    seed = bytes.fromhex(seed_hex)
    table = [[0] * bins for _ in range(bins)]
    for index in range(count):
        table[index * bins // count][draw.position(seed, count, index) * bins // count] += 1
    rows = [sum(r) for r in table]
    cols = [sum(c) for c in zip(*table, strict=True)]
    chi = sum((table[i][j] - rows[i] * cols[j] / count) ** 2 / (rows[i] * cols[j] / count)
              for i in range(bins) for j in range(bins))  # fmt: skip
    df = (bins - 1) ** 2
    z = ((chi / df) ** (1 / 3) - (1 - 2 / (9 * df))) / math.sqrt(2 / (9 * df))
    return chi, df, 0.5 * math.erfc(z / math.sqrt(2))


def with_room(cdn: str, event, ticket_type) -> dict:
    from ticketing.queue import draw, pow

    status_url = f"{cdn}/q/{event.pk}/status"
    fans: dict[int, dict] = {}  # fan -> its join answer and times
    lock = threading.Lock()
    holds_latency: list[float] = []
    outcome = {"holds": 0, "refused": 0, "sold_out_at": None, "errors": 0}
    started = time.monotonic()
    order = list(range(FANS))
    random.shuffle(order)
    stop = threading.Event()
    admitted: set[int] = set()

    def arrive(fan: int) -> None:
        try:
            status = session().get(status_url, timeout=30).json()
            nonce = pow.solve(status["pow"]["challenge"], status["pow"]["difficulty"])
            sent = time.monotonic()
            body = {"challenge": status["pow"]["challenge"], "nonce": nonce}
            answer = session().post(f"{cdn}/q/{event.pk}/join", json=body, timeout=30)
            if answer.status_code != 201:
                raise RuntimeError(answer.text)
            with lock:
                fans[fan] = {**answer.json(), "sent": sent}
        except Exception:  # counted and reported
            with lock:
                outcome["errors"] += 1

    def buy(fan: int, ticket: str) -> None:
        try:
            granted = session().post(
                f"{cdn}/q/{event.pk}/pass", json={"ticket": ticket}, timeout=30
            )
            if granted.status_code != 200:
                with lock:
                    admitted.discard(fan)  # the cached status ran ahead: ask again later
                return
            begin = time.monotonic()
            hold = session().post(f"{cdn}/api/v1/holds", timeout=30, headers=viewer(fan), json={
                "items": [{"ticket_type": ticket_type.pk, "quantity": 1}],
                "queue_pass": granted.json()["pass"]})  # fmt: skip
            with lock:
                count_hold(outcome, holds_latency, hold.status_code, begin, started)
        except Exception:
            with lock:
                outcome["errors"] += 1

    def poller() -> None:  # a waiting fan's polling (the sample)
        while not stop.is_set():
            with contextlib.suppress(requests.RequestException):
                session().get(status_url, timeout=30)
            stop.wait(POLL_SECONDS + random.random())

    pool = ThreadPoolExecutor(THREADS)
    pollers = [threading.Thread(target=poller, daemon=True) for _ in range(POLLERS)]
    for thread in pollers:
        thread.start()
    next_fan = 0
    opened = None
    positions: dict[int, int] = {}
    draw_cache: dict[tuple, int] = {}
    while time.monotonic() - started < ARRIVAL_SECONDS + 120:
        elapsed = time.monotonic() - started
        due = min(FANS, int(elapsed / ARRIVAL_SECONDS * FANS) + 1)
        while next_fan < due:
            pool.submit(arrive, order[next_fan])
            next_fan += 1
        status = session().get(status_url, timeout=30).json()  # the driver, a fan like any
        if status["state"] == "open" and status["seed"]:
            opened = opened or elapsed
            seed = bytes.fromhex(status["seed"])
            with lock:
                waiting = [(f, t) for f, t in fans.items() if f not in admitted]
            for fan, ticket in waiting:
                if fan not in positions:
                    if ticket["kind"] == "fifo":
                        positions[fan] = status["pre_queue_count"] + ticket["number"] - 1
                    else:
                        key = (status["seed"], ticket["number"])
                        if key not in draw_cache:
                            draw_cache[key] = draw.position(
                                seed, status["pre_queue_count"], ticket["number"] - 1
                            )
                        positions[fan] = draw_cache[key]
                if positions[fan] < status["admitted_up_to"] and not status["sold_out"]:
                    with lock:
                        admitted.add(fan)
                    pool.submit(buy, fan, ticket["ticket"])
        if next_fan >= FANS and (status.get("sold_out") or outcome["holds"] >= SEATS):
            break
        time.sleep(1)
    stop.set()
    pool.shutdown(wait=True)
    return {
        "fans": fans, "positions": positions, "outcome": outcome, "opened": opened,
        "holds_latency": holds_latency, "elapsed": time.monotonic() - started,
        "admitted": admitted, "status": session().get(status_url, timeout=30).json(),
    }  # fmt: skip


def without_room(cdn: str, ticket_type) -> dict:
    latency: list[float] = []
    lock = threading.Lock()
    outcome = {"holds": 0, "refused": 0, "sold_out_at": None, "errors": 0}
    started = time.monotonic()

    def arrive(fan: int) -> None:
        begin = time.monotonic()
        try:
            hold = session().post(f"{cdn}/api/v1/holds", timeout=60, headers=viewer(fan), json={
                "items": [{"ticket_type": ticket_type.pk, "quantity": 1}]})  # fmt: skip
        except requests.RequestException:
            with lock:
                outcome["errors"] += 1
            return
        with lock:
            count_hold(outcome, latency, hold.status_code, begin, started)

    with ThreadPoolExecutor(THREADS) as pool:
        for fan in range(FANS):
            delay = started + fan * ARRIVAL_SECONDS / FANS - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(arrive, fan)
    return {"outcome": outcome, "latency": latency, "elapsed": time.monotonic() - started}


def main() -> None:
    database = bench_database("queue")
    with tempfile.TemporaryDirectory(prefix="bench-queue-") as tmp:
        redis_url = f"redis://127.0.0.1:{PORT_REDIS}/0"
        redis = subprocess.Popen(
            ["redis-server", "--port", str(PORT_REDIS), "--save", "", "--appendonly", "no",
             "--dir", tmp], stdout=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            time.sleep(0.5)
            os.environ["REDIS_URL"] = redis_url
            setup_django(database)
            results = run(database, redis_url, Path(tmp))
        finally:
            redis.terminate()
            redis.wait(timeout=10)
    report(*results)


def run(database: str, redis_url: str, tmp: Path):
    env = {"DATABASE_URL": database, "CONN_MAX_AGE": "60", "REDIS_URL": redis_url,
           "QUEUE_POW_DIFFICULTY": str(POW_BITS)}  # fmt: skip
    log_room, log_off = tmp / "room.log", tmp / "off.log"

    with Gunicorn(env, port=PORT_ORIGIN, log_path=log_room) as origin:
        base = floor(origin.url, runs=1, seconds=5)
        before = row_writes(database)
        with Nginx(PORT_CDN, origin.port) as cdn:
            event, ticket_type = make_event("room", room=True)  # on sale in ON_SALE_AFTER s
            start_count = origin_counts(log_room)
            room = with_room(cdn.url, event, ticket_type)
            time.sleep(1)
            room["origin"] = {k: v - start_count[k] for k, v in origin_counts(log_room).items()}
    room["writes"] = writes_between(before, row_writes(database))

    _event_off, ticket_type_off = make_event("off", room=False)
    before = row_writes(database)
    with (
        Gunicorn(env, port=PORT_ORIGIN, log_path=log_off) as origin,
        Nginx(PORT_CDN, origin.port) as cdn,
    ):
        start_count = origin_counts(log_off)
        off = without_room(cdn.url, ticket_type_off)
        time.sleep(1)
        off["origin"] = {k: v - start_count[k] for k, v in origin_counts(log_off).items()}
    off["writes"] = writes_between(before, row_writes(database))
    return base, room, off


def report(base, room, off) -> None:
    fans, positions, outcome = room["fans"], room["positions"], room["outcome"]
    joined = len(fans)
    seated = outcome["holds"]
    unseated = joined - seated
    origin = room["origin"]
    wait_requests = origin["status"] + origin["join"] + origin["pass"]
    other_writes = {t: n for t, n in room["writes"].items() if t not in SEAT_TABLES}
    print(
        f"floor (/healthz, same gunicorn): {base.rps:.0f} req/s, p99 {base.latency_p99_ms:.1f} ms"
    )
    print(
        f"\nwith the waiting room: {joined} fans joined of {FANS} ({outcome['errors']} errors), "
        f"on sale at {room['opened']:.1f} s, {seated} seats held, "
        f"refused holds {outcome['refused']}"
    )
    sends = [t["sent"] for t in fans.values()]
    if sends:
        print(
            f"  joins sent over {max(sends) - min(sends):.1f} s (arrivals scheduled over "
            f"{ARRIVAL_SECONDS} s; the client's 64 threads and the 2 workers set the pace)"
        )
    print(
        f"  origin requests: {origin} -> {wait_requests / max(joined, 1):.3f} per fan for the "
        f"whole wait (status+join+pass), {sum(origin.values()) / max(joined, 1):.3f} with holds"
    )
    print(f"  status requests reaching the origin: {origin['status']} in {room['elapsed']:.0f} s "
          f"(polled by {POLLERS} sampled fans + the driver every {POLL_SECONDS} s / 1 s; "
          f"20,000 fans polling would reach the origin the same number of times)")  # fmt: skip
    print(f"  row writes: {room['writes']}")
    print(
        f"  row writes outside holds/ticket types: {other_writes} -> "
        f"{sum(other_writes.values()) / max(unseated, 1):.4f} per fan without a seat ({unseated})"
    )
    sold = outcome["sold_out_at"]
    print(f"  time to sell out: {sold - room['opened']:.1f} s after the opening" if sold else
          "  not sold out")  # fmt: skip
    hp99 = p99(room["holds_latency"])
    print(
        f"  hold request p99 (admitted fans): {hp99:.1f} ms = "
        f"{hp99 / base.latency_p99_ms:.2f}x the floor's p99"
    )
    # Post-opening fans in admission order (their position), and when each arrived: by the
    # server's clock (the join's issued_at, in ms, so fans of the same ms tie) and by the time
    # the simulated fan sent its join (the network may reorder requests sent microseconds apart).
    admitted_order = sorted(
        (positions[f], t["issued_at"], t["sent"]) for f, t in fans.items()
        if t["kind"] == "fifo" and f in positions
    )  # fmt: skip
    tau_server = kendall_tau([issued for _, issued, _ in admitted_order])
    tau_client = kendall_tau([sent for _, _, sent in admitted_order])
    print(
        f"  fairness, {len(admitted_order)} post-opening fans, Kendall tau-b of admission order "
        f"vs arrival by the server's clock: {tau_server:.4f}; vs the fan's send time: "
        f"{tau_client:.4f}"
    )
    status = room["status"]
    chi, df, p = chi_square_uniformity(status["seed"], status["pre_queue_count"])
    print(f"  pre-queue draw of {status['pre_queue_count']} fans: chi-square {chi:.1f} on {df} "
          f"df (arrival decile x position decile), p = {p:.3f}")  # fmt: skip

    o = off["outcome"]
    print(f"\nwithout the waiting room: {FANS} fans POST a hold on arrival: {o['holds']} held, "
          f"{o['refused']} refused, {o['errors']} errors; origin {off['origin']} -> "
          f"{sum(off['origin'].values()) / FANS:.3f} per fan")  # fmt: skip
    sold = o["sold_out_at"]
    print(f"  time to sell out: {sold:.1f} s after the first arrival" if sold else "  not sold out")
    op99 = p99(off["latency"])
    print(
        f"  hold request p99 (every fan): {op99:.1f} ms = "
        f"{op99 / base.latency_p99_ms:.2f}x the floor's p99"
    )
    print(f"  row writes: {off['writes']}")


if __name__ == "__main__":
    main()
