"""A fixed-window request counter per client in Django's cache: `cache.add` opens a window,
`cache.incr` (atomic in process memory and in Redis) counts in it. Locally the cache is process
memory; in production set REDIS_URL so that every Lambda container counts in the same place.

Limits are named in `settings.RATE_LIMITS` (`{scope: (requests, window seconds)}`); a scope
not named there is not limited.
"""

import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    retry_after: int  # seconds until the window ends (when refused: when to try again)


def hit(scope: str, key: str, *, now: float | None = None) -> Decision:
    """Count one request of `key` against the limit `scope` names, and say if it is within."""
    if scope not in settings.RATE_LIMITS:
        return Decision(True, 0)
    limit, window = settings.RATE_LIMITS[scope]
    now = time.time() if now is None else now
    start = now // window * window
    retry_after = max(1, math.ceil(start + window - now))
    bucket = f"ratelimit:{scope}:{key}:{int(start)}"
    # A little past the window's end: a clock a bit ahead elsewhere still finds the count.
    if cache.add(bucket, 1, timeout=window + 5):
        return Decision(True, retry_after)
    try:
        count = cache.incr(bucket)
    except ValueError:  # evicted or expired between add and incr
        cache.add(bucket, 1, timeout=window + 5)
        count = 1
    return Decision(count <= limit, retry_after)
