"""POST /api/v1/holds without DRF: the busiest request of an on-sale, and the one that pays most
for DRF's machinery (request wrapping, content negotiation, two nested serializers: a quarter
to a third of a hold's CPU time in one process, docs/benchmarks.md).

A request in the API's canonical form (a JSON object of `items` of whole-number `ticket_type`
and `quantity`, with string `affiliate` and `click` that DRF would keep as they are and one of
the site's `language` codes) goes
straight to `services.create_hold`, and the answer is encoded as DRF would encode it. Anything
else (another method, content type or Accept, a non-canonical value DRF would coerce, any
malformed input) is handed to the DRF view `api.Holds`, imported then, so every error says
exactly what it always said. The OpenAPI schema describes this endpoint by that DRF view;
tests/test_hold_fast_path.py holds the two to the same bytes.
"""

import json

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.functional import cached_property

from ticketing.inputs import BadJSON, parse_json
from ticketing.limits.clients import client_key
from ticketing.limits.http import with_retry_after
from ticketing.site import public_url

from . import selectors, services
from .errors import CheckoutError

ALLOW = "POST, OPTIONS"  # what DRF's view announces
JSON_TYPES = {"*/*", "application/*", "application/json"}  # what DRF would answer with JSON
OPTIONAL_TEXT = ("affiliate", "click")
TEXT_MAX_LENGTH = 64  # api.HoldInput's
OPTIONAL_FIELDS = {*OPTIONAL_TEXT, "language", "queue_pass"}
QUEUE_PASS_MAX_LENGTH = 400  # api.HoldInput's


class CreateHold:
    csrf_exempt = True  # the API carries no cookie authority (see api.py)

    def __call__(self, request):
        canonical = canonical_request(request)
        if canonical is None:
            return self.drf_view(request)
        data, wanted = canonical
        try:
            hold = services.create_hold(
                wanted,
                affiliate_key=data.get("affiliate"),
                click_id=data.get("click"),
                language=data.get("language"),
                client=client_key(request),
                queue_pass=data.get("queue_pass"),
            )
        except CheckoutError as error:
            return with_retry_after(json_response(error.as_dict(), error.status), error)
        response = json_response(hold_content(hold), 201)
        patch_cache_control(response, private=True, no_store=True)
        return response

    @cached_property
    def drf_view(self):
        from .api import Holds

        return Holds.as_view()

    @property
    def cls(self):
        """The DRF view that describes this endpoint in the OpenAPI schema (drf-spectacular
        finds API views by this attribute)."""
        return self.drf_view.cls


create_hold = CreateHold()


def canonical_request(request) -> tuple[dict, list[dict]] | None:
    """`(data, items)` when DRF's HoldInput would accept the body as it is, else None."""
    if request.method != "POST" or "format" in request.GET:
        return None
    charset = request.content_params.get("charset", "utf-8").lower()
    if request.content_type != "application/json" or charset != "utf-8":
        return None
    if not _accepts_json(request.headers.get("Accept")):
        return None
    try:
        data = parse_json(request.body)  # as the API's parser reads it (NUL, depth)
    except BadJSON:
        return None
    if not isinstance(data, dict) or not set(data) <= {"items", *OPTIONAL_FIELDS}:
        return None
    items = data.get("items")
    if not isinstance(items, list) or not 0 < len(items) <= services.MAX_ITEMS_PER_HOLD:
        return None
    for item in items:
        if not isinstance(item, dict) or item.keys() != {"ticket_type", "quantity"}:
            return None
        if not all(type(value) is int and value >= 1 for value in item.values()):
            return None
    for name in OPTIONAL_TEXT:
        value = data.get(name, "")
        if type(value) is not str or len(value) > TEXT_MAX_LENGTH or value != value.strip():
            return None
    if "language" in data and data["language"] not in dict(settings.LANGUAGES):
        return None
    queue_pass = data.get("queue_pass", "")
    if type(queue_pass) is not str or not len(queue_pass) <= QUEUE_PASS_MAX_LENGTH:
        return None
    return data, items


def _accepts_json(accept: str | None) -> bool:
    if not accept:
        return True
    return any(part.split(";")[0].strip() in JSON_TYPES for part in accept.split(","))


def hold_content(hold) -> dict:
    """api.HoldOutput's representation of a new hold, built from what create_hold loaded."""
    total, currency = selectors.hold_total(hold)
    return {
        "token": hold.token,
        "event": hold.event.slug,
        "state": hold.state,
        "language": hold.language,
        "expires_at": _drf_datetime(hold.expires_at),
        "items": [
            {
                "ticket_type": item.ticket_type_id,
                "name": item.ticket_type.name,
                "quantity": item.quantity,
                "unit_price": f"{item.ticket_type.price:.2f}",
            }
            for item in hold.item_list
        ],
        "total": str(total),
        "currency": currency,
        "url": public_url(hold.get_absolute_url()),
    }


def _drf_datetime(moment) -> str:
    text = timezone.localtime(moment).isoformat()
    return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text


def json_response(content: dict, status: int) -> HttpResponse:
    """As DRF's JSONRenderer encodes: compact, UTF-8, line separators escaped."""
    body = json.dumps(content, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    body = body.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    response = HttpResponse(body.encode(), content_type="application/json", status=status)
    response["Allow"] = ALLOW
    return response
