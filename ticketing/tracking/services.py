"""The one aggregation service behind every consumer: the Lambda handler, `consume_tracking` and
the local sink all hand their records to `record_batch`.

A batch is counted in one transaction: claim the hit ids not seen before, resolve slugs and keys,
add the hits to their hourly counters with one upsert per group. If anything fails, nothing of
the batch is kept (neither counts nor seen ids), so the batch can simply be delivered again.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from functools import lru_cache

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from ticketing.events.models import Affiliate, Artist, Event

from .hits import Hit, decode_record
from .models import HitCounter, RejectedHitCounter, SeenHit, ShardCheckpoint

logger = logging.getLogger(__name__)

Reason = RejectedHitCounter.Reason
ROWS_PER_STATEMENT = 500  # keeps every statement under SQLite's and psycopg's parameter limits


@dataclass
class BatchResult:
    records: int = 0
    counted: int = 0  # hits added to the counters (bots included)
    bots: int = 0
    duplicates: int = 0  # hit ids already counted, in this batch or an earlier one
    rejected: int = 0  # hits naming an unknown artist, event or affiliate; malformed records

    def __add__(self, other: BatchResult) -> BatchResult:
        return BatchResult(**{f.name: getattr(self, f.name) + getattr(other, f.name)
                              for f in fields(self)})  # fmt: skip


def record_batch(records: Iterable[bytes], now: dt.datetime | None = None) -> BatchResult:
    """Count the hits of a batch of stream records (lines that are not beacons: rejected)."""
    hits: list[Hit] = []
    malformed = count = 0
    for data in records:
        count += 1
        decoded, bad = decode_record(data)
        hits.extend(decoded)
        malformed += bad
    result = record_hits(hits, malformed=malformed, now=now)
    result.records = count
    return result


def record_hits(hits: Sequence[Hit], *, malformed: int = 0, now=None) -> BatchResult:
    now = now or timezone.now()
    result = BatchResult()
    with transaction.atomic():
        fresh = _claim_unseen(hits, now)
        result.duplicates = len(hits) - len(fresh)
        groups, rejected = _group(fresh)
        if malformed:
            rejected[(_hour(now), Reason.MALFORMED)] += malformed
        _add_hit_counts(groups)
        _add_rejected_counts(rejected)
    result.counted = sum(groups.values())
    result.bots = sum(n for key, n in groups.items() if key[5])
    result.rejected = sum(rejected.values())
    return result


def prune_seen_hits(now: dt.datetime | None = None) -> int:
    """Forget hit ids older than the dedupe window; returns how many were forgotten."""
    cutoff = (now or timezone.now()) - dt.timedelta(hours=settings.TRACKING_DEDUPE_HOURS)
    deleted, _ = SeenHit.objects.filter(seen_at__lt=cutoff).delete()
    return deleted


# --- Steps --------------------------------------------------------------------------------------


def _claim_unseen(hits: Sequence[Hit], now: dt.datetime) -> list[Hit]:
    """The hits whose id was never counted, each id once; their ids are now taken."""
    by_id = {hit.id: hit for hit in hits}
    if not by_id:
        return []
    table = SeenHit._meta.db_table
    seen_at = connection.ops.adapt_datetimefield_value(now)
    fresh_ids: list[str] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One array parameter instead of thousands of placeholders: psycopg's client-side
            # binding parses every placeholder, which cost more than the insert itself.
            cursor.execute(
                f"INSERT INTO {table} (hit_id, seen_at) SELECT unnest(%s::varchar[]), %s "
                "ON CONFLICT (hit_id) DO NOTHING RETURNING hit_id",
                [list(by_id), seen_at],
            )
            fresh_ids = [row[0] for row in cursor.fetchall()]
        else:
            for chunk in _chunks(list(by_id), ROWS_PER_STATEMENT):
                cursor.execute(
                    f"INSERT INTO {table} (hit_id, seen_at) VALUES {_placeholders(len(chunk), 2)} "  # noqa: S608
                    "ON CONFLICT (hit_id) DO NOTHING RETURNING hit_id",
                    [value for hit_id in chunk for value in (hit_id, seen_at)],
                )
                fresh_ids.extend(row[0] for row in cursor.fetchall())
    return [by_id[hit_id] for hit_id in fresh_ids]


GroupKey = tuple[int, int | None, int | None, str, dt.datetime, bool]


def _group(hits: Sequence[Hit]) -> tuple[Counter[GroupKey], Counter[tuple[dt.datetime, str]]]:
    """Resolve slugs, ids and keys (three queries for the whole batch) and count per group."""
    artists = _rows(Artist, "slug", {h.artist for h in hits})
    events = _rows(Event, "id", {h.event for h in hits if h.event}, fields=("artist_id",))
    affiliates = _rows(Affiliate, "public_key", {h.affiliate for h in hits if h.affiliate})
    groups: Counter[GroupKey] = Counter()
    rejected: Counter[tuple[dt.datetime, str]] = Counter()
    for hit in hits:
        hour = _hour_of_ms(hit.at)
        artist = artists.get(hit.artist)
        if artist is None:
            rejected[(hour, Reason.UNKNOWN_ARTIST)] += 1
            continue
        artist_id, promoter_id = artist
        event_id = affiliate_id = None
        if hit.event is not None:
            event = events.get(hit.event)
            if event is None or event[0] != artist_id:
                rejected[(hour, Reason.UNKNOWN_EVENT)] += 1
                continue
            event_id = hit.event
        if hit.affiliate is not None:
            affiliate = affiliates.get(hit.affiliate)
            if affiliate is None or affiliate[1] != promoter_id:
                rejected[(hour, Reason.UNKNOWN_AFFILIATE)] += 1
                continue
            affiliate_id = affiliate[0]
        groups[(artist_id, event_id, affiliate_id, hit.type, hour, hit.bot)] += 1
    return groups, rejected


def _rows(model, key: str, values: set, fields=("id", "promoter_id")) -> dict:
    if not values:
        return {}
    rows = model.objects.filter(**{f"{key}__in": values}).values_list(key, *fields)
    return {row[0]: row[1:] for row in rows}


def _add_hit_counts(groups: Counter[GroupKey]) -> None:
    # Sorted, so that two consumers adding to the same counters lock them in the same order.
    rows = sorted(groups.items(), key=lambda item: _sort_key(item[0]))
    table = HitCounter._meta.db_table
    columns = "artist_id, event_id, affiliate_id, kind, hour, is_bot, count"
    conflict = "artist_id, event_key, affiliate_key, kind, hour, is_bot"  # the unique constraint
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        for chunk in _chunks(rows, ROWS_PER_STATEMENT):
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {_placeholders(len(chunk), 7)} "  # noqa: S608
                f"ON CONFLICT ({conflict}) DO UPDATE SET count = {table}.count + excluded.count",
                [
                    value
                    for (artist, event, affiliate, kind, hour, bot), count in chunk
                    for value in (artist, event, affiliate, kind, adapt(hour), bot, count)
                ],
            )


def _add_rejected_counts(rejected: Counter[tuple[dt.datetime, str]]) -> None:
    if not rejected:
        return
    table = RejectedHitCounter._meta.db_table
    adapt = connection.ops.adapt_datetimefield_value
    rows = sorted(rejected.items())
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (hour, reason, count) VALUES {_placeholders(len(rows), 3)} "  # noqa: S608
            f"ON CONFLICT (hour, reason) DO UPDATE SET count = {table}.count + excluded.count",
            [value for (hour, reason), n in rows for value in (adapt(hour), str(reason), n)],
        )


# --- Helpers ------------------------------------------------------------------------------------


def _sort_key(key: GroupKey):
    artist, event, affiliate, kind, hour, bot = key
    return (artist, event or 0, affiliate or 0, kind, hour, bot)


def _hour(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


def _hour_of_ms(ms: int) -> dt.datetime:
    return _hour_number(ms // 3_600_000)


@lru_cache(maxsize=256)
def _hour_number(hours_since_epoch: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(hours_since_epoch * 3600, dt.UTC)


def _placeholders(rows: int, columns: int) -> str:
    row = "(" + ", ".join(["%s"] * columns) + ")"
    return ", ".join([row] * rows)


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def record_shard_batch(stream: str, shard_id: str, records: list[dict]) -> BatchResult:
    """Count a GetRecords batch and move the shard's checkpoint past it, in one transaction: a
    crash between the two can neither lose the batch nor count it twice."""
    with transaction.atomic():
        result = record_batch(record["Data"] for record in records)
        if records:
            save_checkpoint(stream, shard_id, records[-1]["SequenceNumber"])
    return result


def save_checkpoint(stream: str, shard_id: str, sequence_number: str | None = None, *,
                    finished: bool = False) -> None:  # fmt: skip
    values = {"is_finished": finished}
    if sequence_number is not None:
        values["sequence_number"] = sequence_number
    ShardCheckpoint.objects.update_or_create(stream=stream, shard_id=shard_id, defaults=values)
