"""Venue-local time in the back office: a show typed as 20:00 at a venue is 20:00 there in the
admin, in the widget API and on the fan's event page, whatever the venue's zone and season."""

import datetime as dt
import zoneinfo

import pytest
from django.urls import reverse

from ticketing.events.models import Event, Membership, TicketType, Venue

from .conftest import make_catalogue, make_event, make_staff
from .widget_helpers import api_url, empty_origin_cache  # noqa: F401 (autouse fixture)

pytestmark = pytest.mark.django_db

ADD = reverse("admin:events_event_add")
CHANGELIST = reverse("admin:events_event_changelist")


def us_dst_start(year: int) -> dt.date:
    """The second Sunday of March: clocks in the US go forward that night."""
    first = dt.date(year, 3, 1)
    return first + dt.timedelta(days=(6 - first.weekday()) % 7 + 7)


YEAR = dt.date.today().year + 2  # always ahead, so the widget lists the events
SHOWS = [
    # (venue's city, zone, local date, what the widget API says of 20:00 there)
    ("Berlin", "Europe/Berlin", dt.date(YEAR, 12, 8), "+01:00"),  # winter time
    ("Berlin", "Europe/Berlin", dt.date(YEAR, 7, 8), "+02:00"),  # summer time
    ("Tokyo", "Asia/Tokyo", dt.date(YEAR, 12, 8), "+09:00"),
    ("Los Angeles", "America/Los_Angeles", us_dst_start(YEAR) - dt.timedelta(days=1), "-08:00"),
    ("Los Angeles", "America/Los_Angeles", us_dst_start(YEAR) + dt.timedelta(days=1), "-07:00"),
]


@pytest.fixture
def shop(db):
    catalogue = make_catalogue("alpha", events=0)
    user = make_staff("manager-a", catalogue["promoter"], Membership.Role.MANAGER)
    return {**catalogue, "user": user}


def add_venue(promoter, city, zone):
    return Venue.objects.create(promoter=promoter, name=f"{city} hall", city=city, country="XX",
                                time_zone=zone)  # fmt: skip


def event_form(artist, venue, day: dt.date, time="20:00", **extra) -> dict:
    """The add form as a promoter fills it: no slug, no on-sale moment (sales open on save),
    one ticket type."""
    data = {
        "artist": artist.pk, "venue": venue.pk, "name": "", "slug": "",
        "starts_at_0": day.isoformat(), "starts_at_1": time,
        "doors_at_0": day.isoformat(), "doors_at_1": "19:00",
        "on_sale_at_0": "", "on_sale_at_1": "", "off_sale_at_0": "", "off_sale_at_1": "",
        "is_published": "on", "status": "scheduled", "hold_minutes": "10", "payment_minutes": "15",
        "ticket_types-TOTAL_FORMS": "1", "ticket_types-INITIAL_FORMS": "0",
        "ticket_types-MIN_NUM_FORMS": "0", "ticket_types-MAX_NUM_FORMS": "1000",
        "ticket_types-0-name": "GA", "ticket_types-0-price": "30.00",
        "ticket_types-0-currency": "EUR", "ticket_types-0-capacity": "100",
        "ticket_types-0-max_per_order": "6", "ticket_types-0-position": "0",
        "ticket_types-0-sales_start_at_0": "", "ticket_types-0-sales_start_at_1": "",
        "ticket_types-0-sales_end_at_0": "", "ticket_types-0-sales_end_at_1": "",
    }  # fmt: skip
    data.update(extra)
    return data


@pytest.mark.parametrize(("city", "zone", "day", "offset"), SHOWS)
def test_a_show_typed_as_2000_is_2000_at_the_venue_everywhere(client, shop, city, zone, day,
                                                              offset):  # fmt: skip
    venue = add_venue(shop["promoter"], city, zone)
    client.force_login(shop["user"])

    response = client.post(ADD, event_form(shop["artist"], venue, day))

    assert response.status_code == 302, response.context["adminform"].form.errors
    event = Event.objects.get()
    local_start = dt.datetime.combine(day, dt.time(20), zoneinfo.ZoneInfo(zone))
    assert event.starts_at == local_start  # stored as that moment (UTC in the database)
    assert event.starts_at.astimezone(dt.UTC).hour != 20 or offset == "+00:00"
    # The slug was made from the artist, the city and the local date.
    assert event.slug == f"{shop['artist'].slug}-{city.lower().replace(' ', '-')}-{day}"

    # The admin shows the time as typed, labelled with the venue's zone...
    change = client.get(reverse("admin:events_event_change", args=[event.pk])).content.decode()
    assert 'name="starts_at_1" value="20:00:00"' in change
    assert 'name="doors_at_1" value="19:00:00"' in change
    assert f"data-venue-zone>{zone}</span>" in change
    listing = client.get(CHANGELIST).content.decode()
    assert f'{day:%a} {day.day} {day:%b %Y}, 20:00<br><span class="quiet">{zone}</span>' in listing

    # ...the widget API says the same moment with the venue's offset that day...
    widget_event = client.get(api_url(shop["artist"].slug)).json()["events"][0]
    assert widget_event["starts_at"] == f"{day}T20:00:00{offset}"
    assert widget_event["time_zone"] == zone

    # ...and so does the fan's event page.
    page = client.get(reverse("orders:event", args=[event.slug]), {"lang": "en"}).content.decode()
    assert "20:00" in page and "Doors 19:00" in page


