"""The origin's own cache of encoded widget API bodies, in process memory.

The CDN absorbs almost all of the widget's traffic; this cache absorbs what reaches the origin
(one request per CDN edge and expiry, a burst of misses after a deploy, the local demo page) by
keeping the encoded body and its ETag for a few seconds (`WIDGET_ORIGIN_CACHE_SECONDS`; with 0
every request runs the query).

Freshness: saving or deleting anything the body shows (artists, events, venues, ticket types,
affiliates) and the catalogue's bulk writes clear this process's cache at once. The checkout moves
the `sold`/`held` counters with conditional `QuerySet.update()` statements, which fire no signals,
and other processes (gunicorn workers, Lambda containers) never hear of this one's writes: for
those, by design, the TTL is what bounds how stale the availability shown can be. One more lag
is the checkout's own: seats in lapsed holds count as taken here until `expire_holds` releases
them (every minute), while a buyer on the event page already gets them.

ETags: the ETag is a hash of what the body says about the data, not of the moment it was built
(`generated_at`), so every process (gunicorn workers, Lambda containers) gives the same ETag for
the same data, and a CDN revalidating with If-None-Match gets a 304 whichever one answers. When
an entry is rebuilt and the data is unchanged, the previous body is served again, so within a
process `generated_at` says when the data shown was first built.
"""

import hashlib
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from django.conf import settings
from django.db.models.signals import post_delete, post_save

from ticketing.events.models import Affiliate, Artist, Event, TicketType, Venue
from ticketing.events.signals import catalogue_changed

MAX_ENTRIES = 1024  # one per (artist, affiliate, limit, host); the cache is emptied when full


@dataclass(frozen=True, slots=True)
class Rendering:
    status: int
    content: bytes  # what the body says about the data, without the moment it was generated
    body: bytes
    etag: str  # of `content`: the same in every process for the same data
    fresh_until: float  # time.monotonic()


def strong_etag(body: bytes) -> str:
    return f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'


class OriginCache:
    def __init__(self):
        self._entries: dict[Hashable, Rendering] = {}

    def fresh(self, key: Hashable) -> Rendering | None:
        entry = self._entries.get(key)
        if entry is not None and entry.fresh_until > time.monotonic():
            return entry
        return None

    def keep(
        self, key: Hashable, status: int, content: bytes, render: Callable[[bytes], bytes]
    ) -> Rendering:
        """Remember a freshly built `content`; `render` turns it into the body to send."""
        previous = self._entries.get(key)
        if previous is not None and previous.status == status and previous.content == content:
            body = previous.body
        else:
            body = render(content)
        entry = Rendering(
            status,
            content,
            body,
            strong_etag(content),
            time.monotonic() + settings.WIDGET_ORIGIN_CACHE_SECONDS,
        )
        if previous is None and len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()  # crude, but bounded: keys come from the query string
        self._entries[key] = entry
        return entry

    def clear(self, **_signal_kwargs) -> None:
        self._entries.clear()


origin_cache = OriginCache()


def connect_signals() -> None:
    for model in (Artist, Event, Venue, TicketType, Affiliate):
        uid = f"widget-origin-cache-{model.__name__}"
        post_save.connect(origin_cache.clear, sender=model, dispatch_uid=uid)
        post_delete.connect(origin_cache.clear, sender=model, dispatch_uid=uid)
    catalogue_changed.connect(origin_cache.clear, dispatch_uid="widget-origin-cache")
