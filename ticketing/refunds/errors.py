"""What a refund request can be refused for, in checkout's style (`ticketing/orders/errors.py`):
a stable `code`, a readable `message`, the HTTP status."""

from ticketing.orders.errors import CheckoutError


class RefundRefused(CheckoutError):
    """`nothing_to_refund`, `not_postponed`, `refund_window_closed`, `order_cancelled`,
    `not_confirmed` (409)."""

    code = "refund_refused"
    status = 409
