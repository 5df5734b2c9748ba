"""Payment errors, in the checkout's style (`code`, a message for the fan, an HTTP status)."""

from ticketing.orders.errors import CheckoutError


class CardDeclined(CheckoutError):
    status = 402
    code = "card_declined"


class PaymentUnavailable(CheckoutError):
    status = 409
    code = "payment_unavailable"
