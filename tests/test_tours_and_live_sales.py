"""Tours in minutes (an event copied to other dates and venues) and the live on-sale view."""

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from ticketing.events.models import Event, Membership, TicketType, Tour, Venue
from ticketing.orders import services as checkout
from ticketing.orders.models import Order

from .conftest import make_catalogue, make_staff

pytestmark = pytest.mark.django_db

BERLIN, TOKYO = zoneinfo.ZoneInfo("Europe/Berlin"), zoneinfo.ZoneInfo("Asia/Tokyo")
YEAR = dt.date.today().year + 2


@pytest.fixture
def tour(db):
    """A tour with one show at 20:00 in Berlin, doors at 19:00, sales closing at 18:00, on sale
    from 1 June 10:00 with an early-bird ticket type selling for the first week."""
    catalogue = make_catalogue("alpha", events=0)
    promoter, artist = catalogue["promoter"], catalogue["artist"]
    tour = Tour.objects.create(artist=artist, name="Autumn")
    tokyo = Venue.objects.create(promoter=promoter, name="Liquidroom", city="Tokyo", country="JP",
                                 time_zone="Asia/Tokyo")  # fmt: skip
    show = dt.datetime(YEAR, 10, 2, 20, tzinfo=BERLIN)
    opens = dt.datetime(YEAR, 6, 1, 10, tzinfo=BERLIN)
    template = Event.objects.create(
        artist=artist, tour=tour, venue=catalogue["venue"], slug="berlin-show", name="",
        starts_at=show, doors_at=show - dt.timedelta(hours=1),
        off_sale_at=show - dt.timedelta(hours=2), on_sale_at=opens, is_published=True,
    )  # fmt: skip
    TicketType.objects.create(event=template, name="GA", price=Decimal("30.00"), capacity=500)
    TicketType.objects.create(
        event=template, name="Early bird", price=Decimal("20.00"), capacity=50, position=1,
        sales_start_at=opens, sales_end_at=opens + dt.timedelta(days=7),
    )  # fmt: skip
    manager = make_staff("manager-a", promoter, Membership.Role.MANAGER)
    return {**catalogue, "tour": tour, "tokyo": tokyo, "template": template, "user": manager}


def rows(*dates, prefix="dates"):
    """The rows of the copy form: (date, time, venue) each; six rows, the rest without a date
    but with the time the page prefills."""
    data = {f"{prefix}-TOTAL_FORMS": "6", f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}  # fmt: skip
    data.update({f"{prefix}-{n}-time": "20:00:00" for n in range(6)})
    for n, (day, time, venue) in enumerate(dates):
        data.update({f"{prefix}-{n}-date": day, f"{prefix}-{n}-time": time,
                     f"{prefix}-{n}-venue": venue.pk})  # fmt: skip
    return data


def test_duplicate_action_leads_to_the_form_for_new_dates(client, tour):
    client.force_login(tour["user"])
    changelist = reverse("admin:events_event_changelist")
    response = client.post(changelist, {"action": "duplicate",
                                        "_selected_action": [tour["template"].pk]})  # fmt: skip
    url = reverse("admin:events_event_duplicate", args=[tour["template"].pk])
    assert response.status_code == 302 and response["Location"] == url
    page = client.get(url).content.decode()
    assert 'name="dates-0-time" value="20:00:00"' in page  # the template's local start time
    assert Event.objects.count() == 1  # nothing made yet


