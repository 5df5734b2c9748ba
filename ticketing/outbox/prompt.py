"""The first attempt at an email, right after its transaction commits, off the request path.

`OUTBOX_PROMPT` chooses how (`auto`: `lambda` on AWS Lambda, else `thread`):

- `lambda`: an asynchronous invocation of this very function (`InvocationType=Event`, which
  Lambda queues and answers at once) runs `handlers.send_emails`. The call is bounded by tight
  timeouts; if it fails, the email waits for the scheduled drain (every minute).
- `thread`: a sender thread of this process (dev server, gunicorn) sends it.
- `inline`: sent in the committing thread, before the request finishes (tests).
- `off`: nothing; the drain sends it.

Whatever happens here, the email is already stored: a prompt that fails or never runs (the
process dies) only leaves it to the drain.
"""

import json
import logging
import os
import queue
import threading
from functools import cache

from django.conf import settings
from django.db import connection, transaction

logger = logging.getLogger(__name__)

INVOKE_TIMEOUT_SECONDS = 0.25  # connect, and again read: Lambda answers an Event invoke in ~20 ms
SEND_EMAILS_COMMAND = "ticketing.outbox.handlers.send_emails"  # run by Zappa's handler


def after_commit(ids: list[int]) -> None:
    transaction.on_commit(lambda: send_soon(ids), robust=True)


def mode() -> str:
    if settings.OUTBOX_PROMPT != "auto":
        return settings.OUTBOX_PROMPT
    return "lambda" if os.environ.get("AWS_LAMBDA_FUNCTION_NAME") else "thread"


def send_soon(ids: list[int]) -> None:
    how = mode()
    if how == "inline":
        from .services import send_emails

        send_emails(ids)
    elif how == "thread":
        sender().submit(ids)
    elif how == "lambda":
        invoke_self(ids)


# --- On Lambda: an asynchronous invocation of this function -----------------------------------


def invoke_self(ids: list[int]) -> bool:
    """Hand the emails to an asynchronous invocation; False (logged) if Lambda did not take it."""
    return invoke_async(
        SEND_EMAILS_COMMAND,
        {"emails": ids},
        failure=f"outbox: could not invoke the sender for email(s) {ids}; the drain sends them",
    )


def invoke_async(command: str, arguments: dict, *, failure: str) -> bool:
    """Run `command` (a function Zappa's handler calls with the event) in an asynchronous
    invocation of this function; False, with `failure` logged, if Lambda did not take it. The
    caller's work is stored already, so a scheduled job picks it up then."""
    try:
        lambda_client().invoke(
            FunctionName=os.environ["AWS_LAMBDA_FUNCTION_NAME"],
            InvocationType="Event",
            Payload=json.dumps({"command": command, **arguments}).encode(),
        )
    except Exception as error:  # botocore errors, timeouts, refused connections
        logger.warning("%s (%s)", failure, error)
        return False
    return True


@cache
def lambda_client():
    """A Lambda client that gives up fast: this call is on the request path."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=INVOKE_TIMEOUT_SECONDS, read_timeout=INVOKE_TIMEOUT_SECONDS,
        retries={"total_max_attempts": 1},
    )  # fmt: skip
    return boto3.session.Session().client("lambda", config=config)


# --- In a long-running process: a sender thread ---------------------------------------------


class SenderThread:
    """Sends the emails handed to it, in the background; what is queued together goes over one
    connection."""

    def __init__(self):
        self._queue: queue.SimpleQueue[list[int]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._unfinished = 0
        self._idle = threading.Event()
        self._idle.set()
        self._thread: threading.Thread | None = None

    def submit(self, ids: list[int]) -> None:
        with self._lock:
            self._unfinished += 1
            self._idle.clear()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="outbox-sender", daemon=True)
                self._thread.start()
        self._queue.put(ids)

    def wait_until_idle(self, timeout: float) -> bool:
        """Whether everything submitted was attempted within `timeout` seconds."""
        return self._idle.wait(timeout)

    def _run(self) -> None:
        from .services import send_emails

        while True:
            batches = [self._queue.get()]
            while not self._queue.empty():
                batches.append(self._queue.get())
            try:
                send_emails([pk for batch in batches for pk in batch])
            except Exception:  # the database is gone: the drain sends them later
                logger.exception("outbox: the sender thread could not send")
            finally:
                connection.close()  # this thread's own connection: none kept between batches
                with self._lock:
                    self._unfinished -= len(batches)
                    if not self._unfinished:
                        self._idle.set()


_sender: SenderThread | None = None
_sender_lock = threading.Lock()


def sender() -> SenderThread:
    global _sender
    if _sender is None:
        with _sender_lock:
            if _sender is None:
                _sender = SenderThread()
    return _sender


def _forget_sender_in_child() -> None:
    # A forked worker starts its own thread; the parent's does not exist in the child.
    global _sender
    _sender = None


os.register_at_fork(after_in_child=_forget_sender_in_child)
