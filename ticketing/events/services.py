"""Writes to the catalogue. Admin actions and commands call these; they hold the rules."""

from django.db import transaction
from django.utils.text import slugify

from .models import Event, TicketType
from .signals import catalogue_changed


def set_published(events, published: bool) -> int:
    """Publish or unpublish events; cancelled events are never published again."""
    queryset = events.exclude(status=Event.Status.CANCELLED) if published else events
    count = queryset.update(is_published=published)
    catalogue_changed.send(sender=Event)
    return count


def cancel_events(events) -> int:
    count = events.exclude(status=Event.Status.CANCELLED).update(status=Event.Status.CANCELLED)
    catalogue_changed.send(sender=Event)
    return count


def lock_for_capacity_change(event_id: int, ticket_type_ids) -> dict[int, int]:
    """Lock an event and some of its ticket types until commit, in the inventory's lock order
    (the event, then its types by id; see `ticketing.orders.services`), and return the seats
    each type has sold or held. A new capacity checked against these still holds when it is
    written: no fan can take a seat of a locked type before the commit."""
    list(Event.objects.select_for_update(no_key=True).filter(pk=event_id).values_list("pk"))
    rows = (
        TicketType.objects.select_for_update(no_key=True)
        .filter(event_id=event_id, pk__in=ticket_type_ids)
        .order_by("pk")
        .values_list("pk", "sold", "held")
    )
    return {pk: sold + held for pk, sold, held in rows}


def unique_event_slug(base: str) -> str:
    base = slugify(base)[:100] or "event"
    slug, n = base, 2
    while Event.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def duplicate_event(event: Event) -> Event:
    """Copy an event and its ticket types as an unpublished draft with empty inventory."""
    ticket_types = list(event.ticket_types.all())
    copy = Event.objects.get(pk=event.pk)
    copy.pk = None
    copy.slug = unique_event_slug(f"{event.slug}-copy")
    copy.is_published = False
    copy.status = Event.Status.SCHEDULED
    copy.save()
    for ticket_type in ticket_types:
        ticket_type.pk = None
        ticket_type.event = copy
        ticket_type.sold = ticket_type.held = 0
    TicketType.objects.bulk_create(ticket_types)
    return copy