def test_moving_an_event_to_another_zone_keeps_its_wall_clock_times(client, shop):
    berlin = add_venue(shop["promoter"], "Berlin", "Europe/Berlin")
    tokyo = add_venue(shop["promoter"], "Tokyo", "Asia/Tokyo")
    day = dt.date(YEAR, 12, 8)
    client.force_login(shop["user"])
    sales_start = {"ticket_types-0-sales_start_at_0": f"{YEAR}-06-01",
                   "ticket_types-0-sales_start_at_1": "10:00"}  # fmt: skip
    client.post(ADD, event_form(shop["artist"], berlin, day, **sales_start))
    event = Event.objects.get()
    ticket_type = event.ticket_types.get()
    url = reverse("admin:events_event_change", args=[event.pk])

    # The promoter changes only the venue and saves the form as it reads.
    form = event_form(shop["artist"], tokyo, day, **sales_start)
    form.update({
        "slug": event.slug, "on_sale_at_0": f"{event.on_sale_at:%Y-%m-%d}",
        "on_sale_at_1": f"{timezone_local(event.on_sale_at, 'Europe/Berlin'):%H:%M:%S}",
        "ticket_types-INITIAL_FORMS": "1", "ticket_types-0-id": ticket_type.pk,
        "ticket_types-0-event": event.pk,
    })  # fmt: skip
    response = client.post(url, form, follow=True)

    event.refresh_from_db()
    ticket_type.refresh_from_db()
    tokyo_zone = zoneinfo.ZoneInfo("Asia/Tokyo")
    assert event.venue == tokyo
    assert event.starts_at == dt.datetime.combine(day, dt.time(20), tokyo_zone)
    assert event.doors_at == dt.datetime.combine(day, dt.time(19), tokyo_zone)
    assert ticket_type.sales_start_at == dt.datetime(YEAR, 6, 1, 10, tzinfo=tokyo_zone)
    messages = [str(m) for m in response.context["messages"]]
    assert any(
        "moved from Europe/Berlin to Asia/Tokyo" in m and "20:00 Asia/Tokyo" in m for m in messages
    ), messages
    assert event.slug == f"{shop['artist'].slug}-berlin-{day}"  # the fan page's address stays


def timezone_local(moment, zone):
    return moment.astimezone(zoneinfo.ZoneInfo(zone))


def test_a_time_that_does_not_exist_at_the_venue_is_refused(client, shop):
    """02:30 on the night US clocks go forward never happens in Los Angeles."""
    venue = add_venue(shop["promoter"], "Los Angeles", "America/Los_Angeles")
    client.force_login(shop["user"])
    response = client.post(ADD, event_form(shop["artist"], venue, us_dst_start(YEAR), "02:30",
                                           doors_at_0="", doors_at_1=""))  # fmt: skip
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["starts_at"]
    assert "America/Los_Angeles" in errors[0] and "may not exist" in errors[0]
    assert not Event.objects.exists()


def test_the_add_form_says_how_times_are_read(client, shop):
    add_venue(shop["promoter"], "Tokyo", "Asia/Tokyo")  # venues in two zones: not known yet
    client.force_login(shop["user"])
    page = client.get(ADD).content.decode()
    assert "they are read in the time zone of the venue chosen above when you save" in page
    assert "data-venue-zone>venue time</span>" in page
    # The page knows each venue's zone, to relabel the times as soon as one is picked.
    assert '"Asia/Tokyo", 32400]' in page and '"Europe/Berlin", ' in page
    # Help texts render whole (the admin renders them as HTML: no <slug> swallowed).
    assert "The fan page’s address: /e/this-slug/." in page


def test_a_promoter_whose_venues_share_a_zone_sees_it_on_the_add_form(client, shop):
    client.force_login(shop["user"])
    page = client.get(ADD).content.decode()
    assert "data-venue-zone>Europe/Berlin</span>" in page
    assert 'data-admin-utc-offset="3600"' in page or 'data-admin-utc-offset="7200"' in page


