"""Arrivals counted with the cache's atomic increment: locmem in one process locally, Redis
(ElastiCache) in production through the `CACHES` setting. One increment per joining fan, no
database row."""

from django.core.cache import cache

PRE, FIFO = "pre", "fifo"


def _key(room, name: str) -> str:
    return f"queue:{room.pk}:{room.epoch}:{name}"


def take_number(room, kind: str) -> int:
    """The next 1-based arrival number of `kind` (atomic across threads and, with Redis,
    across Lambda containers)."""
    key = _key(room, kind)
    cache.add(key, 0, timeout=None)
    return cache.incr(key)


def count(room, kind: str) -> int:
    return cache.get(_key(room, kind), 0)


def close_pre_queue(room) -> int:
    """Mark the pre-queue closed, then read how many joined it: a join counted after this read
    sees the mark and takes a FIFO number instead (at worst one drawn position stays empty)."""
    cache.set(_key(room, "closed"), 1, timeout=None)
    return count(room, PRE)


def pre_queue_closed(room) -> bool:
    return bool(cache.get(_key(room, "closed")))


def remember_once(key: str, timeout: int) -> bool:
    """True the first time `key` is seen within `timeout` seconds (a PoW solution's reuse)."""
    return cache.add(f"queue:once:{key}", 1, timeout=timeout)
