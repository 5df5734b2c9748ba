from django.core.management.base import BaseCommand

from ticketing.payments.services import sweep


class Command(BaseCommand):
    help = "Close card payments whose window lapsed and retry refunds of late payments."

    def handle(self, *args, **options):
        done = sweep()
        self.stdout.write(
            f"Closed {done['closed']} lapsed payment(s); {done['refunds']} refund(s) retried."
        )