def test_slug_is_unique_and_stays_when_the_date_changes(client, shop):
    venue = add_venue(shop["promoter"], "Berlin", "Europe/Berlin")
    client.force_login(shop["user"])
    day = dt.date(YEAR, 12, 8)
    client.post(ADD, event_form(shop["artist"], venue, day))
    client.post(ADD, event_form(shop["artist"], venue, day, starts_at_1="23:00"))  # a late show
    slugs = sorted(Event.objects.values_list("slug", flat=True))
    base = f"{shop['artist'].slug}-berlin-{day}"
    assert slugs == [base, f"{base}-2"]

    event = Event.objects.get(slug=base)
    form = event_form(shop["artist"], venue, day + dt.timedelta(days=1), slug=base,
                      on_sale_at_0=f"{event.on_sale_at:%Y-%m-%d}",
                      on_sale_at_1=f"{event.on_sale_at:%H:%M:%S}",
                      **{"ticket_types-TOTAL_FORMS": "0"})  # fmt: skip
    form["on_sale_at_1"] = f"{timezone_local(event.on_sale_at, 'Europe/Berlin'):%H:%M:%S}"
    response = client.post(reverse("admin:events_event_change", args=[event.pk]), form)
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.local_starts_at.date() == day + dt.timedelta(days=1)
    assert event.slug == base


def test_date_hierarchy_counts_local_days(client, shop):
    """08:00 on New Year's Day in Tokyo is still New Year's Eve in UTC."""
    tokyo = add_venue(shop["promoter"], "Tokyo", "Asia/Tokyo")
    new_year = dt.datetime(YEAR + 1, 1, 1, 8, tzinfo=zoneinfo.ZoneInfo("Asia/Tokyo"))
    make_event(shop["artist"], tokyo, starts_at=new_year, doors_at=None)
    berlin_eve = dt.datetime(YEAR, 12, 31, 22, tzinfo=zoneinfo.ZoneInfo("Europe/Berlin"))
    make_event(shop["artist"], shop["venue"], starts_at=berlin_eve, doors_at=None)
    client.force_login(shop["user"])

    years = client.get(CHANGELIST).content.decode()
    assert f'?starts_at__year={YEAR + 1}"' in years and f'?starts_at__year={YEAR}"' in years

    def listed(**params):
        response = client.get(CHANGELIST, {f"starts_at__{k}": v for k, v in params.items()})
        return {e.venue.city for e in response.context["cl"].result_list}, response

    assert listed(year=YEAR + 1)[0] == {"Tokyo"}
    cities, response = listed(year=YEAR, month=12)
    assert cities == {"Berlin"}
    assert "starts_at__day=31" in response.content.decode()
    assert listed(year=YEAR + 1, month=1, day=1)[0] == {"Tokyo"}
    assert listed(year=YEAR, month=12, day=31)[0] == {"Berlin"}
    # A date that is no date is a clear error, not a crash.
    assert client.get(CHANGELIST, {"starts_at__year": "x"}).status_code == 302


def test_events_are_named_with_their_local_date_where_they_are_chosen(client, shop):
    """Late shows in Tokyo: 01:00 local is the previous day in UTC."""
    from ticketing.orders import services as checkout

    tokyo = add_venue(shop["promoter"], "Tokyo", "Asia/Tokyo")
    late = dt.datetime(YEAR, 12, 9, 1, tzinfo=zoneinfo.ZoneInfo("Asia/Tokyo"))
    event = make_event(shop["artist"], tokyo, starts_at=late, doors_at=None)
    name = f"{shop['artist'].name} – Tokyo, {late:%a} 9 Dec {YEAR}"  # not the 8th, UTC's date
    assert str(event) == name
    ticket_type = TicketType.objects.get(event=event)
    hold = checkout.create_hold([{"ticket_type": ticket_type.pk, "quantity": 1}])
    checkout.create_hold([{"ticket_type": ticket_type.pk, "quantity": 1}])
    checkout.place_order(hold.token, name="Ada", email="ada@example.com")
    client.force_login(shop["user"])

    orders = client.get(reverse("admin:orders_order_changelist")).content.decode()
    holds = client.get(reverse("admin:orders_hold_changelist")).content.decode()
    analytics = client.get(reverse("admin:tracking_hitcounter_changelist")).content.decode()
    for page in (orders, holds, analytics):
        assert name in page
    autocomplete = client.get(reverse("admin:autocomplete"), {
        "app_label": "orders", "model_name": "order", "field_name": "event", "term": "Tokyo",
    }).json()  # fmt: skip
    assert [r["text"] for r in autocomplete["results"]] == [name]
    export = client.post(reverse("admin:orders_order_changelist"), {
        "action": "export_csv", "_selected_action": [event.orders.get().pk],
    })  # fmt: skip
    assert name in b"".join(export.streaming_content).decode()
