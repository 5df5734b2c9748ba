"""The checkout's one call into the waiting room: may this hold be made, and with which pass?

`orders.services.create_hold` calls `admit` once it knows the event. With the event's waiting
room on, a hold needs a valid admission pass; the pass's id goes on the hold, where a partial
unique constraint lets it make at most one active hold.
"""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from ticketing.site import public_url

from . import selectors, tokens
from .errors import QueueRequired


def admit(event, queue_pass, now=None) -> str | None:
    """The pass id for the hold, None when the event has no waiting room on; raises
    QueueRequired (403) when a pass is needed and this one is missing, forged, expired or
    another event's."""
    room = selectors.room(event.pk)
    if room is None or not room.enabled:
        return None
    now = now or timezone.now()
    admission = tokens.read_pass(queue_pass)
    if (
        admission is None
        or admission.event_id != event.pk
        or not admission.pass_id.startswith(f"{room.epoch}:")
    ):
        raise _required(event, _("Tickets for this event are sold through its waiting room: "
                                 "join the queue to get your turn."))  # fmt: skip
    if selectors.ms(now) >= admission.expires_ms:
        raise _required(event, _("Your turn in the waiting room has ended: join the queue again."))
    return admission.pass_id


def _required(event, message: str) -> QueueRequired:
    return QueueRequired(
        message,
        queue_url=public_url(reverse("orders:event", args=[event.slug])),
        queue_status_url=public_url(reverse("queue:status", args=[event.pk])),
    )
