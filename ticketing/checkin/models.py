"""Door check-in: the phones that scan, every scan they make, and the one admission per ticket.

- A `Device` belongs to one promoter and scans only that promoter's events. The promoter creates
  it in the back office, which shows a single-use pairing code; the phone trades the code for a
  token (`services.pair`) and sends that with every API call. Only the token's hash is stored.
  A device holds no secret that could mint tickets: codes are verified with public keys.
- A `Scan` is every answer a door gave, valid or not, online or synced from offline.
- A `CheckIn` is a ticket's admission: at most one per ticket, by the database's unique
  constraint, however many doors scan it at the same moment.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from ticketing.events.models import Event, Promoter
from ticketing.orders.models import Ticket

# Read out or typed from the admin screen: no 0/O, 1/I/L (as order codes).
PAIRING_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
PAIRING_CODE_LENGTH = 10  # 31^10 ≈ 8e14, single use, for a day


def new_pairing_code() -> str:
    return "".join(secrets.choice(PAIRING_CODE_ALPHABET) for _ in range(PAIRING_CODE_LENGTH))


class Device(models.Model):
    promoter = models.ForeignKey(Promoter, on_delete=models.CASCADE, related_name="devices")
    name = models.CharField(max_length=100, help_text="Which door, e.g. “Main entrance 1”.")
    # While the device is waiting to be paired; NULL once used (unique only among those set).
    pairing_code = models.CharField(
        max_length=PAIRING_CODE_LENGTH, null=True, blank=True, unique=True, editable=False
    )
    pairing_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    # sha256 of the token the paired phone sends; the token itself is shown once, to the phone.
    token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", editable=False,
    )  # fmt: skip
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    paired_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_seen_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["promoter", "name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(pairing_code__isnull=True) | Q(pairing_expires_at__isnull=False),
                name="device_pairing_code_expires",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def state(self) -> str:
        if self.revoked_at:
            return "revoked"
        if self.token_hash:
            return "paired"
        return "waiting for pairing"


class DoorSettings(models.Model):
    """How the door treats an event's tickets; an event without a row has the defaults."""

    event = models.OneToOneField(
        Event, on_delete=models.CASCADE, primary_key=True, related_name="door_settings"
    )
    allow_reentry = models.BooleanField(
        default=False, help_text="A ticket already checked in may enter again (stamped wrists)."
    )

    class Meta:
        verbose_name_plural = "door settings"

    def __str__(self):
        return f"Door settings of {self.event_id}"


RESULTS = ["valid", "reentry", "already_checked_in", "wrong_event", "cancelled", "unknown"]


class Scan(models.Model):
    class Result(models.TextChoices):
        VALID = "valid", "Valid"
        REENTRY = "reentry", "Valid (re-entry)"
        ALREADY_CHECKED_IN = "already_checked_in", "Already checked in"
        WRONG_EVENT = "wrong_event", "Wrong event"
        CANCELLED = "cancelled", "Refunded or cancelled"
        UNKNOWN = "unknown", "Not a ticket of ours"

    ADMITTED = (Result.VALID, Result.REENTRY)

    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="scans")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="scans")
    ticket = models.ForeignKey(
        Ticket, on_delete=models.SET_NULL, null=True, blank=True, related_name="scans"
    )
    # The device's own id for the scan: a scan sent again (a retried sync) is recorded once.
    client_id = models.UUIDField(null=True, blank=True)
    code = models.CharField(max_length=256, blank=True, help_text="What the camera read.")
    result = models.CharField(max_length=24, choices=Result.choices)
    scanned_at = models.DateTimeField(help_text="When the door scanned (the device's clock).")
    received_at = models.DateTimeField(default=timezone.now)
    offline = models.BooleanField(default=False)
    # What the door showed while offline, and whether the server disagrees on an admission.
    offline_result = models.CharField(max_length=24, choices=Result.choices, blank=True)
    conflict = models.BooleanField(default=False)

    class Meta:
        ordering = ["-scanned_at", "-pk"]
        indexes = [models.Index(fields=["event", "scanned_at"], name="scan_event_time")]
        constraints = [
            models.UniqueConstraint(fields=["device", "client_id"], name="scan_unique_client_id"),
            models.CheckConstraint(
                condition=Q(result__in=RESULTS),
                name="scan_result_valid",
            ),
        ]

    def __str__(self):
        return f"{self.get_result_display()} at {self.scanned_at:%H:%M:%S}"


class CheckIn(models.Model):
    """A ticket's admission. `ticket` is unique: the constraint, not a read before the write,
    makes the second of two doors scanning at once see "already checked in"."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="check_in")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="check_ins")
    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="check_ins")
    checked_in_at = models.DateTimeField()

    class Meta:
        ordering = ["-checked_in_at"]
        indexes = [models.Index(fields=["event", "checked_in_at"], name="checkin_event_time")]

    def __str__(self):
        return f"{self.ticket_id} at {self.checked_in_at:%H:%M:%S}"


class DoorEvent(Event):
    """An event as the back office's check-in pages show it (counts, arrivals, attendees)."""

    class Meta:
        proxy = True
        verbose_name = "check-in by event"
        verbose_name_plural = "check-in by event"
