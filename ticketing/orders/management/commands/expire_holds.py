from django.core.management.base import BaseCommand

from ticketing.orders.services import expire_holds


class Command(BaseCommand):
    help = "Release lapsed holds (idempotent; safe to run while another run is going)."

    def handle(self, *args, **options):
        released = expire_holds()
        self.stdout.write(f"Released {released} lapsed hold(s).")
