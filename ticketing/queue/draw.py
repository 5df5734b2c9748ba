"""The pre-queue draw: a keyed pseudo-random permutation of the arrival numbers.

Fans who join during the pre-queue get arrival numbers 0, 1, … N-1 (an atomic counter). At the
on-sale moment the seed is published and arrival `i` stands at position `position(seed, N, i)`:
a Feistel network whose round function is HMAC-SHA256 keyed with the seed, walked in cycles
until it lands inside [0, N). A Feistel network is a bijection whatever its round function, so
the draw is a permutation by construction; each fan computes their own place in O(1) (the
browser does it with WebCrypto, static/queue/queue-core.js), and anyone holding the seed can
recompute the whole order. Nobody, the operator included, can pick the seed after seeing the
arrivals: its SHA-256 (the commitment) is published when the pre-queue opens.
"""

import hashlib
import hmac

ROUNDS = 8
MAX_COUNT = 2**50  # keeps every value an exact double in the browser's twin


def commitment(seed: bytes) -> str:
    return hashlib.sha256(seed).hexdigest()


def _halves(count: int) -> int:
    bits = max(2, (count - 1).bit_length())
    return (bits + 1) // 2


def position(seed: bytes, count: int, index: int) -> int:
    """Where arrival `index` (0-based) of `count` pre-queue arrivals stands after the draw."""
    if not 0 <= index < count <= MAX_COUNT:
        raise ValueError("index out of range")
    half = _halves(count)
    mask = (1 << half) - 1
    x = index
    while True:
        left, right = x >> half, x & mask
        for round_number in range(ROUNDS):
            digest = hmac.new(seed, f"{round_number}:{right}".encode(), hashlib.sha256).digest()
            left, right = right, left ^ (int.from_bytes(digest[:4], "big") & mask)
        x = (left << half) | right
        if x < count:  # cycle-walking: stays a permutation of [0, count)
            return x


def order(seed: bytes, count: int) -> list[int]:
    """The arrival indexes in admission order: what a verifier recomputes from the seed."""
    placed = [0] * count
    for index in range(count):
        placed[position(seed, count, index)] = index
    return placed
