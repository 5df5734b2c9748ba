import signal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ticketing.tracking.consumer import ShardPoller


class Command(BaseCommand):
    help = (
        "Read the tracking stream (every shard, from its checkpoint) and count the hits. "
        "Ctrl-C stops after the batch in hand, with its checkpoint saved."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--stream", default=settings.TRACKING_STREAM,
            help="Kinesis stream name (default: TRACKING_STREAM).",
        )  # fmt: skip
        parser.add_argument(
            "--once", action="store_true", help="Read every shard until caught up, then exit."
        )
        parser.add_argument(
            "--progress-seconds", type=float, default=5.0, help="Seconds between progress lines."
        )

    def handle(self, *args, stream, once, progress_seconds, **options):
        if not stream:
            raise CommandError("No stream: pass --stream NAME or set TRACKING_STREAM.")
        poller = ShardPoller(stream, progress_seconds=progress_seconds, report=self.stdout.write)

        def stop(signum, frame):
            self.stderr.write("Stopping after the batch in hand…")
            poller.stop.set()
            signal.signal(signum, signal.SIG_DFL)  # a second Ctrl-C ends it at once

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            poller.run(once=once)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
