"""The order confirmation email: plain text and HTML, in the fan's language, with the show as a
calendar file attached; through Django's email backend.

`confirmation_message` builds the whole message under `translation.override(order.language)`;
sending is apart from it, so that an outbox can store the built message and send it later.
"""

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from ticketing.fans import calendar
from ticketing.fans.languages import with_language

logger = logging.getLogger(__name__)


def confirmation_message(order, site_url: str = "") -> EmailMultiAlternatives:
    order = (
        type(order)
        .objects.select_related("event__artist", "event__venue")
        .prefetch_related("tickets__ticket_type")
        .get(pk=order.pk)
    )
    event = order.event
    base = (settings.SITE_URL or site_url).rstrip("/")
    with translation.override(order.language):
        order_url = f"{base}{order.get_absolute_url()}"
        event_url = (
            f"{base}{with_language(reverse('orders:event', args=[event.slug]), order.language)}"
        )
        context = {
            "order": order,
            "event": event,
            "tickets": list(order.tickets.all()),
            "order_url": order_url,
            "calendar_url": base
            + reverse("fans:order-calendar", args=[order.code, order.access_key]),
            "lookup_url": f"{base}{with_language(reverse('orders:lookup'), order.language)}",
        }
        message = EmailMultiAlternatives(
            subject=one_line(
                _("Your tickets for %(event)s – order %(code)s")
                % {"event": event.display_name, "code": order.code}
            ),
            body=render_to_string("orders/emails/confirmation.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[order.email],
        )
        message.attach_alternative(
            render_to_string("orders/emails/confirmation.html", context), "text/html"
        )
        message.attach(
            f"{event.slug}.ics",
            calendar.order_calendar(order, order_url, event_url),
            "text/calendar; method=PUBLISH",
        )
    return message


def send_order_confirmation(order, site_url: str = "") -> bool:
    """Send the confirmation; a failure is logged, never raised: the order stands, and the fan
    can still open it from the confirmation page or the lookup."""
    try:
        confirmation_message(order, site_url).send()
    except Exception:
        logger.exception("Could not send the confirmation of order %s", order.code)
        return False
    return True


def one_line(text: str) -> str:
    """A header value from text staff typed: a CR or LF in an event's name would make Django
    refuse the message as a header injection (BadHeaderError), so every run of whitespace,
    line breaks included, becomes one space."""
    return " ".join(text.split())
