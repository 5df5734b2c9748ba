"""The signed things a fan's browser keeps: the queue ticket (their place) and the admission
pass (the right to one hold, until the admission window ends). Signed with the site's key
(django.core.signing, salted per kind), so nothing about a fan is stored on the server."""

from dataclasses import dataclass

from django.core import signing

TICKET_SALT = "ticketing.queue.ticket"
PASS_SALT = "ticketing.queue.pass"  # noqa: S105 (a salt, not a secret)
MAX_LENGTH = 400


@dataclass(frozen=True)
class QueueTicket:
    event_id: int
    epoch: str
    kind: str  # counters.PRE or counters.FIFO
    number: int  # 1-based arrival number of its kind
    issued_ms: int

    @property
    def pass_id(self) -> str:
        """What a hold made with this ticket's pass records (unique among active holds)."""
        return f"{self.epoch}:{self.kind[0]}{self.number}"


def sign_ticket(ticket: QueueTicket) -> str:
    payload = {"e": ticket.event_id, "c": ticket.epoch, "k": ticket.kind, "n": ticket.number,
               "t": ticket.issued_ms}  # fmt: skip
    return signing.dumps(payload, salt=TICKET_SALT)


def read_ticket(text) -> QueueTicket | None:
    payload = _loads(text, TICKET_SALT)
    try:
        return QueueTicket(int(payload["e"]), str(payload["c"]), str(payload["k"]),
                           int(payload["n"]), int(payload["t"]))  # fmt: skip
    except (KeyError, TypeError, ValueError):
        return None


@dataclass(frozen=True)
class AdmissionPass:
    event_id: int
    pass_id: str
    expires_ms: int


def sign_pass(admission: AdmissionPass) -> str:
    payload = {"e": admission.event_id, "q": admission.pass_id, "x": admission.expires_ms}
    return signing.dumps(payload, salt=PASS_SALT)


def read_pass(text) -> AdmissionPass | None:
    payload = _loads(text, PASS_SALT)
    try:
        return AdmissionPass(int(payload["e"]), str(payload["q"]), int(payload["x"]))
    except (KeyError, TypeError, ValueError):
        return None


def _loads(text, salt) -> dict:
    if not isinstance(text, str) or not 0 < len(text) <= MAX_LENGTH:
        return {}
    try:
        payload = signing.loads(text, salt=salt)
    except signing.BadSignature:
        return {}
    return payload if isinstance(payload, dict) else {}
