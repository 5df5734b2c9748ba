"""AWS Lambda entry point of notify-me, called by Zappa with `(event, context)`.

`notify_subscribers` runs every minute (a Zappa `events` schedule, as `expire_holds` does): it
tells the fans waiting for an event as soon as it sells, whether its on-sale moment passed or
seats of a sold-out show came back (a cancelled order, lapsed holds, more capacity)."""

from django.apps import apps

from ticketing.lambda_entry import setup_django

if not apps.ready:
    setup_django()

from .services import notify_subscribers as tell_waiting_fans


def notify_subscribers(event, context):
    return {"notified": tell_waiting_fans()}
