"""Check-in writes: pairing and revoking devices, and recording scans.

A scan's admission is the insert of the ticket's `CheckIn` row, whose ticket is unique: of any
number of doors scanning one ticket at the same moment, the database lets exactly one insert
win; the others wait for it on the unique index, insert nothing (`ON CONFLICT DO NOTHING`) and
answer "already checked in". The scan itself is logged in the same transaction, whatever its result.
"""

import datetime as dt
import hashlib
import secrets
import uuid
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from ticketing.orders import ticket_codes
from ticketing.orders.models import Ticket

from . import selectors
from .errors import DeviceNotAuthorized, PairingCodeInvalid
from .models import CheckIn, Device, Scan, new_pairing_code

PAIRING_LIFETIME = dt.timedelta(hours=24)
# A device clock ahead of ours is trusted up to this much; beyond it the scan is ours in time.
CLOCK_SKEW = dt.timedelta(minutes=5)
SEEN_EVERY = dt.timedelta(minutes=1)  # how often a device's last_seen_at is written
Result = Scan.Result


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalize_pairing_code(code) -> str:
    if not isinstance(code, str):
        return ""
    return code.strip().upper().replace("-", "").replace(" ", "")


# --- devices ---------------------------------------------------------------------------------


def create_device(promoter, name: str, *, created_by=None, now=None) -> Device:
    """A device waiting to be paired, with a fresh pairing code."""
    now = now or timezone.now()
    return Device.objects.create(
        promoter=promoter,
        name=name,
        created_by=created_by,
        pairing_code=new_pairing_code(),
        pairing_expires_at=now + PAIRING_LIFETIME,
    )


def new_pairing(device: Device, *, now=None) -> Device:
    """A new pairing code for the device; the phone paired so far is unpaired."""
    now = now or timezone.now()
    device.pairing_code = new_pairing_code()
    device.pairing_expires_at = now + PAIRING_LIFETIME
    device.token_hash = None
    device.paired_at = None
    device.save(update_fields=["pairing_code", "pairing_expires_at", "token_hash", "paired_at"])
    return device


def revoke(devices, *, now=None) -> int:
    """Revoke devices: their token stops working at once, their pairing code too."""
    now = now or timezone.now()
    return devices.filter(revoked_at__isnull=True).update(
        revoked_at=now, pairing_code=None, pairing_expires_at=None
    )


def pair(code, *, now=None) -> tuple[Device, str]:
    """Trade a pairing code for the device's token (shown once). One conditional UPDATE: two
    phones sending the same code at once cannot both get a token."""
    now = now or timezone.now()
    code = normalize_pairing_code(code)
    token = secrets.token_urlsafe(32)
    if code:
        paired = Device.objects.filter(
            pairing_code=code, pairing_expires_at__gt=now, revoked_at__isnull=True
        ).update(
            pairing_code=None,
            pairing_expires_at=None,
            token_hash=token_hash(token),
            paired_at=now,
            last_seen_at=now,
        )
        if paired:
            device = Device.objects.select_related("promoter").get(token_hash=token_hash(token))
            return device, token
    raise PairingCodeInvalid(
        "This pairing code is unknown, already used or expired. Ask for a new one in the back "
        "office."
    )


def authenticate(token, *, now=None) -> Device:
    """The device a token belongs to, or DeviceNotAuthorized (unknown, revoked)."""
    if not isinstance(token, str) or not token or len(token) > 128:
        raise DeviceNotAuthorized("This device is not paired.", code="device_unknown")
    device = Device.objects.select_related("promoter").filter(token_hash=token_hash(token)).first()
    if device is None:
        raise DeviceNotAuthorized("This device is not paired.", code="device_unknown")
    if device.revoked_at:
        raise DeviceNotAuthorized(
            "This device was revoked by the promoter; pair it again.", code="device_revoked"
        )
    now = now or timezone.now()
    if device.last_seen_at is None or device.last_seen_at < now - SEEN_EVERY:
        Device.objects.filter(pk=device.pk).update(last_seen_at=now)
    return device


# --- scans -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanRequest:
    event_id: int
    code: str = ""  # what the camera read, or
    ticket_id: int | None = None  # the ticket staff picked from a search
    scanned_at: dt.datetime | None = None
    client_id: uuid.UUID | None = None
    offline_result: str = ""  # what the device showed, for a scan synced from offline


@dataclass(frozen=True)
class ScanOutcome:
    scan: Scan
    ticket: Ticket | None
    check_in: CheckIn | None  # the ticket's admission, this scan's or an earlier one


