"""Helpers shared by the tracking tests: hits as the widget sends them, a stream in moto."""

import json
import uuid

import boto3
import pytest

from ticketing.tracking import sinks
from ticketing.tracking.models import HitCounter

CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def hit(kind="view", artist="alpha-artist", event=None, affiliate=None, **fields):
    data = {"id": str(uuid.uuid4()), "type": kind, "artist": artist, "ts": 1_700_000_000_000}
    if event is not None:
        data["event"] = event
    if affiliate is not None:
        data["affiliate"] = affiliate
    return {**data, **fields}


def post_hits(client, hits, user_agent=CHROME, **headers):
    return client.post(
        "/t", json.dumps(hits), content_type="text/plain", HTTP_USER_AGENT=user_agent,
        HTTP_ORIGIN="https://fans.example", **headers,
    )  # fmt: skip


def counts(**filters) -> dict:
    """{(kind, event id, affiliate id, is_bot): count} of the counters matching `filters`."""
    totals = {}
    for row in HitCounter.objects.filter(**filters):
        key = (row.kind, row.event_id, row.affiliate_id, row.is_bot)
        totals[key] = totals.get(key, 0) + row.count
    return totals


def use_sink(settings, kind: str, **options):
    """Configure the process's sink; it flushes at the end of each request (the Lambda way)
    unless `flush_seconds` says otherwise."""
    settings.TRACKING_SINK = kind
    settings.TRACKING_FLUSH_SECONDS = options.pop("flush_seconds", 0)
    for name, value in options.items():
        setattr(settings, f"TRACKING_{name.upper()}", value)
    sinks.reset_sink()
    return sinks.get_sink()


def kinesis():
    return boto3.client("kinesis")


def create_stream(name="hits", shards=2):
    client = kinesis()
    client.create_stream(StreamName=name, ShardCount=shards)
    client.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.1})
    return client


def stream_records(client, name="hits"):
    """Every record of every shard, as GetRecords returns them (shard id, record)."""
    found = []
    for shard in client.list_shards(StreamName=name)["Shards"]:
        iterator = client.get_shard_iterator(
            StreamName=name, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        response = client.get_records(ShardIterator=iterator, Limit=10_000)
        found += [(shard["ShardId"], record) for record in response["Records"]]
    return found


@pytest.fixture
def reset_tracking_sink():
    yield
    sinks.reset_sink()
