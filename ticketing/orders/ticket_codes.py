"""What a ticket's QR code says, signed so that the door can trust it.

A code reads `T1.<key id>.<event id>.<ticket secret>.<signature>`:

- `T1`: this format (a scanner refuses versions it does not know);
- key id: which of `TICKET_SIGNING_KEYS` signed it;
- event id: a scanner at one event refuses another event's ticket without asking anyone;
- ticket secret: the ticket's random `secret`, by which the server finds the ticket;
- signature: Ed25519 over the text before its dot, base64url without padding.

About 140 characters, a QR code of version 9 at error correction M. Ed25519 is asymmetric: a
scanner holding only the public keys (`public_keys()`) checks tickets offline and cannot mint
one. The keys are the tickets' own, not SECRET_KEY, so rotating SECRET_KEY leaves every ticket
valid; rotating these is adding a new key first and keeping the old one until the last event it
signed for is over (docs/deploy.md).

`cryptography` is imported on first use only: the widget and tracking paths never load it.
"""

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed

VERSION = "T1"
KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,16}")
TICKET_SECRET = re.compile(r"[A-Za-z0-9_-]{1,64}")
EVENT_ID = re.compile(r"[1-9][0-9]{0,17}")
SIGNATURE = re.compile(r"[A-Za-z0-9_-]{86}")  # 64 bytes, base64url without padding
SEED_BYTES = 32  # an Ed25519 private key is any 32 random bytes
LOCAL_KEY_ID = "local"  # the stand-in derived from SECRET_KEY (local runs and tests)


@dataclass(frozen=True)
class ScannedCode:
    """A code whose signature holds: which event and ticket it names, and the key that signed."""

    event_id: int
    secret: str
    key_id: str


def sign(event_id: int, secret: str) -> str:
    """The code of the ticket with `secret` for the event `event_id`, signed with the first key."""
    key_id, private_key = _keys()[0]
    signed = f"{VERSION}.{key_id}.{event_id}.{secret}"
    return f"{signed}.{_b64(private_key.sign(signed.encode('ascii')))}"


def verify(code) -> ScannedCode | None:
    """What `code` names if it is well-formed and signed by one of the keys, else None."""
    from cryptography.exceptions import InvalidSignature

    if not isinstance(code, str) or code.count(".") != 4 or len(code) > 256:
        return None
    signed, _, signature = code.rpartition(".")
    version, key_id, event_id, secret = signed.split(".")
    if (
        version != VERSION
        or not EVENT_ID.fullmatch(event_id)
        or not TICKET_SECRET.fullmatch(secret)
        or not SIGNATURE.fullmatch(signature)
    ):
        return None
    public_key = dict(_public_keys()).get(key_id)
    signature_bytes = base64.urlsafe_b64decode(signature + "==")
    if public_key is None or _b64(signature_bytes) != signature:  # one spelling per signature
        return None
    try:
        public_key.verify(signature_bytes, signed.encode("ascii"))
    except InvalidSignature:
        return None
    return ScannedCode(event_id=int(event_id), secret=secret, key_id=key_id)


def public_keys() -> dict[str, str]:
    """Key id -> raw Ed25519 public key (base64url): what a door scanner needs to verify."""
    from cryptography.hazmat.primitives import serialization

    raw = serialization.Encoding.Raw, serialization.PublicFormat.Raw
    return {key_id: _b64(key.public_bytes(*raw)) for key_id, key in _public_keys()}


def new_key_entry(key_id: str) -> str:
    """A fresh `key-id:seed` entry for TICKET_SIGNING_KEYS."""
    if not KEY_ID.fullmatch(key_id):
        raise ValueError("A key id is 1 to 16 letters, digits, - or _.")
    return f"{key_id}:{_b64(secrets.token_bytes(SEED_BYTES))}"


def parse_entries(entries: list[str]) -> list[tuple[str, bytes]]:
    """`key-id:seed` entries as (key id, 32-byte seed); ImproperlyConfigured says what is wrong."""
    parsed = []
    for n, entry in enumerate(entries, start=1):
        key_id, _, seed = entry.partition(":")
        if not KEY_ID.fullmatch(key_id):
            raise ImproperlyConfigured(
                f"TICKET_SIGNING_KEYS entry {n}: a key id is 1 to 16 letters, digits, - or _, "
                "followed by a colon and the key."
            )
        try:
            seed_bytes = base64.urlsafe_b64decode(seed + "=" * (-len(seed) % 4))
        except (binascii.Error, ValueError):
            seed_bytes = b""
        if len(seed_bytes) != SEED_BYTES:
            raise ImproperlyConfigured(
                f"TICKET_SIGNING_KEYS key {key_id!r}: the key is 32 bytes in base64url "
                "(`manage.py new_ticket_key` makes one)."
            )
        if key_id in dict(parsed):
            raise ImproperlyConfigured(f"TICKET_SIGNING_KEYS names the key {key_id!r} twice.")
        parsed.append((key_id, seed_bytes))
    return parsed


@cache
def _keys() -> list:
    """(key id, Ed25519PrivateKey), the signing key first."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    entries = parse_entries(settings.TICKET_SIGNING_KEYS) or [(LOCAL_KEY_ID, _local_seed())]
    return [(key_id, Ed25519PrivateKey.from_private_bytes(seed)) for key_id, seed in entries]


@cache
def _public_keys() -> list:
    return [(key_id, key.public_key()) for key_id, key in _keys()]


def _local_seed() -> bytes:
    # Without configured keys (local runs, tests): a key that follows SECRET_KEY. Production
    # must configure its own (`check --deploy` says so), or rotating SECRET_KEY voids tickets.
    label = b"ticketing.orders.ticket_codes local signing key"
    return hmac.new(settings.SECRET_KEY.encode(), label, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _forget_keys(*, setting, **kwargs):
    if setting in ("TICKET_SIGNING_KEYS", "SECRET_KEY"):
        _keys.cache_clear()
        _public_keys.cache_clear()


setting_changed.connect(_forget_keys)
