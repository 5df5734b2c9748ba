"""The whole pipeline against moto in server mode (real HTTP, the real boto3 client): beacon ->
Kinesis -> consumer (`consume_tracking` or the Lambda handler) -> counters."""

import base64
import datetime as dt
import io
import json
import logging
import random
import time

import pytest
from django.core.management import call_command

from ticketing.tracking.consumer import ShardPoller, handle_kinesis_batch
from ticketing.tracking.hits import encode_beacon
from ticketing.tracking.models import ShardCheckpoint

from .servers import AWSProxy
from .tracking_helpers import (
    GOOGLEBOT,
    counts,
    create_stream,
    hit,
    post_hits,
    reset_tracking_sink,  # noqa: F401 (fixture)
    stream_records,
    use_sink,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reset_tracking_sink")]


@pytest.fixture
def stream(aws):
    return create_stream("hits", shards=2)


@pytest.fixture
def kinesis_sink(settings, stream):
    settings.TRACKING_STREAM = "hits"
    return use_sink(settings, "kinesis")


def consume(stream_name="hits") -> str:
    out = io.StringIO()
    call_command("consume_tracking", "--once", "--stream", stream_name, stdout=out)
    return out.getvalue()


def lambda_event(records, shard_id="shardId-000000000000"):
    """A Kinesis event as Lambda delivers it, built from GetRecords output."""
    arn = "arn:aws:kinesis:eu-central-1:123456789012:stream/hits"
    return {
        "Records": [
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": record["PartitionKey"],
                    "sequenceNumber": record["SequenceNumber"],
                    "data": base64.b64encode(record["Data"]).decode(),
                    "approximateArrivalTimestamp": record[
                        "ApproximateArrivalTimestamp"
                    ].timestamp(),
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{shard_id}:{record['SequenceNumber']}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": "arn:aws:iam::123456789012:role/consumer",
                "awsRegion": "eu-central-1",
                "eventSourceARN": arn,
            }
            for record in records
        ]
    }


def test_beacon_to_stream_to_consume_tracking_to_counters(client, kinesis_sink, stream, promoter_a):
    event = promoter_a["events"][0]
    affiliate = promoter_a["affiliate"]
    post_hits(client, [hit(), hit(affiliate=affiliate.public_key)])
    post_hits(client, [hit("click", event=event.pk, affiliate=affiliate.public_key)])
    post_hits(client, [hit()], user_agent=GOOGLEBOT)

    in_stream = stream_records(stream)
    assert len(in_stream) == 3  # one record per beacon, flushed before the requests returned
    assert {len(json.loads(r["Data"])["hits"]) for _, r in in_stream} == {1, 2}
    assert counts() == {}  # nothing is counted on the request path

    output = consume()

    assert counts(artist=promoter_a["artist"]) == {
        ("view", None, None, False): 1,
        ("view", None, affiliate.pk, False): 1,
        ("click", event.pk, affiliate.pk, False): 1,
        ("view", None, None, True): 1,
    }
    assert "4 hit(s) counted (1 bots)" in output
    assert "records/s" in output and "lag" in output
    assert kinesis_sink.stats.delivered == 3 and kinesis_sink.stats.lost == 0

    # Resumed from its checkpoints, a second run finds nothing new.
    assert ShardCheckpoint.objects.filter(stream="hits").exclude(sequence_number="").exists()
    consume()
    assert sum(counts().values()) == 4


def test_lambda_handler_counts_real_getrecords_output_once(
    client, kinesis_sink, stream, promoter_a
):
    event = promoter_a["events"][0]
    post_hits(client, [hit(), hit("click", event=event.pk)])
    post_hits(client, [hit()])
    records = [record for _, record in stream_records(stream)]

    assert handle_kinesis_batch(lambda_event(records), None) == {"batchItemFailures": []}
    expected = {("view", None, None, False): 2, ("click", event.pk, None, False): 1}
    assert counts() == expected

    # Kinesis delivers at least once: the same batch again adds nothing.
    assert handle_kinesis_batch(lambda_event(records), None) == {"batchItemFailures": []}
    assert counts() == expected


