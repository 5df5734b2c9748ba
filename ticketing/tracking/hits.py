"""Beacon hits: parse and validate what a browser sent, enrich it with what only the server knows,
and encode it as one stream record (and back, for the consumer).

The endpoint validates the shape only. Whether the artist, event or affiliate exist is the
consumer's question: the request path never touches the database.

A beacon is one line of JSON: its hits with the request's enrichment. A stream record is one or
more such lines (JSON Lines): the Kinesis sink packs many beacons into a record, as the KPL does,
because a shard takes 1,000 records but 1 MB a second and a record is billed per 25 KB, so a
record per beacon would need many times the shards and the cost.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from crawlerdetect import CrawlerDetect
from django.conf import settings

from ticketing.events.models import AFFILIATE_KEY, ARTIST_SLUG

MAX_HITS = 50
MAX_BODY_BYTES = 16 * 1024
KINDS = ("view", "click")

_ID = re.compile(r"[A-Za-z0-9_-]{1,64}\Z")
_COUNTRY = re.compile(r"[A-Z]{2}\Z")


class BadBeacon(ValueError):
    """A body the endpoint refuses; `status` is the HTTP answer (400, or 413 when too large)."""

    status = 400


class BeaconTooLarge(BadBeacon):
    status = 413


# --- Parsing and validation ---------------------------------------------------------------------


def parse_body(body: bytes) -> list[dict]:
    """A JSON array of hits, or {"events": [...]}, into validated hits."""
    if len(body) > MAX_BODY_BYTES:
        raise BeaconTooLarge(f"a beacon carries at most {MAX_BODY_BYTES} bytes")
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: arrays nested thousands deep
        raise BadBeacon("the body is not JSON") from None
    if isinstance(payload, dict):
        payload = payload.get("events")
    if not isinstance(payload, list):
        raise BadBeacon('expected a JSON array of hits or {"events": [...]}')
    if len(payload) > MAX_HITS:
        raise BeaconTooLarge(f"a beacon carries at most {MAX_HITS} hits")
    return [validate_hit(raw, index) for index, raw in enumerate(payload)]


def parse_query(params) -> list[dict]:
    """The single hit of a `GET /t.gif?id=...&type=...` request (a QueryDict)."""
    raw = {name: params.get(name) for name in ("id", "type", "artist", "affiliate")}
    for name in ("event", "ts"):
        value = params.get(name)
        if value not in (None, ""):
            try:
                raw[name] = int(value)
            except ValueError:
                raise BadBeacon(f"{name} must be a whole number") from None
    return [validate_hit({k: v for k, v in raw.items() if v not in (None, "")})]


def validate_hit(raw, index: int = 0) -> dict:
    """One hit, checked field by field; unknown fields are ignored (newer widgets may add some)."""

    def bad(message: str) -> BadBeacon:
        return BadBeacon(f"hit {index}: {message}")

    if not isinstance(raw, dict):
        raise bad("expected an object")
    hit_id, kind, artist = raw.get("id"), raw.get("type"), raw.get("artist")
    if not isinstance(hit_id, str) or not _ID.match(hit_id):
        raise bad("id must be a string of up to 64 letters, digits, '-' or '_'")
    if kind not in KINDS:
        raise bad('type must be "view" or "click"')
    if not isinstance(artist, str) or not ARTIST_SLUG.fullmatch(artist):
        raise bad("artist must be an artist slug")
    hit = {"id": hit_id, "type": kind, "artist": artist}

    event = raw.get("event")
    if event is not None:
        if not _is_int(event) or event < 1:
            raise bad("event must be a positive whole number")
        hit["event"] = event
    elif kind == "click":
        raise bad("a click needs its event")
    affiliate = raw.get("affiliate")
    if affiliate is not None:
        if not isinstance(affiliate, str) or not AFFILIATE_KEY.fullmatch(affiliate):
            raise bad("affiliate must be an affiliate's public key")
        hit["affiliate"] = affiliate
    ts = raw.get("ts")
    if ts is not None:
        if not (_is_int(ts) or isinstance(ts, float)) or not 0 <= ts < 2**53:
            raise bad("ts must be the client's time in milliseconds")
        hit["ts"] = int(ts)
    return hit


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# --- Enrichment ---------------------------------------------------------------------------------


def request_context(request) -> dict:
    """What the server adds to every hit of a request. Never the raw IP."""
    meta = request.META
    user_agent = meta.get("HTTP_USER_AGENT", "")
    context = {"at": int(time.time() * 1000), "bot": is_bot(user_agent)}
    host = _host(meta.get("HTTP_ORIGIN")) or _host(meta.get("HTTP_REFERER"))
    if host:
        context["host"] = host
    country = meta.get("HTTP_CLOUDFRONT_VIEWER_COUNTRY", "").upper()
    if _COUNTRY.match(country):
        context["country"] = country
    if meta.get("HTTP_SEC_GPC", "").strip() != "1":
        context["visitor"] = visitor_hash(client_ip(meta), user_agent)
    return context


@lru_cache(maxsize=4096)
def is_bot(user_agent: str) -> bool:
    """crawlerdetect's list, memoised per user agent: its regex is long and beacons repeat UAs.
    A beacon with no user agent at all comes from a script, not a browser."""
    return not user_agent.strip() or _crawler_detect().is_crawler(user_agent)


@lru_cache(maxsize=1)
def _crawler_detect() -> CrawlerDetect:
    return CrawlerDetect()


def visitor_hash(ip: str, user_agent: str) -> str:
    """A pseudonymous visitor id for unique counts: it changes every day (UTC), and without the
    day's salt, derived from SECRET_KEY, it cannot be tied back to an address."""
    salt = _daily_salt(dt.datetime.now(dt.UTC).date())
    digest = hashlib.blake2b(f"{ip}\n{user_agent}".encode(), key=salt, digest_size=8)
    return digest.hexdigest()


