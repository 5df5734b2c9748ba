"""Getting a refund job going right after it is started, off the admin's request path, the way
the outbox prompts its emails (`ticketing/outbox/prompt.py`, `OUTBOX_PROMPT`):

- `lambda`: an asynchronous invocation of this function runs `handlers.run_refund_job`;
- `thread`: a thread of this process runs it (dev server, gunicorn);
- `inline`: it runs before the request finishes (tests);
- `off`: nothing; the schedule (`handlers.resume_refund_jobs`, every minute;
  `manage.py run_refund_jobs` locally) picks it up.

Whatever happens here, the job row exists and its lease is free: the schedule resumes it.
"""

import logging
import threading

from django.db import connection, transaction

from ticketing.outbox import prompt

logger = logging.getLogger(__name__)

RUN_JOB_COMMAND = "ticketing.refunds.handlers.run_refund_job"


def kick(job_id: int) -> None:
    transaction.on_commit(lambda: _run_soon(job_id), robust=True)


def _run_soon(job_id: int) -> None:
    from .services import run_refund_job

    how = prompt.mode()
    if how == "inline":
        run_refund_job(job_id)
    elif how == "thread":
        threading.Thread(target=_in_thread, args=(job_id,), name="refund-job", daemon=True).start()
    elif how == "lambda":
        prompt.invoke_async(
            RUN_JOB_COMMAND,
            {"job": job_id},
            failure=f"refund job {job_id}: could not invoke a runner; the schedule resumes it",
        )


def _in_thread(job_id: int) -> None:
    from .services import run_refund_job

    try:
        # A thread has no 30 s limit: run the job to its end, a budget at a time.
        done = -1
        while (job := run_refund_job(job_id)) is not None and job.state == job.State.RUNNING:
            if job.orders_done == done:  # no progress (Stripe unreachable): the schedule retries
                break
            done = job.orders_done
    except Exception:
        logger.exception("refund job %s: the runner thread stopped", job_id)
    finally:
        connection.close()
