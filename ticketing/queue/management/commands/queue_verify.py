"""Check a waiting room's draw as anyone can: the seed against its commitment, then the order.

    manage.py queue_verify --seed <hex> --commitment <hex> --count N [--number n]

Needs nothing but the published values (no database): prints whether the seed matches the
commitment, then the pre-queue's admission order (arrival numbers, 1-based), or where arrival
`--number` stands.
"""

from django.core.management.base import BaseCommand, CommandError

from ticketing.queue import draw


class Command(BaseCommand):
    help = "Verify a waiting room's draw from its published commitment, seed and size."

    def add_arguments(self, parser):
        parser.add_argument("--seed", required=True, help="The published seed (64 hex digits).")
        parser.add_argument("--commitment", help="The commitment published before the draw.")
        parser.add_argument("--count", type=int, required=True, help="pre_queue_count.")
        parser.add_argument("--number", type=int, help="One arrival number (1-based) to place.")

    def handle(self, *args, seed, commitment, count, number, **options):
        try:
            seed_bytes = bytes.fromhex(seed)
        except ValueError:
            raise CommandError("The seed is hex digits.") from None
        if count < 1 or count > draw.MAX_COUNT:
            raise CommandError("The count is a positive number of arrivals.")
        if commitment is not None:
            if draw.commitment(seed_bytes) != commitment.lower():
                raise CommandError("The seed does NOT match the commitment.")
            self.stdout.write("The seed matches the commitment.")
        if number is not None:
            if not 1 <= number <= count:
                raise CommandError("The arrival number is between 1 and the count.")
            place = draw.position(seed_bytes, count, number - 1)
            self.stdout.write(f"Arrival {number} stands at position {place} (0-based).")
            return
        for place, index in enumerate(draw.order(seed_bytes, count)):
            self.stdout.write(f"{place}\t{index + 1}")
