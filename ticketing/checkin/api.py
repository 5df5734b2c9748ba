"""The check-in API for door scanners (`/api/v1/checkin/`): plain JSON views, no DRF.

A device authenticates with its token (`Authorization: Bearer <token>`), never with a cookie:
nothing here reads the session or the user, so no CSRF applies and no response varies on
cookies. Every answer is `private, no-store`: it is one device's.
"""

import datetime as dt
import json
import uuid

from django.http import HttpResponse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.gzip import gzip_page

from ticketing.inputs import BadJSON, parse_json

from . import selectors, services
from .errors import CheckinError, InvalidScan
from .models import Scan

MAX_SYNC = 500  # scans per sync call
Result = Scan.Result
MESSAGES = {
    Result.VALID: "Valid.",
    Result.REENTRY: "Valid: re-entry.",
    Result.ALREADY_CHECKED_IN: "Already checked in.",
    Result.WRONG_EVENT: "Wrong event: this ticket is for another show.",
    Result.CANCELLED: "Refunded or cancelled: no entry.",
    Result.UNKNOWN: "Not a ticket of ours.",
}


def json_response(content: dict, status: int = 200) -> HttpResponse:
    body = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    response = HttpResponse(body.encode(), content_type="application/json", status=status)
    patch_cache_control(response, private=True, no_store=True)
    return response


def endpoint(*methods, authenticated=True):
    """A JSON view: method check, the device from its token, CheckinError as its 4xx."""

    def decorate(view):
        @csrf_exempt
        def wrapped(request, *args, **kwargs):
            if request.method not in methods:
                response = json_response(
                    {"error": "method_not_allowed", "detail": f"Use {', '.join(methods)}."}, 405
                )
                response["Allow"] = ", ".join(methods)
                return response
            try:
                if authenticated:
                    kwargs["device"] = services.authenticate(_bearer(request))
                return view(request, *args, **kwargs)
            except CheckinError as error:
                return json_response(error.as_dict(), error.status)

        wrapped.__name__ = view.__name__
        wrapped.__doc__ = view.__doc__
        return wrapped

    return decorate


def _bearer(request) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _body(request) -> dict:
    if request.content_type != "application/json":
        raise InvalidScan("Send JSON (Content-Type: application/json).")
    try:
        data = parse_json(request.body)
    except BadJSON as error:
        raise InvalidScan(str(error)) from None
    if not isinstance(data, dict):
        raise InvalidScan("Send a JSON object.")
    return data


@endpoint("POST", authenticated=False)
def pair(request):
    """Trade a pairing code from the back office for this device's token."""
    device, token = services.pair(_body(request).get("code"))
    return json_response(
        {
            "token": token,
            "device": {"id": device.pk, "name": device.name},
            "promoter": {"id": device.promoter_id, "name": device.promoter.name},
        },
        201,
    )


@gzip_page  # thousands of tickets, to a phone on a venue's network
@endpoint("GET")
def bundle(request, device):
    """Keys, events, revoked and checked-in tickets, the ticket list: for offline scanning."""
    event_id = request.GET.get("event")
    event = selectors.device_event(device, event_id) if event_id else None
    return json_response(selectors.bundle(device, event))


@endpoint("POST")
def scans(request, device):
    """One scan, answered at once: valid, re-entry, already checked in, wrong event, refunded
    or cancelled, not ours."""
    wanted = _scan_request(_body(request), offline=False)
    event = selectors.device_event(device, wanted.event_id)
    outcome = services.record_scan(device, event, wanted)
    return json_response(_outcome_json(outcome))


@endpoint("GET")
def search(request, device):
    """The event's tickets by buyer's name or order code, for fans whose phone died."""
    event = selectors.device_event(device, request.GET.get("event"))
    return json_response({"results": selectors.search(event, request.GET.get("q", "")[:100])})


@endpoint("POST")
def sync(request, device):
    """Scans made offline, applied in the order the device made them; each answer says what
    the server made of it and whether the door admitted someone it should not have."""
    items = _body(request).get("scans")
    if not isinstance(items, list) or len(items) > MAX_SYNC:
        raise InvalidScan(f"`scans` is a list of at most {MAX_SYNC} scans.")
    wanted = [_scan_request(item, offline=True) for item in items]
    wanted.sort(key=lambda scan: scan.scanned_at or dt.datetime.max.replace(tzinfo=dt.UTC))
    events = {}
    results = []
    for scan in wanted:
        if scan.event_id not in events:
            events[scan.event_id] = selectors.device_event(device, scan.event_id)
        outcome = services.record_scan(device, events[scan.event_id], scan)
        results.append(
            {
                "id": str(outcome.scan.client_id),
                **_outcome_json(outcome),
                "offline_result": outcome.scan.offline_result,
                "conflict": outcome.scan.conflict,
            }
        )
    return json_response(
        {"results": results, "conflicts": sum(1 for result in results if result["conflict"])}
    )


def _scan_request(data, *, offline: bool) -> services.ScanRequest:
    if not isinstance(data, dict):
        raise InvalidScan("A scan is a JSON object.")
    event = data.get("event")
    if type(event) is not int or event < 1:
        raise InvalidScan("`event` is the id of the event being scanned.")
    code, ticket = data.get("code"), data.get("ticket")
    if (code is None) == (ticket is None):
        raise InvalidScan("Send either `code` (what the camera read) or `ticket` (an id).")
    if code is not None and (not isinstance(code, str) or len(code) > 1024):
        raise InvalidScan("`code` is the text of the QR code.")
    if ticket is not None and (type(ticket) is not int or ticket < 1):
        raise InvalidScan("`ticket` is a ticket id.")
    client_id = data.get("id")
    if client_id is not None or offline:
        try:
            client_id = uuid.UUID(client_id)
        except (TypeError, ValueError, AttributeError):
            raise InvalidScan("`id` is the scan's UUID, made by the device.") from None
    scanned_at = data.get("scanned_at")
    if scanned_at is not None or offline:
        parsed = parse_datetime(scanned_at) if isinstance(scanned_at, str) else None
        if parsed is None or parsed.tzinfo is None:
            raise InvalidScan("`scanned_at` is an ISO 8601 time with its offset, e.g. …Z.")
        scanned_at = parsed
    offline_result = ""
    if offline:
        offline_result = data.get("result")
        if offline_result not in Result.values:
            raise InvalidScan(f"`result` is what the door showed: one of {Result.values}.")
    return services.ScanRequest(
        event_id=event,
        code=code or "",
        ticket_id=ticket,
        scanned_at=scanned_at,
        client_id=client_id,
        offline_result=offline_result,
    )


def _outcome_json(outcome: services.ScanOutcome) -> dict:
    result = outcome.scan.result
    check_in = selectors.check_in_json(outcome.check_in)
    message = MESSAGES[result]
    if result == Result.ALREADY_CHECKED_IN and outcome.check_in:
        # The venue's clock: what the door staff's watch says.
        at = timezone.localtime(outcome.check_in.checked_in_at, outcome.scan.event.venue.zone)
        message = f"Already checked in at {at:%H:%M} by {check_in['device']}."
    return {
        "result": result,
        "message": message,
        "ticket": selectors.ticket_json(outcome.ticket),
        "checked_in": check_in,
        "scan": outcome.scan.pk,
    }
