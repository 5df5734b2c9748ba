"""AWS Lambda entry points of the refunds, called by Zappa with `(event, context)`.

- `resume_refund_jobs` runs every minute (a Zappa `events` schedule): it goes on with every
  refund job that is still running and not held by another runner.
- `run_refund_job` is what `jobs.kick` asks for asynchronously when a job starts
  (`{"command": "ticketing.refunds.handlers.run_refund_job", "job": id}`).
- `reconcile_payments` runs daily: the differences between our books and Stripe's, logged.
"""

from django.apps import apps

from ticketing.lambda_entry import setup_django

if not apps.ready:
    setup_django()

from . import reconcile, services


def resume_refund_jobs(event, context):
    return {"jobs": services.resume_refund_jobs()}


def run_refund_job(event, context):
    job_id = event.get("job")
    if not isinstance(job_id, int):
        return {"job": None}
    job = services.run_refund_job(job_id)
    return {"job": job_id, "state": job.state if job else "busy"}


def reconcile_payments(event, context):
    differences = reconcile.report()
    return {"differences": [difference.line() for difference in differences]}
