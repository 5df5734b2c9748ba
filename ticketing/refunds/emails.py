"""The refunds' emails to fans, in the fan's language (`order.language`), built like checkout's
(`ticketing/orders/emails.py`) and handed to the outbox by the services."""

from django.utils import translation
from django.utils.translation import gettext as _

from ticketing.events.money import from_minor
from ticketing.orders.emails import _message, _order_context

REFUND_ISSUED = "refund_issued"  # outbox kinds
EVENT_CANCELLED_REFUNDED = "event_cancelled_refunded"
EVENT_POSTPONED = "event_postponed"


def refund_issued(order, refund, tickets, *, kind: str = REFUND_ISSUED, note: str = ""):
    """Money back for some or all tickets; for a cancelled event (`kind`), that it is cancelled
    too, with the promoter's `note`."""
    cancelled = kind == EVENT_CANCELLED_REFUNDED
    nothing_paid = order.payment_status == "due" or refund.amount == 0
    with translation.override(order.language):
        context = {
            **_order_context(order),
            "refund": refund,
            "refund_amount": from_minor(refund.amount, refund.currency),
            "refunded_count": len(tickets),
            "by_card": refund.state != refund.State.RECORDED,
            # Nothing was paid yet (pay at the venue): nothing comes back, the seats just go.
            "was_due": nothing_paid,
            "event_cancelled": cancelled,
            "note": note.strip(),
        }
        event = context["event"].display_name
        if cancelled:
            subject = (
                _("Cancelled: %(event)s – order %(code)s")
                if nothing_paid
                else _("Cancelled and refunded: %(event)s – order %(code)s")
            )
        elif nothing_paid:
            subject = _("Tickets cancelled: %(event)s – order %(code)s")
        else:
            subject = _("Your refund for %(event)s – order %(code)s")
        subject %= {"event": event, "code": order.code}
        return _message(subject, "refunds/emails/refund_issued", context, order)


def event_postponed(order, postponement):
    with translation.override(order.language):
        context = {
            **_order_context(order),
            "postponement": postponement,
            "note": postponement.note,
        }
        subject = _("New date: %(event)s – order %(code)s") % {
            "event": context["event"].display_name, "code": order.code,
        }  # fmt: skip
        return _message(subject, "refunds/emails/event_postponed", context, order)
