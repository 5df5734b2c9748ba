"""What the consumer keeps: counters, the hit ids it has seen, and where it stopped in each shard.

Raw hits are not stored: they arrive by the thousand per second and the analytics only ever need
hourly counts. Counters are written by `services.record_hits` with upserts, never by the ORM's
save(), so concurrent consumers add up instead of overwriting each other.
"""

from django.db import models
from django.db.models import Value
from django.db.models.functions import Coalesce

from ticketing.events.models import Affiliate, Artist, Event


class HitCounter(models.Model):
    """Hits per artist, event, affiliate, kind, hour (UTC) and bot flag."""

    class Kind(models.TextChoices):
        VIEW = "view", "View"
        CLICK = "click", "Click"

    # The artist and event lookups are served by the composite indexes below.
    artist = models.ForeignKey(Artist, on_delete=models.CASCADE, related_name="+", db_index=False)
    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, null=True, blank=True, related_name="+", db_index=False,
        help_text="Empty for a view of the artist's list of events.",
    )  # fmt: skip
    affiliate = models.ForeignKey(
        Affiliate, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
        help_text="Empty for the artist's own site.",
    )  # fmt: skip
    # NULLs are distinct in a unique index on SQLite (and by default on PostgreSQL), so the
    # upsert's conflict target uses these never-NULL twins of the nullable keys.
    event_key = models.GeneratedField(
        expression=Coalesce("event", Value(0)), output_field=models.BigIntegerField(),
        db_persist=True,
    )  # fmt: skip
    affiliate_key = models.GeneratedField(
        expression=Coalesce("affiliate", Value(0)), output_field=models.BigIntegerField(),
        db_persist=True,
    )  # fmt: skip
    kind = models.CharField(max_length=5, choices=Kind.choices)
    hour = models.DateTimeField(help_text="Start of the hour (UTC) the hits were received in.")
    is_bot = models.BooleanField(default=False)
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = "analytics"
        verbose_name_plural = "analytics"
        constraints = [
            models.UniqueConstraint(
                fields=["artist", "event_key", "affiliate_key", "kind", "hour", "is_bot"],
                name="hitcounter_unique_group",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=["view", "click"]), name="hitcounter_kind_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["artist", "hour"], name="hitcounter_artist_hour"),
            models.Index(fields=["event", "hour"], name="hitcounter_event_hour"),
        ]

    def __str__(self):
        return f"{self.count} {self.kind}s of {self.artist_id} at {self.hour:%Y-%m-%d %H:00}"


class RejectedHitCounter(models.Model):
    """Hits the consumer dropped, per hour and reason: they name no artist a promoter owns, so
    they belong to no promoter's analytics, but a rising count is worth a look."""

    class Reason(models.TextChoices):
        UNKNOWN_ARTIST = "unknown_artist", "Unknown artist"
        UNKNOWN_EVENT = "unknown_event", "Unknown event (or another artist's)"
        UNKNOWN_AFFILIATE = "unknown_affiliate", "Unknown affiliate (or another promoter's)"
        MALFORMED = "malformed", "Malformed record"

    hour = models.DateTimeField()
    reason = models.CharField(max_length=32, choices=Reason.choices)
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["hour", "reason"], name="rejectedhit_unique_group"),
        ]

    def __str__(self):
        return f"{self.count} {self.reason} at {self.hour:%Y-%m-%d %H:00}"


class SeenHit(models.Model):
    """Hit ids already counted: Kinesis delivers at least once and a producer retry writes the
    same hit under a new sequence number. Pruned after `TRACKING_DEDUPE_HOURS`."""

    hit_id = models.CharField(max_length=64, primary_key=True)
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return self.hit_id


class ShardCheckpoint(models.Model):
    """Where `consume_tracking` stopped in a shard: the last sequence number it has counted."""

    stream = models.CharField(max_length=128)
    shard_id = models.CharField(max_length=128)
    sequence_number = models.CharField(max_length=128, blank=True)
    is_finished = models.BooleanField(
        default=False, help_text="A closed shard (after resharding) read to its end."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["stream", "shard_id"], name="checkpoint_unique_shard"),
        ]

    def __str__(self):
        return f"{self.stream}/{self.shard_id} @ {self.sequence_number or 'start'}"
