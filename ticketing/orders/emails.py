"""The order confirmation email: plain text and HTML, through Django's email backend."""

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

logger = logging.getLogger(__name__)


def send_order_confirmation(order, site_url: str = "") -> bool:
    """Send the confirmation; a failure is logged, never raised: the order stands, and the fan
    can still open it from the confirmation page or the lookup."""
    order = type(order).objects.select_related("event__artist", "event__venue").get(pk=order.pk)
    tickets = list(order.tickets.select_related("ticket_type"))
    base = (settings.SITE_URL or site_url).rstrip("/")
    context = {
        "order": order,
        "event": order.event,
        "tickets": tickets,
        "order_url": f"{base}{order.get_absolute_url()}",
        "lookup_url": f"{base}{reverse('orders:lookup')}",
    }
    message = EmailMultiAlternatives(
        subject=one_line(f"Your tickets for {order.event.display_name} – order {order.code}"),
        body=render_to_string("orders/emails/confirmation.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[order.email],
    )
    message.attach_alternative(
        render_to_string("orders/emails/confirmation.html", context), "text/html"
    )
    try:
        message.send()
    except Exception:
        logger.exception("Could not send the confirmation of order %s", order.code)
        return False
    return True


def one_line(text: str) -> str:
    """A header value from text staff typed: a CR or LF in an event's name would make Django
    refuse the message as a header injection (BadHeaderError), so every run of whitespace,
    line breaks included, becomes one space."""
    return " ".join(text.split())
