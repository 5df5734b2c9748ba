from django import template
from django.utils import timezone

from ticketing.events.money import from_minor

from .. import services
from ..models import Refund

register = template.Library()

ON_ITS_WAY = (Refund.State.PENDING, Refund.State.REQUESTED)
DONE = (Refund.State.SUCCEEDED, Refund.State.RECORDED)


@register.inclusion_tag("refunds/order_refunds.html")
def order_refunds(order):
    """The order page's refunds, and the "ask for a refund" form while a postponement's window
    is open."""
    refunds = (
        []  # nothing was paid, nothing comes back
        if order.payment_status == "due"
        else [
            {
                "amount": from_minor(refund.amount, refund.currency),
                "currency": refund.currency,
                "on_its_way": refund.state in ON_ITS_WAY,
                "done": refund.state in DONE,
            }
            for refund in order.refunds.order_by("created_at", "pk")
        ]
    )
    return {
        "order": order,
        "refunds": refunds,
        "window": services.refund_window(order, timezone.now()),
    }
