"""What can go wrong in checkout, as the services say it: a stable `code` for programs, a
`message` for people, and `details` (field errors, what is still available). Each class names
the HTTP status that the API answers it with."""


class CheckoutError(Exception):
    code = "error"
    status = 400  # the HTTP status the API answers with

    def __init__(self, message: str, *, code: str | None = None, **details):
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.details = details

    def as_dict(self) -> dict:
        return {"error": self.code, "detail": self.message, **self.details}


class InvalidRequest(CheckoutError):
    """Bad input: the request can never succeed as sent (400)."""

    code = "invalid"
    status = 400


class NotOnSale(CheckoutError):
    """The event does not sell now: `not_yet_on_sale`, `sales_closed`, `event_cancelled`,
    `event_unpublished` (409)."""

    status = 409


class NotEnoughTickets(CheckoutError):
    """`sold_out` (nothing left of a ticket type) or `insufficient` (fewer left than asked),
    with the ticket type and how many are `available` (409)."""

    status = 409


class HoldNotActive(CheckoutError):
    """The hold lapsed, was released or already became an order: `hold_expired`,
    `hold_released`, `hold_ordered` (409)."""

    status = 409


class IdempotencyKeyReused(CheckoutError):
    """An Idempotency-Key already used for another hold, or with other details (422)."""

    code = "idempotency_key_reused"
    status = 422


class NotFound(CheckoutError):
    code = "not_found"
    status = 404
