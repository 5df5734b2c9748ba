"""A waiting room per event: the promoter's settings and the draw's few durable facts.

Nothing here is written per fan. A fan's place is a signed queue ticket in their browser and the
arrivals are counted in the cache (`counters.py`); this row changes when the promoter edits it,
once at the draw, and when the admission rate changes (`schedule`).
"""

import datetime as dt
import secrets

from django.db import models, transaction
from django.db.models import Q

from ticketing.events.models import Event

from . import draw


def new_seed() -> str:
    return secrets.token_hex(32)


class WaitingRoom(models.Model):
    class RateMode(models.TextChoices):
        FIXED = "fixed", "Fixed rate"
        AUTO = "auto", "Auto (follow the seats left; stop at sell-out)"

    event = models.OneToOneField(
        Event, on_delete=models.CASCADE, primary_key=True, related_name="waiting_room"
    )
    enabled = models.BooleanField(
        default=True, help_text="While on, holds need an admission pass from the queue."
    )
    pre_queue_minutes = models.PositiveSmallIntegerField(
        default=30,
        help_text="The pre-queue opens this many minutes before the on-sale moment; everyone "
        "in it is put in a random order when sales open.",
    )
    rate_mode = models.CharField(max_length=8, choices=RateMode.choices, default=RateMode.FIXED)
    rate_per_minute = models.PositiveIntegerField(
        default=100, help_text="Fans admitted per minute (fixed mode); 0 pauses admission."
    )
    admission_window_minutes = models.PositiveSmallIntegerField(
        default=10, help_text="How long an admitted fan has to hold tickets before losing the turn."
    )
    # The draw: the seed is secret until the on-sale moment; its SHA-256 is public before.
    seed = models.CharField(max_length=64, default=new_seed, editable=False)
    drawn_at = models.DateTimeField(null=True, blank=True, editable=False)
    pre_queue_count = models.PositiveIntegerField(null=True, blank=True, editable=False)
    # Admission checkpoints [[ms, admitted_up_to, rate per minute], …]: the mark between them
    # grows by the rate (admission.py). Appended when the rate changes, pruned past the window.
    schedule = models.JSONField(default=list, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(admission_window_minutes__gte=1), name="waitingroom_window"
            ),
            models.CheckConstraint(
                condition=Q(rate_mode__in=["fixed", "auto"]), name="waitingroom_rate_mode"
            ),
        ]

    def __str__(self):
        return f"Waiting room of {self.event}"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        # Holds read the room from the cache (selectors.room): drop it now and once committed.
        from .selectors import forget_room

        forget_room(self.pk)
        transaction.on_commit(lambda: forget_room(self.pk))

    @property
    def commitment(self) -> str:
        return draw.commitment(bytes.fromhex(self.seed))

    @property
    def epoch(self) -> str:
        """Names this draw in counters and signed tokens: a new seed starts afresh."""
        return self.commitment[:12]

    @property
    def pre_queue_opens_at(self):
        return self.event.on_sale_at - dt.timedelta(minutes=self.pre_queue_minutes)

    @property
    def window(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.admission_window_minutes)