def test_lambda_handler_reports_the_batch_when_it_cannot_be_stored(promoter_a, monkeypatch):
    from ticketing.tracking import services

    def database_down(*args, **kwargs):
        raise services.transaction.DatabaseError("connection refused")

    monkeypatch.setattr(services, "_claim_unseen", database_down)  # the database boundary
    data = json.dumps({"at": int(time.time() * 1000), "hits": [hit()]}).encode()
    event = {"Records": [{"kinesis": {"data": base64.b64encode(data).decode(),
                                      "sequenceNumber": "49"}}]}  # fmt: skip

    assert handle_kinesis_batch(event, None) == {"batchItemFailures": [{"itemIdentifier": "49"}]}


def test_lambda_handler_counts_foreign_records_as_rejected_without_failing(promoter_a):
    from ticketing.tracking.models import RejectedHitCounter

    event = {"Records": [
        {"kinesis": {"data": base64.b64encode(b"not json").decode(), "sequenceNumber": "1"}},
        {"kinesis": {"data": "%%%", "sequenceNumber": "2"}},
    ]}  # fmt: skip
    assert handle_kinesis_batch(event, None) == {"batchItemFailures": []}
    assert RejectedHitCounter.objects.get(reason="malformed").count == 2


class Throttle20Percent:
    """Fault injection at the botocore boundary: about one entry in five of each PutRecords
    request is taken out before it is sent and answered as throttled, as Kinesis does when a
    shard is over its limit. The client, the HTTP and moto stay real."""

    def __init__(self, client, seed=4):
        self.random = random.Random(seed)
        self.throttled_positions: list[int] = []
        self.throttled = 0
        client.meta.events.register("before-send.kinesis.PutRecords", self.before_send)
        client.meta.events.register("after-call.kinesis.PutRecords", self.after_call)

    def before_send(self, request, **kwargs):
        body = json.loads(request.body)
        keep, self.throttled_positions = [], []
        for position, entry in enumerate(body["Records"]):
            if self.random.random() < 0.2:
                self.throttled_positions.append(position)
            else:
                keep.append(entry)
        body["Records"] = keep
        request.body = json.dumps(body).encode()
        request.headers["Content-Length"] = str(len(request.body))

    def after_call(self, http_response, parsed, **kwargs):
        for position in self.throttled_positions:
            parsed["Records"].insert(position, {
                "ErrorCode": "ProvisionedThroughputExceededException",
                "ErrorMessage": "Rate exceeded for shard shardId-000000000000",
            })  # fmt: skip
        parsed["FailedRecordCount"] = parsed.get("FailedRecordCount", 0) + len(
            self.throttled_positions
        )
        self.throttled += len(self.throttled_positions)


def test_throttled_entries_are_retried_and_no_hit_is_lost(client, kinesis_sink, promoter_a):
    throttle = Throttle20Percent(kinesis_sink.client)
    kinesis_sink.record_bytes = 1024  # small records: about 3 beacons each, ~70 records
    sent = [[hit() for _ in range(3)] for _ in range(200)]
    for beacon in sent:  # buffered, then flushed as one PutRecords call
        kinesis_sink.submit(encode_beacon(beacon, {"at": int(time.time() * 1000), "bot": False}))
    kinesis_sink.flush()

    assert throttle.throttled >= 5  # records, each of several beacons
    assert kinesis_sink.stats.retried >= throttle.throttled
    assert kinesis_sink.stats.lost == 0
    assert kinesis_sink.stats.delivered == 200
    consume()
    assert counts() == {("view", None, None, False): 600}


def test_beacons_are_packed_into_records_and_counted_from_them(kinesis_sink, stream, promoter_a):
    now = int(time.time() * 1000)
    for _ in range(30):
        kinesis_sink.submit(encode_beacon([hit(), hit()], {"at": now, "bot": False}))
    kinesis_sink.flush()

    records = [record for _, record in stream_records(stream)]
    assert len(records) == 1 and records[0]["Data"].count(b"\n") == 29
    # A stray line in a record is rejected alone; the other beacons still count.
    records[0]["Data"] += b"\n{not json"
    assert handle_kinesis_batch(lambda_event(records), None) == {"batchItemFailures": []}
    assert counts() == {("view", None, None, False): 60}


