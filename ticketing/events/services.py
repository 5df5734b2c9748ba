"""Writes to the catalogue. Admin actions and commands call these; they hold the rules."""

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from .models import Artist, Event, TicketType, Tour, Venue
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


def event_slug(artist: Artist, venue: Venue, starts_at: dt.datetime) -> str:
    """The fan page's slug an event gets when none is typed: artist, city and local date."""
    day = timezone.localtime(starts_at, venue.zone).date()
    return slugify(f"{artist.slug}-{venue.city}-{day.isoformat()}")


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


SLUG_ATTEMPTS = 3


def save_event(event: Event) -> None:
    """Save an event; one without a slug gets `event_slug` (or -2, -3... when that is taken),
    which then stays: the fan page's address does not follow later changes of date or venue."""
    if event.slug:
        event.save()
        return
    for attempt in range(SLUG_ATTEMPTS):
        event.slug = unique_event_slug(event_slug(event.artist, event.venue, event.starts_at))
        try:
            with transaction.atomic():  # a savepoint: a lost race for the slug leaves no trace
                event.save()
            return
        except IntegrityError:
            # Another save took the same slug since we looked: take the next one.
            if attempt + 1 == SLUG_ATTEMPTS or not Event.objects.filter(slug=event.slug).exists():
                raise
            event.slug = ""


# --- Tours in minutes: an event copied to other dates and venues ---------------------------

# Ticket type fields a copy takes over; `sold` and `held` (not editable) start at zero.
COPIED_TICKET_TYPE_FIELDS = [
    f.name
    for f in TicketType._meta.concrete_fields
    if f.editable
    and not f.primary_key
    and f.name not in ("event", "sales_start_at", "sales_end_at")
]


def _wall_clock(moment: dt.datetime | None, zone) -> dt.datetime | None:
    return None if moment is None else timezone.localtime(moment, zone).replace(tzinfo=None)


def _at(wall_clock: dt.datetime | None, zone) -> dt.datetime | None:
    return None if wall_clock is None else timezone.make_aware(wall_clock, zone)


@dataclass(frozen=True)
class PlannedCopy:
    event: Event  # unsaved, without a slug
    ticket_types: list[TicketType]  # unsaved, without their event


def plan_copy(
    template: Event, *, venue: Venue, starts: dt.datetime, on_sale: dt.datetime | None = None
) -> PlannedCopy:
    """An unsaved draft of `template` at `venue`, starting at `starts`, the venue's wall-clock
    time (naive). Its moments follow the template's, in wall-clock time at the new venue:

    - doors and the close of sales keep their distance to the start (doors an hour before);
    - sales open at `on_sale` (the venue's wall-clock time), or at the template's own on-sale
      time read at the new venue; each ticket type's sales window keeps its distance to that.

    Raises ValidationError when the moments do not fit (sales opening after the show)."""
    old_zone, zone = template.venue.zone, venue.zone
    start = _wall_clock(template.starts_at, old_zone)
    opens = _wall_clock(template.on_sale_at, old_zone)
    new_opens = on_sale or opens

    def show_moment(moment):
        return (
            None if moment is None else _at(starts + (_wall_clock(moment, old_zone) - start), zone)
        )

    copy = Event(
        artist=template.artist,
        tour=template.tour,
        venue=venue,
        name=template.name,
        starts_at=_at(starts, zone),
        doors_at=show_moment(template.doors_at),
        on_sale_at=_at(new_opens, zone),
        off_sale_at=show_moment(template.off_sale_at),
        is_published=False,
        status=Event.Status.SCHEDULED,
        hold_minutes=template.hold_minutes,
    )
    copy.clean()

    def sale_moment(moment):
        return (
            None
            if moment is None
            else _at(new_opens + (_wall_clock(moment, old_zone) - opens), zone)
        )

    ticket_types = [
        TicketType(
            **{name: getattr(ticket_type, name) for name in COPIED_TICKET_TYPE_FIELDS},
            sales_start_at=sale_moment(ticket_type.sales_start_at),
            sales_end_at=sale_moment(ticket_type.sales_end_at),
        )
        for ticket_type in template.ticket_types.all()
    ]
    return PlannedCopy(copy, ticket_types)


@transaction.atomic
def save_copies(copies: list[PlannedCopy], *, tour: Tour | None = None) -> list[Event]:
    """Store drafts from `plan_copy` with their ticket types, each under a fresh slug; in
    `tour` if given, else in the template's."""
    for copy in copies:
        if tour is not None:
            copy.event.tour = tour
        save_event(copy.event)
        for ticket_type in copy.ticket_types:
            ticket_type.event = copy.event
        TicketType.objects.bulk_create(copy.ticket_types)
    return [copy.event for copy in copies]
