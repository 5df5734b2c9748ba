"""A fixed-window request counter per client, in Django's cache (CACHES: process memory unless
configured otherwise; point it at a shared cache, e.g. Redis, for a limit across processes).
Clients are keyed by a keyed hash of their address, never the address itself."""

import hashlib
import time

from django.conf import settings
from django.core.cache import cache

from ticketing.tracking.hits import client_ip


def client_key(request) -> str:
    address = client_ip(request.META).encode()
    return hashlib.blake2b(
        address, key=settings.SECRET_KEY.encode()[:64], digest_size=12
    ).hexdigest()


def allow(scope: str, key: str, limit: int, window_seconds: int) -> bool:
    """Whether this request is within `limit` for `key` in the current window."""
    bucket = f"ratelimit:{scope}:{key}:{int(time.time() // window_seconds)}"
    if cache.add(bucket, 1, timeout=window_seconds):
        return True
    try:
        return cache.incr(bucket) <= limit
    except ValueError:  # expired between add and incr
        cache.set(bucket, 1, timeout=window_seconds)
        return True
