from django.core.management.base import BaseCommand

from ticketing.refunds import services
from ticketing.refunds.models import RefundJob


class Command(BaseCommand):
    help = (
        "Go on with the running refund jobs of cancelled events (on Lambda: every minute). "
        "Resumable: stop it at any point and run it again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--job", type=int, help="Only this job.")
        parser.add_argument("--max-orders", type=int, help="Stop after refunding this many.")
        parser.add_argument("--budget", type=float, default=services.JOB_BUDGET_SECONDS)

    def handle(self, *args, job=None, max_orders=None, budget=None, **options):
        jobs = RefundJob.objects.filter(state=RefundJob.State.RUNNING)
        if job:
            jobs = jobs.filter(pk=job)
        for job_id in jobs.values_list("pk", flat=True):
            ran = services.run_refund_job(job_id, budget_seconds=budget, max_orders=max_orders)
            if ran is None:
                self.stdout.write(f"job {job_id}: another runner has it")
            else:
                self.stdout.write(
                    f"job {job_id}: {ran.orders_done}/{ran.orders_total} orders refunded, "
                    f"{ran.state}"
                )