@lru_cache(maxsize=2)
def _daily_salt(day: dt.date) -> bytes:
    message = f"tracking-visitor:{day.isoformat()}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).digest()


def client_ip(meta) -> str:
    """The viewer's address as CloudFront saw it ("ip:port", IPv6 unbracketed), else the socket's;
    never stored (see `visitor_hash`). Never X-Forwarded-For: any client writes what it likes at
    its start, so the first entry would let one visitor pass for many (CloudFront sets
    CloudFront-Viewer-Address itself; the origin request policy forwards it, see
    infra/cloudformation.yml)."""
    viewer = meta.get("HTTP_CLOUDFRONT_VIEWER_ADDRESS")
    if viewer:
        return viewer.rsplit(":", 1)[0]
    return meta.get("REMOTE_ADDR", "")


def _host(url: str | None) -> str | None:
    if not url or url == "null":
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host[:253] if host else None


# --- Stream records -----------------------------------------------------------------------------


def encode_beacon(hits: list[dict], context: dict) -> bytes:
    """One beacon as a line of JSON (no newline inside: JSON escapes them)."""
    return json.dumps({**context, "hits": hits}, separators=(",", ":")).encode()


@dataclass(frozen=True, slots=True)
class Hit:
    """A hit as the consumer sees it: the browser's fields plus the request's enrichment."""

    id: str
    type: str
    artist: str
    event: int | None
    affiliate: str | None
    at: int  # receive time, ms since the epoch (the client's clock is not trusted)
    bot: bool
    host: str | None = None
    country: str | None = None
    visitor: str | None = None


def decode_record(data: bytes) -> tuple[list[Hit], int]:
    """A stream record (beacons, one per line) back into hits; also how many lines were not
    beacons of ours (counted as rejected, never retried: they could never succeed)."""
    hits: list[Hit] = []
    malformed = 0
    for line in data.split(b"\n"):
        try:
            hits.extend(_decode_beacon(line))
        except (ValueError, KeyError, TypeError, RecursionError):  # BadBeacon is a ValueError
            malformed += 1
    return hits, malformed


def _decode_beacon(line: bytes) -> list[Hit]:
    beacon = json.loads(line)
    if not isinstance(beacon, dict) or not isinstance(beacon.get("hits"), list):
        raise ValueError("not a tracking beacon")
    at, bot = beacon["at"], bool(beacon.get("bot"))
    host, country, visitor = beacon.get("host"), beacon.get("country"), beacon.get("visitor")
    if not _is_int(at):
        raise ValueError("beacon without a receive time")
    hits = []
    for raw in beacon["hits"]:
        hit = validate_hit(raw)  # the stream is trusted no more than the browser was
        hits.append(
            Hit(hit["id"], hit["type"], hit["artist"], hit.get("event"), hit.get("affiliate"),
                at, bot, host, country, visitor)
        )  # fmt: skip
    return hits
