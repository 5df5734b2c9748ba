"""The admitted-up-to mark as a function of time, from a few checkpoints.

`schedule` is `[[ms, mark, rate_per_minute], …]` in time order. Between checkpoints the mark
grows by the rate: `mark(t) = mark_i + floor(rate_i * (t - t_i) / 60 000)`. A rate change, the
draw and a cap (the mark ran past everyone who has joined: unused admissions are not banked)
each append a checkpoint, so the mark needs no timer and no write per fan, and the moment any
position was admitted can be recomputed (it starts the fan's admission window).
"""

import math

MINUTE_MS = 60_000


def mark_at(schedule: list, t_ms: int) -> int:
    current = None
    for checkpoint in schedule:
        if checkpoint[0] > t_ms:
            break
        current = checkpoint
    if current is None:
        return 0
    start, mark, rate = current
    return mark + (rate * (t_ms - start)) // MINUTE_MS


def admitted_at(schedule: list, position: int, since_ms: int) -> int | None:
    """The first moment at or after `since_ms` (the ticket's issue) when `position` was
    admitted, or None if it is not (yet, at the current rate)."""
    wanted = position + 1
    for i, (start, mark, rate) in enumerate(schedule):
        end = schedule[i + 1][0] if i + 1 < len(schedule) else math.inf
        if end <= since_ms:
            continue
        begin = max(start, since_ms)
        if mark + (rate * (begin - start)) // MINUTE_MS >= wanted:
            return begin
        if rate > 0:
            moment = start + -(-(wanted - mark) * MINUTE_MS // rate)  # ceil
            if moment < end:
                return max(moment, begin)
    return None


def with_checkpoint(schedule: list, t_ms: int, mark: int, rate: int, keep_after_ms: int) -> list:
    """`schedule` plus `[t_ms, mark, rate]`, dropping checkpoints no one needs: those before
    the last one at or before `keep_after_ms` (its mark bounds the positions whose window ran
    out; see admitted_at)."""
    points = [p for p in schedule if p[0] < t_ms] + [[t_ms, mark, rate]]
    first = 0
    for i, point in enumerate(points):
        if point[0] <= keep_after_ms:
            first = i
    return points[first:]
