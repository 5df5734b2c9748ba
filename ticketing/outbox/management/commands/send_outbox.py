import math
import time

from django.core.management.base import BaseCommand

from ticketing.outbox import services


class Command(BaseCommand):
    help = (
        "Send the outbox's due emails (new ones and retries) until none is due, then exit; with "
        "--every, keep doing so (a worker beside a long-running server)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--every", type=float, metavar="SECONDS", help="Drain again every SECONDS until Ctrl-C."
        )

    def handle(self, *args, every=None, **options):
        try:
            while True:
                delivery = services.send_due(budget_seconds=math.inf)
                if not every or delivery.sent or delivery.retrying or delivery.failed:
                    self.stdout.write(
                        f"sent {delivery.sent}, to retry {delivery.retrying}, "
                        f"failed {delivery.failed}"
                    )
                if not every:
                    return
                time.sleep(every)
        except KeyboardInterrupt:
            return
