"""The fan's emails about a card payment that did not become an order, in the fan's language;
handed to the outbox by `services` inside the transaction that decides them."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from ticketing.events.money import format_money, from_minor
from ticketing.fans.languages import with_language
from ticketing.orders.emails import one_line
from ticketing.site import public_url

PAYMENT_RELEASED = "payment_released"  # outbox kinds
PAYMENT_REFUNDED = "payment_refunded"


def _message(payment, subject: str, lines: list[str]) -> EmailMultiAlternatives:
    event = payment.hold.event
    event_url = public_url(
        with_language(reverse("orders:event", args=[event.slug]), payment.language)
    )
    body = "\n\n".join([*lines, event_url]) + "\n"
    return EmailMultiAlternatives(
        subject=one_line(subject % {"event": event.display_name}),
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[payment.email],
    )


def payment_released(payment) -> EmailMultiAlternatives:
    """The fan did not finish paying in time (or cancelled): no charge, the seats went back."""
    with translation.override(payment.language):
        return _message(
            payment,
            _("Your tickets for %(event)s were not booked"),
            [
                _("Hello %(name)s,") % {"name": payment.name},
                _(
                    "Your card payment was not completed in time, so you were not charged and "
                    "the tickets went back on sale. You are welcome to choose tickets again."
                ),
            ],
        )


def payment_refunded(payment) -> EmailMultiAlternatives:
    """The money arrived after the hold ran out and its seats were sold: it goes back."""
    amount = format_money(from_minor(payment.amount, payment.currency), payment.currency)
    with translation.override(payment.language):
        return _message(
            payment,
            _("Your payment for %(event)s is being refunded"),
            [
                _("Hello %(name)s,") % {"name": payment.name},
                _(
                    "Your card payment arrived after your hold had run out, and the tickets "
                    "were no longer available. We are refunding the full %(amount)s to your "
                    "card; no tickets were booked."
                )
                % {"amount": amount},
            ],
        )