def test_a_flush_sends_what_was_buffered_when_it_began(kinesis_sink, stream, promoter_a):
    # Under steady traffic beacons keep arriving while a PutRecords call is on the wire. They
    # wait for the next flush: draining until empty would never stop, in tiny calls.
    now = int(time.time() * 1000)
    calls = []
    put_records = kinesis_sink.client.put_records

    def put_while_traffic_arrives(**request):
        calls.append(len(request["Records"]))
        if len(calls) < 3:  # bounded, so that a sink that drains until empty fails, not hangs
            kinesis_sink.submit(encode_beacon([hit()], {"at": now, "bot": False}))
        return put_records(**request)

    kinesis_sink.client.put_records = put_while_traffic_arrives
    for _ in range(20):
        kinesis_sink.submit(encode_beacon([hit()], {"at": now, "bot": False}))
    kinesis_sink.flush()

    assert calls == [1] and kinesis_sink.stats.delivered == 20
    assert kinesis_sink.pending == 1  # the one that arrived during the call, for the next flush
    kinesis_sink.flush()
    assert kinesis_sink.stats.delivered == 21


def test_kinesis_down_answers_at_once_and_counts_the_loss(client, settings, aws, promoter_a,
                                                          monkeypatch, caplog):  # fmt: skip
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    settings.TRACKING_STREAM = "hits"
    sink = use_sink(settings, "kinesis", flush_seconds=0.05, put_budget_seconds=0.3)

    started = time.monotonic()
    responses = [post_hits(client, [hit()]) for _ in range(5)]
    answered_in = time.monotonic() - started
    assert {r.status_code for r in responses} == {204}
    assert answered_in < 0.5  # the request only appends to the buffer

    deadline = time.monotonic() + 5
    while sink.stats.lost < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sink.stats.lost == 5 and sink.stats.delivered == 0
    assert "lost" in caplog.text and "to Kinesis stream hits" in caplog.text


@pytest.fixture
def lambda_sink_behind_a_proxy(aws, stream, settings, monkeypatch):
    """The sink as it runs on Lambda (flushed as each request finishes), its Kinesis calls going
    through a proxy that can slow them down or refuse them."""
    proxy = AWSProxy(aws)
    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "ticketing-production")
    settings.TRACKING_STREAM = "hits"
    sink = use_sink(settings, "kinesis")
    yield proxy, sink
    proxy.stop()


def test_on_lambda_a_hung_kinesis_costs_a_beacon_little_and_loses_nothing(
    client, lambda_sink_behind_a_proxy, promoter_a
):
    proxy, sink = lambda_sink_behind_a_proxy
    # TRACKING_LAMBDA_PUT_BUDGET_SECONDS, and no client timeout longer than it.
    config = sink.client.meta.config
    assert sink.budget_seconds == config.connect_timeout == config.read_timeout == 0.05
    assert post_hits(client, [hit()]).status_code == 204  # a warm container
    proxy.delay = 10  # PutRecords hangs

    started = time.monotonic()
    response = post_hits(client, [hit()])
    took = time.monotonic() - started
    assert response.status_code == 204
    assert took < 1, took  # the flush gave up after its budget, not after 10 s (~0.06 s idle)
    assert (sink.stats.delivered, sink.stats.carried, sink.stats.lost) == (1, 1, 0)

    proxy.delay = 0  # Kinesis is back: the next request's flush takes both
    assert post_hits(client, [hit()]).status_code == 204
    assert (sink.stats.delivered, sink.stats.lost) == (3, 0) and not sink.has_work
    consume()
    assert counts() == {("view", None, None, False): 3}