def record_scan(device: Device, event, wanted: ScanRequest, *, now=None) -> ScanOutcome:
    """Judge one scan at `event` (one of the device's events, selectors.device_event) and log it.
    Sent again with the same client id, the first answer is returned, nothing recorded twice."""
    now = now or timezone.now()
    scanned_at = _scan_time(wanted.scanned_at, now, offline=bool(wanted.offline_result))
    if wanted.client_id:
        earlier = _earlier_scan(device, wanted.client_id)
        if earlier:
            return earlier
    ticket = _ticket(device, wanted)
    try:
        with transaction.atomic():
            result, check_in = _judge(device, event, ticket, scanned_at)
            offline = bool(wanted.offline_result)
            scan = Scan.objects.create(
                device=device,
                event=event,
                ticket=ticket,
                client_id=wanted.client_id,
                # What the camera read, kept only when it named no ticket of ours: a ticket's
                # own code would let anyone reading the log copy its QR.
                code="" if ticket else wanted.code[:256],
                result=result,
                scanned_at=scanned_at,
                received_at=now,
                offline=offline,
                offline_result=wanted.offline_result,
                conflict=offline
                and wanted.offline_result in Scan.ADMITTED
                and result not in Scan.ADMITTED,
            )
    except IntegrityError:
        # The same client id, sent twice at once: the other request recorded it.
        earlier = _earlier_scan(device, wanted.client_id) if wanted.client_id else None
        if earlier is None:
            raise
        return earlier
    return ScanOutcome(scan, ticket, check_in)


def _judge(device, event, ticket, scanned_at) -> tuple[str, CheckIn | None]:
    if ticket is None:
        return Result.UNKNOWN, None
    if ticket.order.event_id != event.pk:
        return Result.WRONG_EVENT, None
    if not selectors.is_valid(ticket):
        return Result.CANCELLED, None
    check_in = _admit(ticket, event, device, scanned_at)
    if check_in:
        return Result.VALID, check_in
    # Admitted before, or by another door this instant: that row is committed now.
    check_in = CheckIn.objects.select_related("device").get(ticket=ticket)
    reentry = selectors.allows_reentry(event)
    return (Result.REENTRY if reentry else Result.ALREADY_CHECKED_IN), check_in


def _admit(ticket, event, device, at) -> CheckIn | None:
    """The ticket's new CheckIn, or None if it has one. One statement, no savepoint: on
    PostgreSQL, an insert of the same ticket by another door waits for that door's transaction
    and then inserts nothing; the unique constraint decides, not a read before the write."""
    table = CheckIn._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (ticket_id, event_id, device_id, checked_in_at) "  # noqa: S608
            "VALUES (%s, %s, %s, %s) ON CONFLICT (ticket_id) DO NOTHING RETURNING id",
            [ticket.pk, event.pk, device.pk, connection.ops.adapt_datetimefield_value(at)],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    return CheckIn(id=row[0], ticket=ticket, event=event, device=device, checked_in_at=at)


def _ticket(device, wanted: ScanRequest) -> Ticket | None:
    """The promoter's ticket the scan names, or None ("not a ticket of ours")."""
    tickets = Ticket.objects.select_related("order", "ticket_type").filter(
        order__event__artist__promoter=device.promoter_id
    )
    if wanted.ticket_id is not None:
        return tickets.filter(pk=wanted.ticket_id).first()
    code = ticket_codes.verify(wanted.code)
    if code is None:
        return None
    return tickets.filter(secret=code.secret, order__event_id=code.event_id).first()


def _earlier_scan(device, client_id) -> ScanOutcome | None:
    scan = (
        Scan.objects.select_related("ticket__order", "ticket__ticket_type")
        .filter(device=device, client_id=client_id)
        .first()
    )
    if scan is None:
        return None
    check_in = None
    if scan.ticket_id:
        check_in = CheckIn.objects.select_related("device").filter(ticket=scan.ticket_id).first()
    return ScanOutcome(scan, scan.ticket, check_in)


def _scan_time(scanned_at, now, *, offline: bool) -> dt.datetime:
    if scanned_at is None:
        return now
    if scanned_at > now + CLOCK_SKEW:
        return now  # a clock ahead of ours: the scan happened no later than now
    if not offline and scanned_at < now - CLOCK_SKEW:
        return now  # an online scan is now, whatever the phone's clock says
    return scanned_at
