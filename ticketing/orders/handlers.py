"""AWS Lambda entry points of checkout, called by Zappa with `(event, context)`.

`expire_holds` runs every minute (a Zappa `events` schedule). Buyers never wait for it: a lapsed
hold already stops counting when someone next buys for that event; this only tidies up.
"""

from django.apps import apps

from ticketing.lambda_entry import setup_django

if not apps.ready:
    setup_django()

from .services import expire_holds as release_lapsed


def expire_holds(event, context):
    return {"released": release_lapsed()}
