"""The two ways tracking records leave the stream; both count them with `services`.

- `handle_kinesis_batch(event, context)`: a Lambda Kinesis event source (wired by Zappa).
- `ShardPoller`: the long-running reader behind `manage.py consume_tracking`.
"""

from __future__ import annotations

import base64
import binascii
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps

from ticketing.lambda_entry import setup_django

if not apps.ready:
    setup_django()

from django.db import close_old_connections, connection

from . import services
from .models import ShardCheckpoint

logger = logging.getLogger(__name__)

PRUNE_EVERY_SECONDS = 600
_last_prune = 0.0


def handle_kinesis_batch(event, context=None) -> dict:
    """Count the records of a Kinesis event; report them all as failed if the batch could not be
    stored, so Lambda delivers it again (counting is idempotent). A record that is not ours is
    counted as rejected instead: retrying it could never succeed and would block its shard."""
    records = event.get("Records") or []
    refresh_db_connections()
    try:
        result = services.record_batch(_decode_base64(record) for record in records)
        _prune_now_and_then()
    except Exception:
        logger.exception("tracking: a batch of %d Kinesis record(s) failed", len(records))
        return {
            "batchItemFailures": [
                {"itemIdentifier": record["kinesis"]["sequenceNumber"]} for record in records
            ]
        }
    finally:
        refresh_db_connections()
    logger.info(
        "tracking: %d record(s), %d hit(s) counted (%d bots), %d duplicate(s), %d rejected",
        result.records, result.counted, result.bots, result.duplicates, result.rejected,
    )  # fmt: skip
    return {"batchItemFailures": []}


def refresh_db_connections() -> None:
    """What Django does around each request, for work that is no request: drop connections that
    are broken or older than CONN_MAX_AGE, so a warm Lambda survives a database failover. Never
    inside a transaction (a caller's, e.g. a test's), which must keep its connection."""
    if not connection.in_atomic_block:
        close_old_connections()


def _decode_base64(record: dict) -> bytes:
    try:
        return base64.b64decode(record["kinesis"]["data"], validate=True)
    except (KeyError, TypeError, binascii.Error):
        return b""  # rejected as malformed by the service


def _prune_now_and_then() -> None:
    global _last_prune
    if time.monotonic() - _last_prune > PRUNE_EVERY_SECONDS:
        _last_prune = time.monotonic()
        services.prune_seen_hits()


# --- The poller ---------------------------------------------------------------------------------


@dataclass
class ShardState:
    shard_id: str
    parents: tuple[str, ...]
    is_closed: bool
    iterator: str | None = None
    behind_ms: int | None = None  # MillisBehindLatest of the last GetRecords
    caught_up: bool = False