def test_duplicating_to_another_zone_keeps_wall_clock_times(client, tour):
    client.force_login(tour["user"])
    url = reverse("admin:events_event_duplicate", args=[tour["template"].pk])
    data = {"template": tour["template"].pk,
            **rows((f"{YEAR}-10-09", "19:30", tour["tokyo"]),
                   (f"{YEAR}-10-10", "20:00", tour["venue"]))}  # fmt: skip

    response = client.post(url, data, follow=True)

    copies = Event.objects.exclude(pk=tour["template"].pk).order_by("starts_at")
    tokyo, berlin = copies
    assert tokyo.starts_at == dt.datetime(YEAR, 10, 9, 19, 30, tzinfo=TOKYO)
    assert tokyo.doors_at == dt.datetime(YEAR, 10, 9, 18, 30, tzinfo=TOKYO)  # an hour before
    assert tokyo.off_sale_at == dt.datetime(YEAR, 10, 9, 17, 30, tzinfo=TOKYO)
    assert tokyo.on_sale_at == dt.datetime(YEAR, 6, 1, 10, tzinfo=TOKYO)  # 10:00 there too
    assert berlin.starts_at == dt.datetime(YEAR, 10, 10, 20, tzinfo=BERLIN)
    for copy in copies:
        assert not copy.is_published and copy.tour == tour["tour"]
        assert list(copy.ticket_types.values_list("name", "capacity", "sold", "held")) == [
            ("GA", 500, 0, 0), ("Early bird", 50, 0, 0),
        ]  # fmt: skip
    early = tokyo.ticket_types.get(name="Early bird")
    assert early.sales_start_at == dt.datetime(YEAR, 6, 1, 10, tzinfo=TOKYO)
    assert early.sales_end_at == dt.datetime(YEAR, 6, 8, 10, tzinfo=TOKYO)
    assert tokyo.slug == f"{tour['artist'].slug}-tokyo-{YEAR}-10-09"
    message = str(next(iter(response.context["messages"])))
    assert message.startswith("2 draft(s) created") and "19:30 Asia/Tokyo" in message


def test_adding_dates_to_a_tour_with_their_own_on_sale(client, tour):
    client.force_login(tour["user"])
    url = reverse("admin:events_tour_add_dates", args=[tour["tour"].pk])
    assert f"Template: <strong>{tour['template']}</strong>" in client.get(url).content.decode()
    dates = [(f"{YEAR}-11-{day:02}", "20:00", tour["tokyo"]) for day in (1, 2, 3)]
    data = {"template": tour["template"].pk, "on_sale_0": f"{YEAR}-07-01", "on_sale_1": "09:00",
            **rows(*dates)}  # fmt: skip

    assert client.post(url, data).status_code == 302

    copies = list(tour["tour"].events.exclude(pk=tour["template"].pk).order_by("starts_at"))
    assert [c.starts_at for c in copies] == [
        dt.datetime(YEAR, 11, d, 20, tzinfo=TOKYO) for d in (1, 2, 3)
    ]
    assert {c.on_sale_at for c in copies} == {dt.datetime(YEAR, 7, 1, 9, tzinfo=TOKYO)}
    # The early bird keeps its week, from the new opening.
    early = copies[0].ticket_types.get(name="Early bird")
    assert early.sales_start_at == dt.datetime(YEAR, 7, 1, 9, tzinfo=TOKYO)
    assert early.sales_end_at == dt.datetime(YEAR, 7, 8, 9, tzinfo=TOKYO)


def test_a_date_before_sales_open_is_refused_on_its_row(client, tour):
    client.force_login(tour["user"])
    url = reverse("admin:events_event_duplicate", args=[tour["template"].pk])
    data = {"template": tour["template"].pk,
            **rows((f"{YEAR}-05-01", "20:00", tour["tokyo"]),
                   (f"{YEAR}-10-11", "20:00", tour["tokyo"]))}  # fmt: skip
    response = client.post(url, data)
    assert response.status_code == 200
    assert "Sales must open before the show starts." in response.content.decode()
    assert Event.objects.count() == 1  # neither row saved: the promoter fixes and resends


def test_copies_go_only_to_the_promoters_own_venues(client, tour):
    other = make_catalogue("bravo", events=0)
    client.force_login(tour["user"])
    url = reverse("admin:events_event_duplicate", args=[tour["template"].pk])
    data = {"template": tour["template"].pk,
            **rows((f"{YEAR}-10-09", "20:00", other["venue"]))}  # fmt: skip
    response = client.post(url, data)
    assert response.status_code == 200 and Event.objects.count() == 1
    assert "Select a valid choice" in response.content.decode()
    # Nor can anyone duplicate another promoter's event, or add dates to its tours.
    theirs = Tour.objects.create(artist=other["artist"], name="Theirs")
    assert client.get(reverse("admin:events_tour_add_dates", args=[theirs.pk])).status_code == 404
    viewer = make_staff("viewer-a", tour["promoter"], Membership.Role.VIEWER)
    client.force_login(viewer)
    assert client.get(url).status_code == 403


