from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ticketing.orders import ticket_codes


class Command(BaseCommand):
    help = (
        "Print a new Ed25519 ticket signing key as a TICKET_SIGNING_KEYS entry (key-id:key). "
        "Put it first in TICKET_SIGNING_KEYS and keep the old keys after it (docs/deploy.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "key_id", nargs="?", help="1 to 16 letters, digits, - or _ (default: k<today>)."
        )

    def handle(self, *args, key_id=None, **options):
        try:
            self.stdout.write(ticket_codes.new_key_entry(key_id or f"k{timezone.now():%Y%m%d}"))
        except ValueError as error:
            raise CommandError(str(error)) from None
