"""The public origin of the site (`SITE_URL`): where links in emails and API answers point.

Absolute links are never built from the request. Its Host (or X-Forwarded-Host) says which name
this request came in on: the raw execute-api URL, a CloudFront alias, whatever a client sent
within ALLOWED_HOSTS. A link in an email outlives the request, a widget answer is cached by the
CDN for everyone, and an email sent by the outbox worker has no request at all: they all point
at the one public origin.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.urls import get_script_prefix


def public_url(path: str) -> str:
    """`path` (from `reverse()` or `static()`) on the public origin.

    `reverse()` puts the current request's script prefix in front (`/production/` on the raw API
    Gateway URL); the public origin has its own, so the request's is taken off first. A URL that
    names its host already (an absolute or protocol-relative STATIC_URL) is returned as it is.
    """
    parts = urlsplit(path)
    if parts.scheme or parts.netloc:
        return path
    relative = path.removeprefix(get_script_prefix()).lstrip("/")
    return f"{settings.SITE_URL.rstrip('/')}/{relative}"


def public_host() -> str:
    """The host name of SITE_URL (e.g. for Message-IDs); "localhost" when it is not set."""
    return urlsplit(settings.SITE_URL).hostname or "localhost"
