"""The emails checkout sends to fans, each built by one function into an `EmailMultiAlternatives`
(plain text and HTML), in the fan's language (`order.language`). The services hand them to the
outbox (`ticketing.outbox.services`) inside the transaction of the change they tell about;
nothing here sends anything.

Links come from SITE_URL (`ticketing.site.public_url`): an email outlives the request, if any,
that caused it.
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from ticketing.events.models import Event
from ticketing.fans import calendar
from ticketing.fans.languages import with_language
from ticketing.site import public_url

ORDER_CONFIRMATION = "order_confirmation"  # outbox kinds
EVENT_CANCELLED = "event_cancelled"


def order_confirmation(order) -> EmailMultiAlternatives:
    """A new order: its tickets, the links to them and to the order lookup, and the show as a
    calendar file."""
    with translation.override(order.language):
        context = _order_context(order)
        event = context["event"]
        message = _message(
            _("Your tickets for %(event)s – order %(code)s")
            % {"event": event.display_name, "code": order.code},
            "orders/emails/confirmation",
            context,
            order,
        )
        message.attach(
            f"{event.slug}.ics",
            calendar.order_calendar(order, context["order_url"], context["event_url"]),
            "text/calendar; method=PUBLISH",
        )
    return message


def event_cancelled(order, note: str = "") -> EmailMultiAlternatives:
    """The event of this order is cancelled, and so is the order; `note` is the promoter's
    message to its fans, if any."""
    with translation.override(order.language):
        context = {**_order_context(order), "note": note.strip()}
        return _message(
            _("Cancelled: %(event)s – order %(code)s")
            % {"event": context["event"].display_name, "code": order.code},
            "orders/emails/event_cancelled",
            context,
            order,
        )


def _order_context(order) -> dict:
    event = order.event
    if not (Event.artist.is_cached(event) and Event.venue.is_cached(event)):
        event = Event.objects.select_related("artist", "venue").get(pk=order.event_id)
    language = order.language
    return {
        "order": order,
        "event": event,
        "tickets": list(order.tickets.select_related("ticket_type")),
        "order_url": public_url(order.get_absolute_url()),
        "event_url": public_url(
            with_language(reverse("orders:event", args=[event.slug]), language)
        ),
        "calendar_url": public_url(
            reverse("fans:order-calendar", args=[order.code, order.access_key])
        ),
        "lookup_url": public_url(with_language(reverse("orders:lookup"), language)),
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
