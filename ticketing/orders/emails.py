"""The emails checkout sends to fans, each built by one function into an `EmailMultiAlternatives`
(plain text and HTML). The services hand them to the outbox (`ticketing.outbox.services`) inside
the transaction of the change they tell about; nothing here sends anything.

Links come from SITE_URL (`ticketing.site.public_url`): an email outlives the request, if any,
that caused it.
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from ticketing.events.models import Event
from ticketing.site import public_url

ORDER_CONFIRMATION = "order_confirmation"  # outbox kinds
EVENT_CANCELLED = "event_cancelled"


def order_confirmation(order) -> EmailMultiAlternatives:
    """A new order: its tickets, and the links to them and to the order lookup."""
    context = _order_context(order)
    return _message(
        f"Your tickets for {context['event'].display_name} – order {order.code}",
        "orders/emails/confirmation",
        context,
        order,
    )


def event_cancelled(order, note: str = "") -> EmailMultiAlternatives:
    """The event of this order is cancelled, and so is the order; `note` is the promoter's
    message to its fans, if any."""
    context = {**_order_context(order), "note": note.strip()}
    return _message(
        f"Cancelled: {context['event'].display_name} – order {order.code}",
        "orders/emails/event_cancelled",
        context,
        order,
    )


def _order_context(order) -> dict:
    event = order.event
    if not (Event.artist.is_cached(event) and Event.venue.is_cached(event)):
        event = Event.objects.select_related("artist", "venue").get(pk=order.event_id)
    return {
        "order": order,
        "event": event,
        "tickets": list(order.tickets.select_related("ticket_type")),
        "order_url": public_url(order.get_absolute_url()),
        "lookup_url": public_url(reverse("orders:lookup")),
    }


def _message(subject: str, template: str, context: dict, order) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=one_line(subject),
        body=render_to_string(f"{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[order.email],
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    return message


def one_line(text: str) -> str:
    """A header value from text staff typed: a CR or LF in an event's name would make Django
    refuse the message as a header injection (BadHeaderError), so every run of whitespace,
    line breaks included, becomes one space."""
    return " ".join(text.split())
