"""Sinks: where the beacon endpoint hands its records, chosen by `TRACKING_SINK`.

- `kinesis`: `PutRecords` to `TRACKING_STREAM`.
- `local`: the consumer's aggregation service, in this process (the local run needs no AWS).

Both buffer in memory, so a request only appends to a list. In a long-running server a
background thread flushes the buffer when it holds a full batch or every `TRACKING_FLUSH_SECONDS`,
and once more at exit. On Lambda (`AWS_LAMBDA_FUNCTION_NAME` set) a frozen process runs no
threads, so the buffer is flushed when the request finishes, before Zappa's handler returns: the
beacon's answer waits for that flush, so there it gets a budget of tens of milliseconds
(`TRACKING_LAMBDA_PUT_BUDGET_SECONDS`, which also caps the client's connect and read timeouts)
instead of the seconds a background flush may take.

A record Kinesis did not take within a flush's budget is carried to the next flush (the next
request's, on Lambda), up to CARRY_FLUSHES flushes. Nothing is lost silently: a record given up
on after that, or a beacon that finds the buffer full, is logged and counted in `stats` (per
process). A record that timed out may still have been written: sending it again makes a
duplicate, which the consumer counts once (hit ids).
"""

from __future__ import annotations

import atexit
import logging
import os
import random
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.core.signals import request_finished

logger = logging.getLogger(__name__)

PUT_RECORDS_MAX_ENTRIES = 500
PUT_RECORDS_MAX_BYTES = 5 * 1024 * 1024
RECORD_BYTES = 50 * 1024  # beacons packed into one record, as the KPL's default aggregation
CARRY_FLUSHES = 3  # flushes a record may fail to go in before it counts as lost


@dataclass
class SinkStats:
    """Counters of this process's sink, in beacons: handed over, delivered, retried, lost."""

    submitted: int = 0
    delivered: int = 0
    retried: int = 0  # sent again after a failure
    carried: int = 0  # kept for the next flush when a flush's budget ran out
    lost: int = 0  # given up on after CARRY_FLUSHES flushes, or the local aggregation failed
    dropped: int = 0  # refused because the buffer was full
    errors: Counter = field(default_factory=Counter)  # error codes seen, e.g. throttling


class BufferedSink:
    """The buffer and its flushing; subclasses say how a batch of records is delivered."""

    def __init__(self, *, flush_seconds: float, batch_records: int, max_buffered: int):
        self.flush_seconds = flush_seconds
        self.batch_records = batch_records
        self.max_buffered = max_buffered
        self.stats = SinkStats()
        self._buffer: list[bytes] = []
        self._lock = threading.Lock()  # guards the buffer
        self._flush_lock = threading.Lock()  # one flush at a time
        self._wake = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None

    # --- request side -------------------------------------------------------------------------
    def submit(self, beacon: bytes) -> bool:
        """Buffer a beacon; False (and counted) when the buffer is full."""
        with self._lock:
            if len(self._buffer) >= self.max_buffered:
                self.stats.dropped += 1
                dropped = self.stats.dropped
            else:
                self._buffer.append(beacon)
                self.stats.submitted += 1
                dropped = 0
                full = len(self._buffer) >= self.batch_records
        if dropped:
            if dropped & (dropped - 1) == 0:  # 1, 2, 4, 8...: visible without flooding the log
                logger.error("tracking: buffer full, %d beacon(s) dropped so far", dropped)
            return False
        if self.flush_seconds:
            if self._thread is None:
                self._start_thread()
            if full:
                self._wake.set()
        return True

    @property
    def pending(self) -> int:
        return len(self._buffer)

    @property
    def has_work(self) -> bool:
        """Whether a flush would send anything."""
        return bool(self._buffer)

    # --- flushing -----------------------------------------------------------------------------
    def flush(self) -> None:
        """Deliver what is buffered now, in the calling thread.

        Only what is there when it starts: beacons that arrive during a delivery wait for the
        next flush. Draining until empty would, under steady traffic, never stop, and send a
        stream of tiny PutRecords calls instead of full batches.
        """
        with self._flush_lock:
            with self._lock:
                batch, self._buffer = self._buffer, []
            if not batch and not self.has_work:
                return
            try:
                self.deliver(batch)
            except Exception:
                self.stats.lost += len(batch)
                logger.exception(
                    "tracking: lost %d beacon(s); %d lost by this process so far",
                    len(batch), self.stats.lost,
                )  # fmt: skip

    def flush_after_request(self, **kwargs) -> None:
        if self.has_work:
            self.flush()

    def deliver(self, beacons: list[bytes]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self._closed = True
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=self.flush_seconds + 10)
        self.flush()

    def _start_thread(self) -> None:
        with self._lock:
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(
                    target=self._run, name=f"tracking-{type(self).__name__}", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self.flush_seconds)
            self._wake.clear()
            self.flush()


