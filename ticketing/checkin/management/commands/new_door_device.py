"""A door device for a promoter, with its pairing code and QR in the terminal: for the demo and
for a promoter's first night before anyone opens the back office.

    manage.py new_door_device demo-promotions "Main door"
"""

import segno
from django.core.management.base import BaseCommand, CommandError

from ticketing.checkin import services
from ticketing.checkin.admin import pairing_url, spaced
from ticketing.events.models import Promoter


class Command(BaseCommand):
    help = "Create a door device for a promoter and print its pairing code and QR code."

    def add_arguments(self, parser):
        parser.add_argument("promoter", help="The promoter's slug, e.g. demo-promotions.")
        parser.add_argument("name", help="Which door, e.g. 'Main door'.")
        parser.add_argument("--no-qr", action="store_true", help="Print the code only.")

    def handle(self, *args, promoter, name, no_qr, **options):
        found = Promoter.objects.filter(slug=promoter).first()
        if found is None:
            slugs = ", ".join(Promoter.objects.values_list("slug", flat=True)) or "none yet"
            raise CommandError(f"No promoter {promoter!r} (there are: {slugs}).")
        device = services.create_device(found, name)
        url = pairing_url(device)
        if not no_qr:
            segno.make(url, error="m").terminal(out=self.stdout, compact=True)
        self.stdout.write(f"Pairing code for {name} ({found}): {spaced(device.pairing_code)}")
        self.stdout.write(f"Open {url} on the door phone (single use, valid 24 hours).")
