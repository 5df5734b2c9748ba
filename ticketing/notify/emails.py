"""Notify-me emails: the opt-in confirmation and the news that tickets are there, each in the
fan's language, each with a signed unsubscribe link (also as List-Unsubscribe, one click).

Each message is built whole by one function under `translation.override(subscription.language)`;
the services hand it to the outbox in their transaction. Links come from SITE_URL
(`ticketing.site.public_url`): the notification goes out from a schedule, with no request.
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from ticketing.fans.languages import with_language
from ticketing.orders.emails import one_line
from ticketing.site import public_url

CONFIRM = "notify_confirm"  # outbox kinds
TICKETS = "notify_tickets"


def confirmation_message(subscription, confirm_token, unsubscribe_token):
    context = {"confirm_url": public_url(reverse("notify:confirm", args=[confirm_token]))}
    return _message(subscription, unsubscribe_token, "confirm", context, _subject_confirm)


def notification_message(subscription, unsubscribe_token):
    path = with_language(
        reverse("orders:event", args=[subscription.event.slug]), subscription.language
    )
    return _message(
        subscription, unsubscribe_token, "tickets", {"event_url": public_url(path)}, _subject_news
    )


def _subject_confirm(event) -> str:
    return _("Please confirm: news about tickets for %(event)s") % {"event": event.display_name}


def _subject_news(event) -> str:
    return _("Tickets for %(event)s are available") % {"event": event.display_name}


def _message(subscription, unsubscribe_token, template, context, subject):
    event = subscription.event
    unsubscribe_url = public_url(reverse("notify:unsubscribe", args=[unsubscribe_token]))
    context = {**context, "event": event, "unsubscribe_url": unsubscribe_url}
    with translation.override(subscription.language):
        message = EmailMultiAlternatives(
            subject=one_line(subject(event)),
            body=render_to_string(f"notify/emails/{template}.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[subscription.email],
            headers={
                "List-Unsubscribe": f"<{unsubscribe_url}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",  # RFC 8058
            },
        )
        message.attach_alternative(
            render_to_string(f"notify/emails/{template}.html", context), "text/html"
        )
    return message