def test_on_lambda_a_failing_kinesis_loses_after_three_flushes_and_says_so(
    client, lambda_sink_behind_a_proxy, promoter_a, caplog, settings
):
    proxy, _ = lambda_sink_behind_a_proxy
    # Refusals come at once, so the budget only has to cover the recovery below: a second, not
    # the 50 ms of production, which a loaded test machine can miss.
    sink = use_sink(settings, "kinesis", lambda_put_budget_seconds=1)
    proxy.refuse = True  # 500 InternalFailure to every call
    for _ in range(3):
        assert post_hits(client, [hit()]).status_code == 204
    assert sink.stats.lost == 1  # the first beacon, after its third failed flush
    assert "lost 1 beacon(s)" in caplog.text and "InternalFailure" in caplog.text

    proxy.refuse = False
    post_hits(client, [hit()])
    assert (sink.stats.delivered, sink.stats.lost) == (3, 1)
    consume()
    assert counts() == {("view", None, None, False): 3}


def test_background_flush_delivers_without_a_request_finishing(settings, stream, promoter_a):
    settings.TRACKING_STREAM = "hits"
    sink = use_sink(settings, "kinesis", flush_seconds=0.05)
    sink.submit(json.dumps({"at": int(time.time() * 1000), "hits": [hit()]}).encode())

    deadline = time.monotonic() + 5
    while sink.stats.delivered < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert sink.stats.delivered == 1
    assert len(stream_records(stream)) == 1


def test_full_buffer_drops_and_counts(settings, stream, caplog):
    settings.TRACKING_STREAM = "hits"
    sink = use_sink(settings, "kinesis", max_buffered=3)
    with caplog.at_level(logging.ERROR):
        accepted = [sink.submit(b"{}") for _ in range(5)]
    assert accepted == [True, True, True, False, False]
    assert sink.stats.dropped == 2
    assert "buffer full" in caplog.text


def test_a_producer_retry_duplicate_counts_once(client, kinesis_sink, stream, promoter_a):
    repeated = hit()
    post_hits(client, [repeated])
    post_hits(client, [repeated, hit()])  # the same hit id under a new sequence number
    consume()
    assert counts() == {("view", None, None, False): 2}


def test_resharding_reads_a_closed_parent_to_its_end_before_its_children(
    client, kinesis_sink, stream, promoter_a
):
    post_hits(client, [hit() for _ in range(3)])
    consume()
    parent = stream.list_shards(StreamName="hits")["Shards"][0]
    hash_range = parent["HashKeyRange"]
    middle = (int(hash_range["StartingHashKey"]) + int(hash_range["EndingHashKey"])) // 2
    stream.split_shard(
        StreamName="hits", ShardToSplit=parent["ShardId"], NewStartingHashKey=str(middle)
    )
    for _ in range(10):
        post_hits(client, [hit()])

    reads = []

    class RecordingPoller(ShardPoller):
        def read(self, shard):
            super().read(shard)
            reads.append((shard.shard_id, shard.shard_id in self.finished))

    poller = RecordingPoller("hits", report=lambda line: None)
    poller.run(once=True)

    assert counts() == {("view", None, None, False): 13}
    assert ShardCheckpoint.objects.get(stream="hits", shard_id=parent["ShardId"]).is_finished
    children = {s["ShardId"] for s in stream.list_shards(StreamName="hits")["Shards"]
                if s.get("ParentShardId") == parent["ShardId"]}  # fmt: skip
    assert len(children) == 2
    parent_done = reads.index((parent["ShardId"], True))
    first_child_read = min(i for i, (shard_id, _) in enumerate(reads) if shard_id in children)
    assert parent_done < first_child_read


def test_poller_stops_cleanly_when_asked(stream, promoter_a):
    poller = ShardPoller("hits", idle_seconds=0.05, report=lambda line: None)
    poller.stop.set()  # as the SIGINT handler does
    result = poller.run()
    assert result.records == 0


def test_seen_hit_ids_are_forgotten_after_the_window(settings, promoter_a):
    from django.utils import timezone

    from ticketing.tracking import services
    from ticketing.tracking.hits import Hit

    settings.TRACKING_DEDUPE_HOURS = 24
    now = timezone.now()
    at = int(now.timestamp() * 1000)
    old = Hit("h-1", "view", "alpha-artist", None, None, at, False)
    services.record_hits([old], now=now - dt.timedelta(hours=25))
    services.record_hits([Hit("h-2", "view", "alpha-artist", None, None, at, False)], now=now)

    assert services.prune_seen_hits(now) == 1
    assert services.record_hits([old], now=now).counted == 1  # outside the window: new again
