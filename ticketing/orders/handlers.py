"""AWS Lambda entry points of checkout, called by Zappa with `(event, context)`.

`expire_holds` runs every minute (a Zappa `events` schedule). Buyers never wait for it: a lapsed
hold already stops counting when someone next buys for that event; this only tidies up.
"""

import os


def _django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ticketing.settings")
    from django.apps import apps

    if not apps.ready:  # Zappa usually set Django up already; a bare invocation has not
        import django

        django.setup()


def expire_holds(event, context):
    _django()
    from .services import expire_holds as release_lapsed

    return {"released": release_lapsed()}
