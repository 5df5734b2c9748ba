"""Demo data for a local run, the browser tests and the benchmarks.

Idempotent: every row is found by its natural key and brought to the same state, and dates are
anchored to the current day, so running it twice (the same day) leaves the same data.
"""

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from ticketing.orders import services

from .models import Affiliate, Artist, Event, Membership, Promoter, TicketType, Tour, Venue
from .services import event_slug

DEMO_ARTIST_SLUG = "demo-artist"
DEMO_AFFILIATE_KEY = "demo-affiliate"
DEMO_STAFF = ("demo", "demo")
OTHER_STAFF = ("north", "north")
SUPERUSER = ("admin", "admin")
DEMO_BOX_OFFICE = ("Demo box office", "box-office@demo.example")  # who bought the demo's sales

VENUES = [
    # name, city, region, country, time zone, capacity, street address, postal code
    ("Columbiahalle", "Berlin", "Berlin", "DE", "Europe/Berlin", 3500,
     "Columbiadamm 13–21", "10965"),
    ("O2 Forum Kentish Town", "London", "England", "GB", "Europe/London", 2300,
     "9–17 Highgate Road", "NW5 1JY"),
    ("Paradiso", "Amsterdam", "North Holland", "NL", "Europe/Amsterdam", 1500,
     "Weteringschans 6–8", "1017 SG"),
    ("Bowery Ballroom", "New York", "NY", "US", "America/New_York", 575,
     "6 Delancey Street", "10002"),
    ("Metro", "Chicago", "IL", "US", "America/Chicago", 1100, "3730 N Clark Street", "60613"),
    ("The Fonda Theatre", "Los Angeles", "CA", "US", "America/Los_Angeles", 1200,
     "6126 Hollywood Boulevard", "90028"),
    ("Liquidroom", "Tokyo", "Tokyo", "JP", "Asia/Tokyo", 900, "3-16-6 Higashi, Shibuya",
     "150-0011"),
    ("The Enmore Theatre", "Sydney", "NSW", "AU", "Australia/Sydney", 2500,
     "118–132 Enmore Road, Newtown", "2042"),
]  # fmt: skip


@dataclass(frozen=True)
class DemoEvent:
    venue: int  # index into VENUES
    days_ahead: int
    state: str = "on_sale"  # on_sale | few_left | sold_out | later | cancelled | postponed
    published: bool = True


DEMO_EVENTS = [
    DemoEvent(0, 7),
    DemoEvent(1, 9, "few_left"),
    DemoEvent(2, 11),
    DemoEvent(0, 13, "sold_out"),
    DemoEvent(3, 16),
    DemoEvent(4, 18),
    DemoEvent(5, 21, "later"),
    DemoEvent(6, 26),
    DemoEvent(7, 29, "cancelled"),
    DemoEvent(1, 33, "postponed"),
    DemoEvent(2, 36),
    DemoEvent(3, 40),
    DemoEvent(5, 45),
    DemoEvent(6, 50, published=False),
]

CURRENCIES = {"US": "USD", "GB": "GBP", "JP": "JPY", "AU": "AUD"}
# General admission and VIP prices in each currency (yen have no minor unit).
PRICES = {
    "EUR": (Decimal("39.50"), Decimal("119.00")),
    "USD": (Decimal("45.00"), Decimal("135.00")),
    "GBP": (Decimal("35.00"), Decimal("105.00")),
    "JPY": (Decimal("6500"), Decimal("19000")),
    "AUD": (Decimal("69.00"), Decimal("199.00")),
}

DEMO_BIO = (
    "Four friends, two guitars and a drum machine they refuse to retire: Demo Artist play loud, "
    "bright indie rock and have sold out every room they played on their last tour."
)
OTHER_BIO = "Aurora Skies make slow-burning electronic pop for long nights and northern lights."
# The London and Tokyo shows are for adults only, as venues there often ask.
AGE_LIMITS = {"London": 18, "Tokyo": 20}

OTHER_EVENTS = [DemoEvent(0, 8), DemoEvent(1, 15), DemoEvent(2, 22)]


def local_moment(day: dt.date, hour: int, zone: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=zoneinfo.ZoneInfo(zone))


