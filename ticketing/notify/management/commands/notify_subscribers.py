from django.core.management.base import BaseCommand

from ticketing.notify.services import notify_subscribers


class Command(BaseCommand):
    help = "Tell fans waiting for tickets (notify me) whose events now sell. Run every minute."

    def handle(self, *args, **options):
        told = notify_subscribers()
        self.stdout.write(f"Told {told} fan(s).")
