from django.conf import settings
from django.core.management.base import BaseCommand

from ticketing.events import demo


class Command(BaseCommand):
    help = "Create or refresh the demo promoters, artists, venues and events (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--superuser",
            action="store_true",
            help="Also create the local superuser (always done when DEBUG is on).",
        )

    def handle(self, *args, superuser=False, **options):
        with_superuser = superuser or settings.DEBUG
        counts = demo.seed_demo(with_superuser=with_superuser)
        self.stdout.write(
            self.style.SUCCESS(
                "Demo data ready: " + ", ".join(f"{n} {name}" for name, n in counts.items())
            )
        )
        self.stdout.write(f"  promoter staff (Demo Promotions):      {'/'.join(demo.DEMO_STAFF)}")
        self.stdout.write(f"  promoter staff (Northern Lights Live): {'/'.join(demo.OTHER_STAFF)}")
        if with_superuser:
            self.stdout.write(
                f"  superuser (local only):                {'/'.join(demo.SUPERUSER)}"
            )
        self.stdout.write(
            f"  widget artist slug: {demo.DEMO_ARTIST_SLUG}, "
            f"affiliate key: {demo.DEMO_AFFILIATE_KEY}"
        )
