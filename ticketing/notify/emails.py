"""Notify-me emails: the opt-in confirmation and the news that tickets are there, each in the
fan's language, each with a signed unsubscribe link (also as List-Unsubscribe, one click).

Each message is built whole by one function under `translation.override(subscription.language)`
and handed to `deliver`, the one place that sends: when the outbox lands, `deliver` stores the
message in the caller's transaction instead.
"""

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from ticketing.fans.languages import with_language
from ticketing.orders.emails import one_line

logger = logging.getLogger(__name__)

LOCAL_SITE_URL = "http://127.0.0.1:8000"  # links of a local run's scheduled emails


def confirmation_message(subscription, confirm_token, unsubscribe_token, site_url=""):
    base = _base(site_url)
    context = {"confirm_url": base + reverse("notify:confirm", args=[confirm_token])}
    return _message(subscription, unsubscribe_token, base, "confirm", context, _subject_confirm)


def notification_message(subscription, unsubscribe_token, site_url=""):
    base = _base(site_url)
    path = with_language(
        reverse("orders:event", args=[subscription.event.slug]), subscription.language
    )
    return _message(
        subscription, unsubscribe_token, base, "tickets", {"event_url": base + path}, _subject_news
    )


def _subject_confirm(event) -> str:
    return _("Please confirm: news about tickets for %(event)s") % {"event": event.display_name}


def _subject_news(event) -> str:
    return _("Tickets for %(event)s are available") % {"event": event.display_name}


def _message(subscription, unsubscribe_token, base, template, context, subject):
    event = subscription.event
    unsubscribe_url = base + reverse("notify:unsubscribe", args=[unsubscribe_token])
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


def _base(site_url: str) -> str:
    return (settings.SITE_URL or site_url or LOCAL_SITE_URL).rstrip("/")


def deliver(message: EmailMultiAlternatives) -> None:
    """Send once the caller's transaction commits; a failure is logged, never raised."""
    transaction.on_commit(lambda: _send(message))


def _send(message) -> None:
    try:
        message.send()
    except Exception:
        logger.exception("Could not send “%s” to a fan", message.subject)
