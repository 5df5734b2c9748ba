"""schema.org `MusicEvent` for search engines (JSON-LD), so that the event page and the widget's
tour page show in Google and others as events with dates, place and tickets.

https://schema.org/MusicEvent; what Google reads: developers.google.com/search/docs/appearance/
structured-data/event. Moments carry the venue's UTC offset ("2026-12-08T20:00:00+01:00").
"""

import json

from django.conf import settings
from django.utils.safestring import mark_safe

from ticketing.events.money import minor_units

SCHEMA = "https://schema.org/"
EVENT_STATUS = {"scheduled": "EventScheduled", "postponed": "EventPostponed",
                "cancelled": "EventCancelled"}  # fmt: skip


def offer_availability(event, available: int, now) -> str:
    """What a ticket type's offer says: PreOrder before sales open, InStock (LimitedAvailability
    when few are left) or SoldOut while they are open, Discontinued once they are closed."""
    state = event.sales_state(now)
    if state == "not_yet_on_sale":
        return "PreOrder"
    if state != "on_sale":
        return "Discontinued"
    if available <= 0:
        return "SoldOut"
    return "LimitedAvailability" if available <= settings.WIDGET_FEW_LEFT else "InStock"


def _moment(value, zone) -> str:
    return value.astimezone(zone).isoformat(timespec="seconds")


def music_event(event, url: str, now, available: dict[int, int] | None = None) -> dict:
    """One event as a MusicEvent; `available` maps ticket type ids to seats left (lapsed holds
    counted as free), each type's counters if not given."""
    artist, venue = event.artist, event.venue
    zone = venue.zone
    available = available or {}
    performer = {"@type": "MusicGroup", "name": artist.name}
    if artist.website:
        performer["url"] = artist.website
    if artist.image_url:
        performer["image"] = artist.image_url
    address = {
        "@type": "PostalAddress",
        "streetAddress": venue.street_address,
        "postalCode": venue.postal_code,
        "addressLocality": venue.city,
        "addressRegion": venue.region,
        "addressCountry": venue.country,
    }
    data = {
        "@context": "https://schema.org",
        "@type": "MusicEvent",
        "name": event.display_name,
        "url": url,
        "startDate": _moment(event.starts_at, zone),
        "eventStatus": SCHEMA + EVENT_STATUS.get(event.status, "EventScheduled"),
        "eventAttendanceMode": SCHEMA + "OfflineEventAttendanceMode",
        "location": {
            "@type": "MusicVenue",
            "name": venue.name,
            "address": {key: value for key, value in address.items() if value},
        },
        "performer": performer,
        "organizer": {"@type": "Organization", "name": artist.promoter.name},
        "offers": [
            {
                "@type": "Offer",
                "name": ticket_type.name,
                "price": f"{ticket_type.price:.{minor_units(ticket_type.currency)}f}",
                "priceCurrency": ticket_type.currency,
                "availability": SCHEMA
                + offer_availability(
                    event, available.get(ticket_type.pk, ticket_type.remaining), now
                ),
                "validFrom": _moment(ticket_type.sales_start_at or event.on_sale_at, zone),
                "url": url,
            }
            for ticket_type in event.ticket_type_list
        ],
    }
    if event.doors_at:
        data["doorTime"] = _moment(event.doors_at, zone)
    if artist.image_url:
        data["image"] = [artist.image_url]
    if artist.bio:
        data["description"] = artist.bio
    if event.age_limit:
        data["typicalAgeRange"] = f"{event.age_limit}-"
    return data


def as_script(data) -> str:
    """`<script type="application/ld+json">`, safe inside HTML: `<`, `>` and `&` escaped as
    JSON escapes, so no text in the data can close the script element."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return mark_safe(f'<script type="application/ld+json">{text}</script>')  # noqa: S308