class KinesisSink(BufferedSink):
    """Beacons packed into records of up to `record_bytes` (JSON Lines), sent with `PutRecords`
    in calls of at most 500 records or 5 MB, random partition keys. A partial failure retries
    only the failed records, with full-jitter backoff, within `budget_seconds`; what is still
    not sent then waits for the next flush."""

    def __init__(self, stream: str, *, budget_seconds: float, client=None, **options):
        super().__init__(**options)
        self.stream = stream
        self.budget_seconds = budget_seconds
        self.record_bytes = RECORD_BYTES
        self.client = client or kinesis_client(budget_seconds)
        # Records a flush's budget ran out on: (data, beacons in it, flushes it failed in).
        self._carried: list[tuple[bytes, int, int]] = []

    @property
    def has_work(self) -> bool:
        return bool(self._buffer or self._carried)

    def deliver(self, beacons: list[bytes]) -> None:
        deadline = time.monotonic() + self.budget_seconds
        records, self._carried = self._carried, []  # one flush at a time: `_flush_lock`
        records += [(data, n, 0) for data, n in pack_records(beacons, self.record_bytes)]
        for batch in put_records_batches(records):
            self._put(batch, deadline)

    def _put(self, records: list[tuple[bytes, int, int]], deadline: float) -> None:
        pending, attempt, error = records, 0, ""
        while True:
            entries = [{"Data": record[0], "PartitionKey": secrets.token_hex(8)}
                       for record in pending]  # fmt: skip
            try:
                response = self.client.put_records(StreamName=self.stream, Records=entries)
            except Exception as exc:  # botocore errors, timeouts, refused connections
                error = _error_code(exc)
                failed = pending
                self.stats.errors[error] += 1
            else:
                failed = []
                for record, result in zip(pending, response["Records"], strict=True):
                    if "ErrorCode" in result:
                        failed.append(record)
                        error = result["ErrorCode"]
                        self.stats.errors[error] += 1
            failed_beacons = sum(n for _, n, _ in failed)
            self.stats.delivered += sum(n for _, n, _ in pending) - failed_beacons
            if not failed:
                return
            attempt += 1
            delay = random.uniform(0, min(1.0, 0.05 * 2**attempt))  # noqa: S311 (jitter)
            if time.monotonic() + delay >= deadline:
                self._carry(failed, error)
                return
            time.sleep(delay)
            self.stats.retried += failed_beacons
            pending = failed

    def close(self) -> None:
        super().close()
        if self._carried:  # the process ends: no next flush for them
            self._carry([(data, n, CARRY_FLUSHES) for data, n, _ in self._carried], "exit")
            self._carried = []

    def _carry(self, failed: list[tuple[bytes, int, int]], error: str) -> None:
        """Keep what this flush could not send for the next one; lose what failed too often."""
        carried = [(data, n, flushes + 1) for data, n, flushes in failed]
        lost = [record for record in carried if record[2] >= CARRY_FLUSHES]
        self._carried += [record for record in carried if record[2] < CARRY_FLUSHES]
        carried_before = self.stats.carried
        self.stats.carried += sum(n for _, n, flushes in carried if flushes < CARRY_FLUSHES)
        if not lost:
            if _crossed_a_power_of_two(carried_before, self.stats.carried):  # not every beacon
                logger.warning(
                    "tracking: Kinesis stream %s did not take %d record(s) within %.3f s (%s); "
                    "they go with the next flush; %d beacon(s) carried so far",
                    self.stream, len(failed), self.budget_seconds, error, self.stats.carried,
                )  # fmt: skip
            return
        lost_beacons = sum(n for _, n, _ in lost)
        self.stats.lost += lost_beacons
        logger.error(
            "tracking: lost %d beacon(s) in %d record(s) to Kinesis stream %s after %d "
            "flushes (%s); %d lost by this process so far",
            lost_beacons, len(lost), self.stream, CARRY_FLUSHES, error, self.stats.lost,
        )  # fmt: skip