@transaction.atomic
def seed_demo(*, with_superuser: bool = False) -> dict:
    today = timezone.now().date()
    user_model = get_user_model()

    demo = _promoter("Demo Promotions", "demo-promotions")
    other = _promoter("Northern Lights Live", "northern-lights-live")
    _staff(user_model, DEMO_STAFF, demo, Membership.Role.OWNER)
    _staff(user_model, OTHER_STAFF, other, Membership.Role.OWNER)
    if with_superuser:
        admin = _user(user_model, SUPERUSER)
        user_model.objects.filter(pk=admin.pk).update(is_staff=True, is_superuser=True)

    artist = _artist(demo, "Demo Artist", DEMO_ARTIST_SLUG, DEMO_BIO)
    tour = Tour.objects.update_or_create(artist=artist, name="World Tour 2027")[0]
    venues = [_venue(demo, *row) for row in VENUES]
    for spec in DEMO_EVENTS:
        _event(artist, tour, venues[spec.venue], spec, today)
    Affiliate.objects.update_or_create(
        public_key=DEMO_AFFILIATE_KEY,
        defaults={"promoter": demo, "name": "Demo Fan Site", "domain": "fans.example"},
    )

    other_artist = _artist(other, "Aurora Skies", "aurora-skies", OTHER_BIO)
    other_venues = [_venue(other, *row) for row in VENUES[:3]]
    for spec in OTHER_EVENTS:
        _event(other_artist, None, other_venues[spec.venue], spec, today)

    return {
        "promoters": Promoter.objects.count(),
        "artists": Artist.objects.count(),
        "events": Event.objects.count(),
    }


def _promoter(name, slug):
    return Promoter.objects.update_or_create(slug=slug, defaults={"name": name})[0]


def _user(user_model, credentials):
    username, password = credentials
    user, _ = user_model.objects.get_or_create(username=username)
    if not user.check_password(password):
        user.set_password(password)
    user.is_staff = True
    user.save()
    return user


def _staff(user_model, credentials, promoter, role):
    user = _user(user_model, credentials)
    Membership.objects.update_or_create(user=user, promoter=promoter, defaults={"role": role})


def _artist(promoter, name, slug, bio):
    return Artist.objects.update_or_create(
        slug=slug,
        defaults={
            "promoter": promoter,
            "name": name,
            "website": f"https://{slug}.example",
            "bio": bio,
        },
    )[0]


def _venue(promoter, name, city, region, country, zone, capacity, street, postal_code):
    return Venue.objects.update_or_create(
        promoter=promoter,
        name=name,
        city=city,
        defaults={"region": region, "country": country, "time_zone": zone, "capacity": capacity,
                  "street_address": street, "postal_code": postal_code},
    )[0]  # fmt: skip


def _event(artist, tour, venue, spec: DemoEvent, today: dt.date):
    day = today + dt.timedelta(days=spec.days_ahead)
    starts_at = local_moment(day, 20, venue.time_zone)
    if spec.state == "later":
        on_sale_at = local_moment(today + dt.timedelta(days=2), 10, venue.time_zone)
    else:
        on_sale_at = local_moment(today - dt.timedelta(days=30), 10, venue.time_zone)
    status = {"cancelled": Event.Status.CANCELLED, "postponed": Event.Status.POSTPONED}.get(
        spec.state, Event.Status.SCHEDULED
    )
    event, _ = Event.objects.update_or_create(
        slug=event_slug(artist, venue, starts_at),
        defaults={
            "artist": artist,
            "tour": tour,
            "venue": venue,
            "name": "",
            "starts_at": starts_at,
            "doors_at": starts_at - dt.timedelta(hours=1),
            "on_sale_at": on_sale_at,
            "off_sale_at": None,
            "is_published": spec.published,
            "status": status,
            "age_limit": AGE_LIMITS.get(venue.city),
        },
    )
    general_capacity = min(venue.capacity or 1000, 2000) - 100
    currency = CURRENCIES.get(venue.country, "EUR")
    general_price, vip_price = PRICES[currency]
    types = [
        ("General admission", general_price, general_capacity, 8),
        ("VIP", vip_price, 100, 4),
    ]
    for position, (name, price, capacity, max_per_order) in enumerate(types):
        ticket_type, _ = TicketType.objects.update_or_create(
            event=event,
            name=name,
            defaults={
                "price": price,
                "currency": currency,
                "capacity": capacity,
                "max_per_order": max_per_order,
                "position": position,
            },
        )
        _sell(ticket_type, spec, event)
    return event


def _sell(ticket_type: TicketType, spec: DemoEvent, event: Event) -> None:
    """Bring the demo's sales up to what the event shows, as a box-office order sold when sales
    opened: the counters move only through the inventory code, so `sold` stays the tickets of
    confirmed orders. Sales made since (fans in a local run) and live holds are kept."""
    if spec.state in ("later", "cancelled") or not spec.published:
        return  # nothing sold yet, or given back
    capacity = ticket_type.capacity
    wanted = {"sold_out": capacity, "few_left": capacity - 3}.get(spec.state, capacity // 4)
    missing = min(wanted, capacity - ticket_type.held) - ticket_type.sold
    if missing > 0:
        services.issue_tickets(
            ticket_type, missing, name=DEMO_BOX_OFFICE[0], email=DEMO_BOX_OFFICE[1],
            now=event.on_sale_at,
        )  # fmt: skip
