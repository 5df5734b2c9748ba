"""Responses a CDN can cache: public Cache-Control, a strong ETag answered with 304, CORS `*`.

The views that use these never read the session, the user or the CSRF token, so Django's
middleware adds neither `Set-Cookie` nor `Vary: Cookie` (either one stops a CDN from caching).
"""

import re

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotModified

from .cache import strong_etag
from .payload import error_content

# One entity tag of an If-None-Match list: "abc", W/"abc" or *.
ENTITY_TAG = re.compile(r'\*|(?:W/)?("[^"]*")')


def api_cache_control() -> str:
    return (
        f"public, max-age={settings.WIDGET_MAX_AGE}, s-maxage={settings.WIDGET_S_MAXAGE}, "
        f"stale-while-revalidate={settings.WIDGET_STALE_WHILE_REVALIDATE}"
    )


def error_cache_control() -> str:
    """Errors are cached briefly too, so that a broken embed on a busy site stays cheap."""
    return f"public, max-age={settings.WIDGET_MAX_AGE}, s-maxage={settings.WIDGET_S_MAXAGE}"


def if_none_match(request, etag: str) -> bool:
    """Whether the client already holds `etag`, by the weak comparison RFC 9110 asks for."""
    header = request.headers.get("If-None-Match")
    if not header:
        return False
    for match in ENTITY_TAG.finditer(header):
        if match.group(0) == "*" or match.group(1) == etag:
            return True
    return False


def cacheable(
    request,
    body: bytes,
    *,
    content_type: str,
    cache_control: str,
    status: int = 200,
    etag: str | None = None,
) -> HttpResponse:
    etag = etag or strong_etag(body)
    if status == 200 and if_none_match(request, etag):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type=content_type, status=status)
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = cache_control
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def json_error(request, status: int, code: str, message: str) -> HttpResponse:
    return cacheable(
        request,
        error_content(code, message),
        content_type="application/json",
        cache_control=error_cache_control(),
        status=status,
    )
