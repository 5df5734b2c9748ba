"""Proof of work on joining: SHA-256 over `challenge:nonce` with `difficulty` leading zero bits.

The challenge rotates every `SLOT_SECONDS` and is signed, so the server keeps no state to check
it; a solution is accepted once (the cache remembers it for as long as its challenge is valid).
A browser solves difficulty 15 in a fraction of a second (~32,000 hashes on average); a farm
joining a million times pays a million solutions.
"""

import hashlib
import hmac
import secrets

from django.conf import settings
from django.utils.crypto import salted_hmac

SLOT_SECONDS = 60
ALGORITHM = "sha256-leading-zero-bits"
MAX_NONCE_LENGTH = 32


def difficulty() -> int:
    return getattr(settings, "QUEUE_POW_DIFFICULTY", 15)


def _signature(event_id: int, slot: int) -> str:
    return salted_hmac("ticketing.queue.pow", f"{event_id}.{slot}").hexdigest()[:20]


def challenge(event_id: int, now_seconds: float) -> str:
    slot = int(now_seconds // SLOT_SECONDS)
    return f"{event_id}.{slot}.{_signature(event_id, slot)}"


def leading_zero_bits(digest: bytes) -> int:
    bits = 0
    for byte in digest:
        if byte:
            return bits + 8 - byte.bit_length()
        bits += 8
    return bits


def digest(challenge_text: str, nonce: str) -> bytes:
    return hashlib.sha256(f"{challenge_text}:{nonce}".encode()).digest()


def valid_challenge(event_id: int, challenge_text: str, now_seconds: float) -> bool:
    """Signed for this event and from this slot or the one before (the status is cached)."""
    parts = challenge_text.split(".") if isinstance(challenge_text, str) else []
    if len(parts) != 3 or parts[0] != str(event_id) or not parts[1].isdigit():
        return False
    slot = int(parts[1])
    current = int(now_seconds // SLOT_SECONDS)
    if slot not in (current, current - 1):
        return False
    return hmac.compare_digest(parts[2], _signature(event_id, slot))


def solved(challenge_text: str, nonce, bits: int) -> bool:
    if not isinstance(nonce, str) or not 0 < len(nonce) <= MAX_NONCE_LENGTH:
        return False
    return leading_zero_bits(digest(challenge_text, nonce)) >= bits


def solve(challenge_text: str, bits: int) -> str:
    """What a browser does (tests and the benchmark use it), from a random start so that two
    solvers of one challenge find different nonces."""
    nonce = secrets.randbelow(2**40)
    while not solved(challenge_text, str(nonce), bits):
        nonce += 1
    return str(nonce)