class ShardPoller:
    """Reads every shard of a stream from its checkpoint and counts what it finds.

    A shard with no checkpoint starts at TRIM_HORIZON (the oldest record kept); one with a
    checkpoint resumes AFTER_SEQUENCE_NUMBER. After a reshard the children of a closed shard wait
    until it has been read to its end, so hits are counted in the order they arrived.
    """

    def __init__(
        self,
        stream: str,
        *,
        client=None,
        batch_limit: int = 10_000,
        idle_seconds: float = 1.0,
        progress_seconds: float = 5.0,
        report: Callable[[str], None] = print,
    ):
        self.stream = stream
        self.client = client or consumer_client()
        self.batch_limit = batch_limit
        self.idle_seconds = idle_seconds
        self.progress_seconds = progress_seconds
        self.report = report
        self.stop = threading.Event()
        self.shards: dict[str, ShardState] = {}
        self.finished: set[str] = set()
        self.total = services.BatchResult()

    def run(self, once: bool = False) -> services.BatchResult:
        """Poll until stopped; with `once`, until every shard is read up to its latest record."""
        started = last_report = last_refresh = time.monotonic()
        reported = self.total
        self.refresh_shards()
        while not self.stop.is_set():
            if time.monotonic() - last_refresh > 30:  # new shards after a reshard
                self.refresh_shards()
                last_refresh = time.monotonic()
            for shard in self.readable_shards():
                if self.stop.is_set():
                    break
                self.read(shard)
            now = time.monotonic()
            if now - last_report >= self.progress_seconds:
                self._report_progress(reported, now - last_report)
                reported, last_report = self.total, now
            # Children of a shard finished just now are readable and not caught up yet.
            if all(shard.caught_up for shard in self.readable_shards()):
                if once:
                    break
                self.stop.wait(self.idle_seconds)
            refresh_db_connections()
        self._report_progress(reported, time.monotonic() - last_report)
        self.report(
            f"{'stopped' if self.stop.is_set() else 'caught up'} after "
            f"{time.monotonic() - started:.1f} s: {self.total.records} record(s), "
            f"{self.total.counted} hit(s) counted ({self.total.bots} bots), "
            f"{self.total.duplicates} duplicate(s), {self.total.rejected} rejected"
        )
        services.prune_seen_hits()
        return self.total

    def refresh_shards(self) -> None:
        finished = set(
            ShardCheckpoint.objects.filter(stream=self.stream, is_finished=True).values_list(
                "shard_id", flat=True
            )
        )
        listed = {}
        for shard in self._list_shards():
            shard_id = shard["ShardId"]
            listed[shard_id] = self.shards.get(shard_id) or ShardState(
                shard_id=shard_id,
                parents=tuple(
                    shard[key] for key in ("ParentShardId", "AdjacentParentShardId") if key in shard
                ),
                is_closed="EndingSequenceNumber" in shard["SequenceNumberRange"],
            )
            listed[shard_id].is_closed = "EndingSequenceNumber" in shard["SequenceNumberRange"]
        self.shards = listed
        self.finished = finished

    def readable_shards(self) -> list[ShardState]:
        """Unfinished shards whose parents are finished (or gone past the stream's retention)."""
        return [
            shard
            for shard in self.shards.values()
            if shard.shard_id not in self.finished
            and all(p in self.finished or p not in self.shards for p in shard.parents)
        ]

    def read(self, shard: ShardState) -> None:
        """One GetRecords call on a shard; its records are counted and checkpointed."""
        from botocore.exceptions import ClientError

        if shard.iterator is None:
            shard.iterator = self._shard_iterator(shard.shard_id)
        try:
            response = self.client.get_records(ShardIterator=shard.iterator, Limit=self.batch_limit)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code == "ExpiredIteratorException":  # idle for 5 minutes: resume from checkpoint
                shard.iterator = None
                return
            if code in ("ProvisionedThroughputExceededException", "ThrottlingException"):
                shard.caught_up = True  # wait a moment before asking this shard again
                return
            raise
        records = response["Records"]
        if records:
            self.total += services.record_shard_batch(self.stream, shard.shard_id, records)
        shard.iterator = response.get("NextShardIterator")
        shard.behind_ms = response.get("MillisBehindLatest")
        at_latest = shard.behind_ms == 0 and len(records) < self.batch_limit
        # A closed shard is done when Kinesis gives no next iterator, or (moto) when it has
        # nothing more to give; until then it is not caught up, as its children wait for it.
        if shard.iterator is None or (shard.is_closed and at_latest and not records):
            services.save_checkpoint(self.stream, shard.shard_id, finished=True)
            self.finished.add(shard.shard_id)
        shard.caught_up = at_latest and not shard.is_closed

    def _shard_iterator(self, shard_id: str) -> str:
        checkpoint = (
            ShardCheckpoint.objects.filter(stream=self.stream, shard_id=shard_id)
            .exclude(sequence_number="")
            .values_list("sequence_number", flat=True)
            .first()
        )
        position = (
            {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": checkpoint}
            if checkpoint
            else {"ShardIteratorType": "TRIM_HORIZON"}
        )
        response = self.client.get_shard_iterator(
            StreamName=self.stream, ShardId=shard_id, **position
        )
        return response["ShardIterator"]

    def _list_shards(self):
        arguments = {"StreamName": self.stream}
        while True:
            response = self.client.list_shards(**arguments)
            yield from response["Shards"]
            if not response.get("NextToken"):
                return
            arguments = {"NextToken": response["NextToken"]}

    def _report_progress(self, since: services.BatchResult, seconds: float) -> None:
        seconds = max(seconds, 1e-3)
        records = self.total.records - since.records
        hits = self.total.counted - since.counted
        lags = [s.behind_ms for s in self.readable_shards() if s.behind_ms is not None]
        self.report(
            f"{self.stream}: {len(self.readable_shards())} shard(s) open, "
            f"{records / seconds:,.0f} records/s, {hits / seconds:,.0f} hits/s, "
            f"lag {max(lags, default=0):,} ms"
        )


def consumer_client():
    """A Kinesis client for reading: botocore's standard retries, a generous read timeout."""
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=2, read_timeout=10, retries={"mode": "standard"})
    return boto3.session.Session().client("kinesis", config=config)
