"""Bad input refused where it enters, before any view, form or query sees it.

- **NUL characters.** PostgreSQL refuses U+0000 in text, so a NUL that reaches a lookup is a
  500 (`DataError`) on PostgreSQL, and silently stored or matched on SQLite. `RejectNulMiddleware`
  answers 400 to a request with one in its path, query string, cookies or form body: every value a
  view can read from those comes through it. It costs the hot paths (widget API, beacon) four
  substring checks; it reads no body but a form's, which the form's view reads anyway.
- **JSON bodies** go through `parse_json` (the checkout API's parser, `ticketing.orders.parsers`,
  and any plain view that takes JSON): `\\u0000` is refused like a NUL elsewhere, and so is
  nesting deeper than `MAX_JSON_DEPTH`, before the decoder recurses into it (thousands of levels
  are a RecursionError, hence a 500, in the decoder or in whatever walks the result).
"""

from __future__ import annotations

import json
import re

from django.http import JsonResponse

MAX_JSON_DEPTH = 32  # our bodies are two or three levels deep

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
NUL_MESSAGE = "The request contains a NUL character (%00), which no field accepts."


class BadJSON(ValueError):
    """A body `parse_json` refuses; the message says why, for the client."""


def parse_json(body: bytes | str):
    """The JSON value of `body`, or BadJSON."""
    if isinstance(body, str):
        body = body.encode()
    if b"\\u0000" in body:
        raise BadJSON("JSON strings may not contain NUL (\\u0000).")
    if _nested_deeper_than(body, MAX_JSON_DEPTH):
        raise BadJSON(f"The JSON is nested deeper than {MAX_JSON_DEPTH} levels.")
    try:
        return json.loads(body)
    except ValueError as error:  # UnicodeDecodeError included
        raise BadJSON(f"The body is not valid JSON: {error}") from None


_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))


def _nested_deeper_than(body: bytes, limit: int) -> bool:
    # Brackets inside strings do not nest: drop the strings, then everything but brackets.
    brackets = _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    if brackets.count(b"[") + brackets.count(b"{") <= limit:
        return False  # every body of ours: no need to walk the brackets
    depth = 0
    for byte in brackets:
        depth += 1 if byte in b"[{" else -1
        if depth > limit:
            return True
    return False


def has_nul(request) -> bool:
    meta = request.META
    if (
        "\x00" in request.path_info
        or "%00" in meta.get("QUERY_STRING", "")
        or "\x00" in meta.get("QUERY_STRING", "")
        or "\x00" in meta.get("HTTP_COOKIE", "")
    ):
        return True
    if request.content_type == FORM_CONTENT_TYPE and request.method not in ("GET", "HEAD"):
        body = request.body
        return b"%00" in body or b"\x00" in body
    return False


class RejectNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if has_nul(request):
            return JsonResponse({"error": "nul_character", "detail": NUL_MESSAGE}, status=400)
        return self.get_response(request)