# --- Live sales --------------------------------------------------------------------------


@pytest.fixture
def on_sale(db):
    catalogue = make_catalogue("alpha")
    event = catalogue["events"][0]
    ga = event.ticket_types.get()
    vip = TicketType.objects.create(event=event, name="VIP", price=Decimal("90.00"), capacity=10)
    return {**catalogue, "event": event, "ga": ga, "vip": vip}


def buy(ticket_type, quantity, *, minutes_ago=0):
    hold = checkout.create_hold([{"ticket_type": ticket_type.pk, "quantity": quantity}])
    order = checkout.place_order(hold.token, name="Ada", email="ada@example.com")[0]
    if minutes_ago:
        Order.objects.filter(pk=order.pk).update(
            created_at=timezone.now() - dt.timedelta(minutes=minutes_ago)
        )
    return order


def test_live_view_counts_seats_and_recent_orders(client, on_sale):
    event, ga, vip = on_sale["event"], on_sale["ga"], on_sale["vip"]
    buy(ga, 2)  # now
    buy(ga, 3, minutes_ago=10)
    buy(vip, 1, minutes_ago=120)
    checkout.create_hold([{"ticket_type": ga.pk, "quantity": 4}])  # a fan choosing right now
    client.force_login(make_staff("viewer-a", on_sale["promoter"], Membership.Role.VIEWER))

    change = client.get(reverse("admin:events_event_change", args=[event.pk])).content.decode()
    live_url = reverse("admin:events_event_live", args=[event.pk])
    assert f'href="{live_url}"' in change

    live = client.get(reverse("admin:events_event_live_json", args=[event.pk]))
    assert live["Cache-Control"].startswith("private") and "no-store" in live["Cache-Control"]
    data = live.json()
    assert data["ticket_types"] == [
        {"id": ga.pk, "name": "GA", "capacity": 100, "sold": 5, "held": 4, "left": 91},
        {"id": vip.pk, "name": "VIP", "capacity": 10, "sold": 1, "held": 0, "left": 9},
    ]
    assert data["totals"] == {"capacity": 110, "sold": 6, "held": 4, "left": 100}
    assert {row["window"]: (row["orders"], row["tickets"], row["revenue"])
            for row in data["sales"]} == {
        "1": (1, 2, "50.00 EUR"), "5": (1, 2, "50.00 EUR"), "15": (2, 5, "125.00 EUR"),
        "60": (2, 5, "125.00 EUR"), "all": (3, 6, "215.00 EUR"),
    }  # fmt: skip

    page = client.get(live_url).content.decode()
    assert f'data-live-url="{reverse("admin:events_event_live_json", args=[event.pk])}"' in page
    assert '<td data-live="left">91</td>' in page and "215.00 EUR" in page


def test_a_lapsed_hold_counts_as_seats_left(client, on_sale):
    from ticketing.orders.models import Hold

    hold = checkout.create_hold([{"ticket_type": on_sale["ga"].pk, "quantity": 4}])
    Hold.objects.filter(pk=hold.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=30),
        expires_at=timezone.now() - dt.timedelta(minutes=20),
    )
    client.force_login(make_staff("viewer-a", on_sale["promoter"], Membership.Role.VIEWER))
    data = client.get(reverse("admin:events_event_live_json", args=[on_sale["event"].pk])).json()
    assert data["ticket_types"][0] | {} == {
        "id": on_sale["ga"].pk,
        "name": "GA",
        "capacity": 100,
        "sold": 0,
        "held": 0,
        "left": 100,
    }


def test_a_promoter_never_reaches_another_promoters_live_view(client, on_sale):
    other = make_catalogue("bravo")
    client.force_login(make_staff("manager-b", other["promoter"], Membership.Role.MANAGER))
    for name in ("admin:events_event_live", "admin:events_event_live_json"):
        assert client.get(reverse(name, args=[on_sale["event"].pk])).status_code == 404
        assert client.get(reverse(name, args=[other["events"][0].pk])).status_code == 200
    client.logout()
    response = client.get(reverse("admin:events_event_live_json", args=[on_sale["event"].pk]))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
