"""The waiting room's endpoints: CDN-friendly, no session, cookie, CSRF or request.user.

`status` is the same document for everyone (cached by the CDN and, for a second, by the
origin); `join` and `pass` are the only two origin requests a fan makes for the whole wait.
"""

import json

from django.core.cache import cache
from django.http import HttpResponse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from ticketing.inputs import BadJSON, parse_json

from . import selectors, services
from .errors import QueueError

STATUS_MAX_AGE = 2  # seconds, browsers and the CDN
STATUS_ORIGIN_SECONDS = 1  # the origin builds the document at most this often per cache


def _json(content: dict, status: int = 200) -> HttpResponse:
    body = json.dumps(content, separators=(",", ":"))
    return HttpResponse(body, content_type="application/json", status=status)


@require_GET
def status(request, event_id):
    key = f"queue:status:{event_id}"
    body = cache.get(key)
    if body is None:
        now = timezone.now()
        room = services.advance(selectors.room(event_id), now)
        body = json.dumps(selectors.status_document(room, event_id, now), separators=(",", ":"))
        cache.set(key, body, STATUS_ORIGIN_SECONDS)
    response = HttpResponse(body, content_type="application/json")
    patch_cache_control(response, public=True, max_age=STATUS_MAX_AGE, s_maxage=STATUS_MAX_AGE)
    return response


def _body(request) -> dict:
    try:
        data = parse_json(request.body)
    except BadJSON:
        data = None
    if not isinstance(data, dict):
        raise QueueError("Send a JSON object.", code="invalid", status=400)
    return data


def _private(response: HttpResponse) -> HttpResponse:
    patch_cache_control(response, private=True, no_store=True)
    return response


@csrf_exempt  # no cookie carries authority here
@require_POST
def join(request, event_id):
    try:
        data = _body(request)
        content = services.join(event_id, data.get("challenge"), data.get("nonce"))
    except QueueError as error:
        return _private(_json(error.as_dict(), error.status))
    return _private(_json(content, 201))


@csrf_exempt
@require_POST
def admission_pass(request, event_id):
    try:
        data = _body(request)
        content = services.admission_pass(event_id, data.get("ticket"))
    except QueueError as error:
        return _private(_json(error.as_dict(), error.status))
    return _private(_json(content))
