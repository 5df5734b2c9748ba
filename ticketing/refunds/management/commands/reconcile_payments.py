from django.core.management.base import BaseCommand

from ticketing.refunds import reconcile


class Command(BaseCommand):
    help = (
        "List every difference between our payments and refunds and Stripe's records (daily; "
        "exit status 1 if there is any)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=30, help="Orders of the last N days.")

    def handle(self, *args, days=30, **options):
        differences = reconcile.report(days=days)
        for difference in differences:
            self.stdout.write(difference.line())
        if differences:
            self.stderr.write(f"{len(differences)} difference(s).")
            raise SystemExit(1)
        self.stdout.write("No differences.")
