"""Tracking: the beacon endpoint with the Kinesis sink, and the consumer's aggregation rate.

    flock /tmp/bench.lock .venv/bin/python -m bench.tracking

1. `POST /t` with a realistic beacon (three hits: a view of the list and two event views through
   an affiliate) on gunicorn (2 workers, production settings, `TRACKING_SINK=kinesis`, buffered),
   against a moto server process standing in for Kinesis; ratio to the floor in the same run.
   Target: at least 70 % of the floor.
2. The consumer: GetRecords-shaped batches (1,000 records of 5 hits, all new ids) counted into
   PostgreSQL by `services.record_shard_batch`, as `consume_tracking` does. Target: 20,000 hits/s.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from bench.harness import (
    PYTHON,
    Gunicorn,
    bench_database,
    bench_port,
    floor,
    median_run,
    print_table,
    production_env,
    wait_until_ready,
    wrk,
)

GUNICORN_PORT = bench_port(5)
MOTO_PORT = bench_port(6)
STREAM = "bench-hits"
AWS = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "eu-central-1",
    "AWS_ENDPOINT_URL": f"http://127.0.0.1:{MOTO_PORT}",
}
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0"


def beacon_body(event_ids: list[int], affiliate: str) -> str:
    hits = [{"id": str(uuid.uuid4()), "type": "view", "artist": "demo-artist",
             "affiliate": affiliate, "ts": 1_700_000_000_000}]  # fmt: skip
    hits += [
        {"id": str(uuid.uuid4()), "type": "view", "artist": "demo-artist", "event": event,
         "affiliate": affiliate, "ts": 1_700_000_000_000}
        for event in event_ids[:2]
    ]  # fmt: skip
    return json.dumps(hits)


def lua_script(body: str) -> str:
    return (
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(body)}\n"
        'wrk.headers["Content-Type"] = "text/plain;charset=UTF-8"\n'
        f'wrk.headers["User-Agent"] = "{CHROME}"\n'
        'wrk.headers["Origin"] = "https://fans.example"\n'
    )


class MotoServer:
    """moto in server mode as its own process, standing in for Kinesis."""

    def __enter__(self):
        self.process = subprocess.Popen(
            [PYTHON, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(MOTO_PORT)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_until_ready(f"http://127.0.0.1:{MOTO_PORT}/moto-api/", self.process)
        os.environ.update(AWS)
        import boto3

        self.client = boto3.client("kinesis")
        self.client.create_stream(StreamName=STREAM, ShardCount=2)
        self.client.get_waiter("stream_exists").wait(StreamName=STREAM)
        return self

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=10)


def catalogue(database_url: str) -> tuple[list[int], str]:
    import psycopg

    with psycopg.connect(database_url) as conn:
        events = [row[0] for row in conn.execute(
            "SELECT e.id FROM events_event e JOIN events_artist a ON a.id = e.artist_id "
            "WHERE a.slug = 'demo-artist' ORDER BY e.id LIMIT 5")]  # fmt: skip
        (affiliate,) = conn.execute("SELECT public_key FROM events_affiliate LIMIT 1").fetchone()
    return events, affiliate


def endpoint_benchmark(database_url: str) -> str:
    events, affiliate = catalogue(database_url)
    beacon_runs = []

    def beacon_run(url: str, script: Path):
        beacon_runs.append(wrk(url + "/t", script=script))
        return beacon_runs[-1]

    with tempfile.TemporaryDirectory() as tmp, MotoServer() as moto:
        script = Path(tmp) / "beacon.lua"
        script.write_text(lua_script(beacon_body(events, affiliate)))
        env = {"DATABASE_URL": database_url, "TRACKING_SINK": "kinesis",
               "TRACKING_STREAM": STREAM, **AWS}  # fmt: skip
        with Gunicorn(env, port=GUNICORN_PORT) as server:
            base = floor(server.url)
            beacon = median_run(lambda: beacon_run(server.url, script))
        # The workers flushed their buffers at exit: every answered beacon is in the stream.
        in_stream = count_records(moto.client)
    table = print_table([("beacon POST /t (3 hits), kinesis sink -> moto", beacon)], base)
    answered = sum(run.requests for run in beacon_runs)
    print(f"beacon / floor: {beacon.rps / base.rps:.0%} (target ≥ 70 %)")
    # (moto's PutRecords is not thread-safe: concurrent calls can overwrite each other's
    # records, so a few may be missing here that the sink did deliver.)
    print(f"beacons in the stream: {in_stream:,} for {answered:,} answered")
    return table


def count_records(client) -> int:
    total = 0
    for shard in client.list_shards(StreamName=STREAM)["Shards"]:
        iterator = client.get_shard_iterator(
            StreamName=STREAM, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while True:
            response = client.get_records(ShardIterator=iterator, Limit=10_000)
            total += sum(r["Data"].count(b"\n") + 1 for r in response["Records"])  # beacons
            iterator = response["NextShardIterator"]
            if not response["Records"]:
                break
    return total


def consumer_benchmark(database_url: str, runs: int = 3, batches: int = 40) -> float:
    os.environ.update(production_env(DATABASE_URL=database_url))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ticketing.settings")
    import django

    django.setup()
    from ticketing.tracking import services
    from ticketing.tracking.hits import encode_beacon

    events, affiliate = catalogue(database_url)
    context = {"at": int(time.time() * 1000), "bot": False, "host": "fans.example",
               "country": "DE", "visitor": "0123456789abcdef"}  # fmt: skip

    def record(sequence: int) -> dict:
        hits = [{"id": str(uuid.uuid4()), "type": "view", "artist": "demo-artist",
                 "affiliate": affiliate, "ts": 1}]  # fmt: skip
        hits += [{"id": str(uuid.uuid4()), "type": "view", "artist": "demo-artist",
                  "event": event, "ts": 1} for event in events[:3]]  # fmt: skip
        hits.append(
            {
                "id": str(uuid.uuid4()),
                "type": "click",
                "artist": "demo-artist",
                "event": events[sequence % len(events)],
                "affiliate": affiliate,
                "ts": 1,
            }
        )
        return {"SequenceNumber": str(sequence), "PartitionKey": uuid.uuid4().hex,
                "Data": encode_beacon(hits, context)}  # fmt: skip

    rates = []
    for run in range(runs):
        prepared = [[record(b * 1000 + i) for i in range(1000)] for b in range(batches)]
        hits = 0
        started = time.perf_counter()
        for batch in prepared:
            hits += services.record_shard_batch(STREAM, f"shardId-{run}", batch).counted
        elapsed = time.perf_counter() - started
        rates.append(hits / elapsed)
        print(f"consumer run {run + 1}: {hits:,} hits in {elapsed:.2f} s = {rates[-1]:,.0f} hits/s")
    rate = statistics.median(rates)
    print(f"consumer aggregation (median of {runs}): {rate:,.0f} hits/s (target ≥ 20,000)")
    return rate


def main() -> None:
    database_url = bench_database("tracking")
    endpoint_benchmark(database_url)
    consumer_benchmark(database_url)


if __name__ == "__main__":
    main()
