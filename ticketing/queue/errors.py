"""The waiting room's refusals, in checkout's error style (`code`, a message, the status)."""

from ticketing.orders.errors import CheckoutError


class QueueRequired(CheckoutError):
    """Holds need an admission pass while the event's waiting room is on (403)."""

    code = "queue_required"
    status = 403


class QueuePassUsed(CheckoutError):
    """The pass already has an active hold (409)."""

    code = "queue_pass_used"
    status = 409


class QueueError(CheckoutError):
    """A join or pass request refused: invalid, pow_invalid, pow_reused, queue_not_open,
    not_admitted_yet (409), turn_lapsed (410), invalid_ticket, not_found."""

    def __init__(self, message: str, *, code: str, status: int, **details):
        super().__init__(message, code=code, **details)
        self.status = status
