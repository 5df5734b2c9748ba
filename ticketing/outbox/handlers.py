"""AWS Lambda entry points of the outbox, called by Zappa with `(event, context)`.

- `send_outbox` runs every minute (a Zappa `events` schedule): the drain, which sends whatever
  is due, retries included.
- `send_emails` is what `prompt.invoke_self` asks for, asynchronously, right after an email's
  transaction commits (`{"command": "ticketing.outbox.handlers.send_emails", "emails": [ids]}`,
  which Zappa's handler routes here).
"""

from dataclasses import asdict

from django.apps import apps

from ticketing.lambda_entry import setup_django

if not apps.ready:
    setup_django()

from . import services


def send_outbox(event, context):
    return asdict(services.send_due())


def send_emails(event, context):
    ids = [pk for pk in event.get("emails", []) if isinstance(pk, int)]
    return asdict(services.send_emails(ids))
