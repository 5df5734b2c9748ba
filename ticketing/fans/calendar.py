"""“Add to calendar”: an event, or a fan's order for it, as an iCalendar file (RFC 5545).

The show's start is written in the venue's own time zone (`DTSTART;TZID=Europe/Berlin:…`, with
its VTIMEZONE), so every calendar shows it at the right moment wherever the fan is. The event and
an order for it share one UID: importing the order after the event updates the same entry, now
with the link to the tickets. Texts are in the active language.
"""

import datetime as dt
from urllib.parse import urlsplit

from django.utils import timezone
from django.utils.translation import gettext as _

from . import formats

PRODID = "-//Ticketing//Fan pages//EN"
# Events have no end time of their own; calendars show an evening of this length.
SHOW_LENGTH = dt.timedelta(hours=3)
STATUS = {"scheduled": "CONFIRMED", "postponed": "TENTATIVE", "cancelled": "CANCELLED"}
CONTENT_TYPE = "text/calendar; charset=utf-8"


def event_calendar(event, event_url: str) -> bytes:
    return _calendar(event, event_url, _description(event, event_url))


def order_calendar(order, order_url: str, event_url: str) -> bytes:
    lines = [
        _("Order %(code)s: %(count)s ticket(s)") % {"code": order.code,
                                                     "count": len(order.tickets.all())},
        _("Your tickets: %(url)s") % {"url": order_url},
    ]  # fmt: skip
    return _calendar(order.event, event_url, "\n".join([*lines, _description(order.event, "")]))


def _description(event, event_url: str) -> str:
    zone = event.venue.zone
    lines = []
    if event.doors_at:
        lines.append(_("Doors: %(time)s") % {"time": formats.time(event.doors_at, zone)})
    if event.age_limit:
        lines.append(_("Age limit: %(age)s+") % {"age": event.age_limit})
    if event_url:
        lines.append(event_url)
    return "\n".join(lines)


def _calendar(event, event_url: str, description: str) -> bytes:
    # Imported here (about 30 ms): every fan page and email module imports this one, and a cold
    # Lambda container answering the widget API or /healthz should not pay for it.
    import icalendar

    venue = event.venue
    zone = venue.zone
    starts_at = event.starts_at.astimezone(zone)
    uid = f"event-{event.pk}@{urlsplit(event_url).hostname or 'localhost'}"
    component = icalendar.Event.new(
        uid=uid,
        summary=f"{event.artist.name} – {venue.name}",
        start=starts_at,
        end=starts_at + SHOW_LENGTH,
        stamp=timezone.now(),
        last_modified=event.updated_at,
        location=", ".join([venue.name, *venue.address_lines, venue.country]),
        description=description,
        url=event_url,
        status=STATUS.get(event.status, "CONFIRMED"),
    )
    calendar = icalendar.Calendar.new(prodid=PRODID, method="PUBLISH", uid=f"calendar-{uid}")
    calendar.add_component(component)
    # The zone's rules around the show only: a VTIMEZONE from 1970 on is kilobytes of RDATEs.
    day = starts_at.date()
    calendar.add_missing_timezones(
        first_date=day - dt.timedelta(days=366), last_date=day + dt.timedelta(days=366)
    )
    return calendar.to_ical()
