"""AWS Lambda entry point of card payments, called by Zappa with `(event, context)`.

`sweep_payments` runs every minute (a Zappa `events` schedule): it closes card payments whose
window lapsed (seats back, fan told, PaymentIntent cancelled) and retries refunds of late
payments. A fan waiting on the payment page does not wait for it: the page's own poll closes a
lapsed payment.
"""

from django.apps import apps

from ticketing.lambda_entry import setup_django

if not apps.ready:
    setup_django()

from .services import sweep


def sweep_payments(event, context):
    return sweep()