def _error_code(exc: Exception) -> str:
    """AWS's error code (InternalFailure, ...) when there is one, else the exception's type."""
    response = getattr(exc, "response", None)
    return (response or {}).get("Error", {}).get("Code") or type(exc).__name__


def _crossed_a_power_of_two(before: int, after: int) -> bool:
    return after > before and after.bit_length() > before.bit_length()


class LocalSink(BufferedSink):
    """No AWS: the buffered records go straight to the consumer's aggregation service."""

    def deliver(self, beacons: list[bytes]) -> None:
        from . import services  # the models load with the app registry, after this module

        services.record_batch(beacons)
        self.stats.delivered += len(beacons)


def pack_records(beacons: list[bytes], record_bytes: int) -> list[tuple[bytes, int]]:
    """Beacons joined by newlines into records of at most `record_bytes` (a larger beacon goes
    alone); each record with the number of beacons it carries."""
    records: list[tuple[bytes, int]] = []
    lines: list[bytes] = []
    size = 0
    for beacon in beacons:
        if lines and size + len(beacon) > record_bytes:
            records.append((b"\n".join(lines), len(lines)))
            lines, size = [], 0
        lines.append(beacon)
        size += len(beacon) + 1
    if lines:
        records.append((b"\n".join(lines), len(lines)))
    return records


def put_records_batches(records: list[tuple]):
    """Split records (data first) into PutRecords calls: at most 500 entries and 5 MB (data
    plus keys)."""
    batch: list[tuple] = []
    size = 0
    for record in records:
        entry_size = len(record[0]) + 16  # the partition key: 16 hex characters
        if batch and (
            len(batch) == PUT_RECORDS_MAX_ENTRIES or size + entry_size > PUT_RECORDS_MAX_BYTES
        ):
            yield batch
            batch, size = [], 0
        batch.append(record)
        size += entry_size
    if batch:
        yield batch


def kinesis_client(budget_seconds: float):
    """A Kinesis client with short timeouts, none longer than the flush's budget, and no retries
    of its own: the sink owns retries (only the failed entries, within its budget). The endpoint
    comes from the standard AWS_ENDPOINT_URL_KINESIS / AWS_ENDPOINT_URL variables, which
    botocore reads itself."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=min(0.5, budget_seconds), read_timeout=min(1, budget_seconds),
        retries={"total_max_attempts": 1}, max_pool_connections=4,
    )  # fmt: skip
    return boto3.session.Session().client("kinesis", config=config)


# --- The process's sink -------------------------------------------------------------------------

_sink: BufferedSink | None = None
_sink_lock = threading.Lock()


def get_sink() -> BufferedSink:
    """The sink of this process, made on first use (after gunicorn forks its workers)."""
    global _sink
    if _sink is None:
        with _sink_lock:
            if _sink is None:
                _sink = _build_sink()
    return _sink


def reset_sink() -> None:
    """Flush and forget the process's sink (settings changed, e.g. in tests)."""
    global _sink
    with _sink_lock:
        sink, _sink = _sink, None
    if sink is not None:
        request_finished.disconnect(dispatch_uid="tracking-sink-flush")
        atexit.unregister(sink.close)
        sink.close()


def _build_sink() -> BufferedSink:
    in_lambda = bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))
    options = {
        "flush_seconds": 0 if in_lambda else settings.TRACKING_FLUSH_SECONDS,
        "batch_records": PUT_RECORDS_MAX_ENTRIES,
        "max_buffered": settings.TRACKING_MAX_BUFFERED,
    }
    if settings.TRACKING_SINK == "kinesis":
        # On Lambda the beacon's answer waits for the flush: a tight budget there.
        budget = (
            settings.TRACKING_LAMBDA_PUT_BUDGET_SECONDS
            if in_lambda
            else settings.TRACKING_PUT_BUDGET_SECONDS
        )
        sink = KinesisSink(settings.TRACKING_STREAM, budget_seconds=budget, **options)
    else:
        sink = LocalSink(**options)
    if not sink.flush_seconds:
        request_finished.connect(
            sink.flush_after_request, weak=False, dispatch_uid="tracking-sink-flush"
        )
    atexit.register(sink.close)
    return sink


def _forget_sink_in_child() -> None:
    # A forked child must not flush its parent's buffer a second time, nor wait on its thread.
    global _sink
    _sink = None


os.register_at_fork(after_in_child=_forget_sink_in_child)
