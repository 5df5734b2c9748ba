"""Refusals of the limits: 429 Too Many Requests, and when to try again (`Retry-After`)."""

from ticketing.orders.errors import CheckoutError


class TooManyRequests(CheckoutError):
    """A limit of this client is reached: `rate_limited` or `hold_limit` (429). `retry_after`
    is in whole seconds; the answer carries it in its `Retry-After` header and body."""

    code = "rate_limited"
    status = 429

    def __init__(self, message: str, *, retry_after: int, code: str | None = None, **details):
        super().__init__(message, code=code, retry_after=retry_after, **details)
        self.retry_after = retry_after
