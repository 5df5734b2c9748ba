"""The sales funnel in the promoter analytics: views -> clicks -> orders, with tickets, revenue,
click-through rate and conversion, in total, by day, by affiliate site and by event, on the page
and in the CSV; scoped per promoter; a fixed number of queries."""

import csv
import datetime as dt
import io
import json
import uuid
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ticketing.events.demo import DEMO_AFFILIATE_KEY, DEMO_ARTIST_SLUG, DEMO_STAFF, OTHER_STAFF
from ticketing.events.models import Affiliate, Artist, TicketType
from ticketing.orders import services as checkout
from ticketing.orders.models import Order
from ticketing.tracking import selectors
from ticketing.tracking import services as tracking
from ticketing.tracking.hits import Hit

from .checkout import post_hold, post_order
from .conftest import make_event
from .tracking_helpers import hit, post_hits, reset_tracking_sink, use_sink  # noqa: F401
from .widget_helpers import empty_origin_cache  # noqa: F401 (autouse fixture)

URL = "/admin/tracking/hitcounter/"


def record(catalogue, kind, n, *, event=None, affiliate=None, bot=False, at=None):
    ms = int((at or timezone.now()).timestamp() * 1000)
    tracking.record_hits([
        Hit(str(uuid.uuid4()), kind, catalogue["artist"].slug, event.pk if event else None,
            affiliate.public_key if affiliate else None, ms, bot)
        for _ in range(n)
    ])  # fmt: skip


def buy(event, quantity, affiliate=None, *, at=None, cancelled=False) -> Order:
    ticket_type = event.ticket_types.get()
    hold = checkout.create_hold(
        [{"ticket_type": ticket_type.pk, "quantity": quantity}],
        affiliate_key=affiliate.public_key if affiliate else None,
        click_id=str(uuid.uuid4()) if affiliate else None,
    )
    order = checkout.place_order(hold.token, name="Ada", email="ada@example.com")[0]
    if at is not None:
        Order.objects.filter(pk=order.pk).update(created_at=at)
    if cancelled:
        checkout.cancel_order(order)
    return order


@pytest.fixture
def funnel(promoter_a, promoter_b):
    """Promoter A: two affiliate sites and direct traffic, two events (EUR and USD), orders from
    each (one cancelled, one three days ago late in the UTC day). Promoter B: traffic and
    orders of its own, which A must never see."""
    artist, venue = promoter_a["artist"], promoter_a["venue"]
    berlin = promoter_a["events"][0]  # 25.00 EUR a ticket
    dollars = make_event(artist, venue, days=2, price="30.00")
    TicketType.objects.filter(event=dollars).update(currency="USD")
    fans = promoter_a["affiliate"]
    blog = Affiliate.objects.create(promoter=artist.promoter, name="Blog", domain="blog.example")

    record(promoter_a, "view", 100, affiliate=fans)
    record(promoter_a, "view", 50, affiliate=blog)
    record(promoter_a, "view", 30)
    record(promoter_a, "view", 40, bot=True)
    record(promoter_a, "click", 20, event=berlin, affiliate=fans)
    record(promoter_a, "click", 5, event=dollars, affiliate=blog)
    record(promoter_a, "click", 4, event=berlin)
    buy(berlin, 2, fans)
    buy(berlin, 1, fans)
    buy(berlin, 5, fans, cancelled=True)
    buy(dollars, 4, blog)
    buy(berlin, 1)
    three_days_ago = timezone.now().date() - dt.timedelta(days=3)
    buy(berlin, 2, at=dt.datetime.combine(three_days_ago, dt.time(23, 30), dt.UTC))

    other = promoter_b["events"][0]
    record(promoter_b, "view", 777, affiliate=promoter_b["affiliate"])
    record(promoter_b, "click", 333, event=other, affiliate=promoter_b["affiliate"])
    for _ in range(3):
        buy(other, 6, promoter_b["affiliate"])
    return {"berlin": berlin, "dollars": dollars, "fans": fans, "blog": blog,
            "three_days_ago": three_days_ago}  # fmt: skip


class AnalyticsPage(HTMLParser):
    """What the analytics page shows: the totals ({label: figure}) and each table under its
    heading ({heading: [[cell, ...], ...]}), as text."""

    def __init__(self, html: str):
        super().__init__()
        self.totals, self.tables = {}, {}
        self._heading = self._cell = self._total = self._section = None
        self._in_totals = self._in_strong = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if tag == "h2":
            self._heading = []
        elif tag == "div" and "analytics-totals" in classes:
            self._in_totals = True
        elif tag == "div" and self._in_totals:
            self._total = {"figure": [], "label": []}
        elif tag == "strong":
            self._in_strong = True
        elif self._section is None:
            return  # the admin's navigation, before the analytics
        elif tag == "tr":
            self.tables[self._section].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "h2":
            self._section = _text(self._heading)
            self.tables[self._section] = []
            self._heading = None
        elif tag == "div" and self._total is not None:
            self.totals[_text(self._total["label"])] = _text(self._total["figure"])
            self._total = None
        elif tag == "div" and self._in_totals:
            self._in_totals = False
        elif tag == "strong":
            self._in_strong = False
        elif tag in ("td", "th") and self._cell is not None:
            self.tables[self._section][-1].append(_text(self._cell))
            self._cell = None

    def handle_data(self, data):
        if self._heading is not None:
            self._heading.append(data)
        if self._cell is not None:
            self._cell.append(data)
        if self._total is not None:
            self._total["figure" if self._in_strong else "label"].append(data)

    def rows(self, heading: str) -> dict[str, list[str]]:
        """The rows of a table by their first cell, without the header row."""
        return {row[0]: row[1:] for row in self.tables[heading][1:]}


def _text(parts) -> str:
    return " ".join(" ".join(parts).split())


def csv_rows(response) -> list[dict]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_promoter_sees_the_funnel_by_affiliate_event_and_day(client, manager_a, funnel):
    client.force_login(manager_a)
    response = client.get(URL)
    assert response.status_code == 200
    page = AnalyticsPage(response.content.decode())

    assert page.totals == {
        "views": "180", "clicks": "29", "click-through rate": "16.1 %", "orders": "5",
        "conversion": "17.2 %", "tickets sold": "10", "revenue": "150.00 EUR 120.00 USD",
        "bot hits": "40",
    }  # fmt: skip
    # Columns: views, clicks, click-through rate, orders, conversion, tickets, revenue.
    assert page.tables["By affiliate site"][0] == [
        "Affiliate", "Views", "Clicks", "Click-through rate", "Orders", "Conversion", "Tickets",
        "Revenue",
    ]  # fmt: skip
    assert page.rows("By affiliate site") == {
        "Fans (alpha.example)": ["100", "20", "20.0 %", "2", "10.0 %", "3", "75.00 EUR"],
        "Blog (blog.example)": ["50", "5", "10.0 %", "1", "20.0 %", "4", "120.00 USD"],
        "Direct (no affiliate)": ["30", "4", "13.3 %", "2", "50.0 %", "3", "75.00 EUR"],
    }
    berlin, dollars = funnel["berlin"], funnel["dollars"]
    assert page.rows("By event") == {
        "The artist's list of events": ["180", "0", "0.0 %", "0", "–", "0", "–"],
        str(berlin):  # named with its local date
            ["0", "24", "–", "4", "16.7 %", "6", "150.00 EUR"],
        str(dollars):
            ["0", "5", "–", "1", "20.0 %", "4", "120.00 USD"],
    }  # fmt: skip
    days = page.rows("By day")
    today = timezone.now().date()
    assert len(days) == 30
    assert days[today.isoformat()] == [
        "180", "29", "16.1 %", "4", "13.8 %", "8", "100.00 EUR 120.00 USD"
    ]  # fmt: skip
    assert days[funnel["three_days_ago"].isoformat()] == ["0", "0", "–", "1", "–", "2", "50.00 EUR"]
    assert days[(today - dt.timedelta(days=1)).isoformat()] == ["0", "0", "–", "0", "–", "0", "–"]

    html = response.content.decode()
    assert 'aria-label="Views and clicks per day"' in html
    assert 'aria-label="Orders and tickets per day"' in html
    assert f"<title>{today.isoformat()}: 4 orders, 8 tickets</title>" in html
    assert "Conversion</strong> = orders ÷ clicks" in html  # the definition, in the help text
    assert "UTC" in html


def test_csv_export_has_the_order_columns(client, viewer_a, funnel):
    client.force_login(viewer_a)  # a viewer may read analytics, orders included
    response = client.get(URL, {"format": "csv"})

    assert response.status_code == 200
    rows = csv_rows(response)
    assert list(rows[0]) == [
        "date", "artist", "event", "affiliate", "affiliate_domain", "views", "clicks",
        "click_through_rate", "orders", "tickets", "conversion_rate", "revenue_EUR", "revenue_USD",
    ]  # fmt: skip
    today, earlier = timezone.now().date().isoformat(), funnel["three_days_ago"].isoformat()
    berlin, dollars = str(funnel["berlin"]), str(funnel["dollars"])
    assert [
        (r["date"], r["event"], r["affiliate"], r["views"], r["clicks"], r["click_through_rate"],
         r["orders"], r["tickets"], r["conversion_rate"], r["revenue_EUR"], r["revenue_USD"])
        for r in rows
    ] == [
        (earlier, berlin, "(direct)", "0", "0", "", "1", "2", "", "50.00", ""),
        (today, "(list of events)", "(direct)", "30", "0", "0.0000", "0", "0", "", "", ""),
        (today, "(list of events)", "Fans", "100", "0", "0.0000", "0", "0", "", "", ""),
        (today, "(list of events)", "Blog", "50", "0", "0.0000", "0", "0", "", "", ""),
        (today, berlin, "(direct)", "0", "4", "", "1", "1", "0.2500", "25.00", ""),
        (today, berlin, "Fans", "0", "20", "", "2", "3", "0.1000", "75.00", ""),
        (today, dollars, "Blog", "0", "5", "", "1", "4", "0.2000", "", "120.00"),
    ]  # fmt: skip
    assert {r["artist"] for r in rows} == {"alpha artist"}


def test_filters_narrow_the_orders_too(client, manager_a, funnel):
    client.force_login(manager_a)
    dollars = funnel["dollars"]

    page = AnalyticsPage(client.get(URL, {"event": dollars.pk}).content.decode())
    assert (page.totals["clicks"], page.totals["orders"], page.totals["revenue"]) == (
        "5", "1", "120.00 USD"
    )  # fmt: skip
    assert "By event" not in page.tables

    today = timezone.now().date()
    recent = {"start": today - dt.timedelta(days=1), "end": today}
    page = AnalyticsPage(client.get(URL, recent).content.decode())
    assert (page.totals["orders"], page.totals["tickets sold"]) == ("4", "8")
    assert page.rows("By affiliate site")["Direct (no affiliate)"][3:5] == ["1", "25.0 %"]

    rows = csv_rows(client.get(URL, {"event": dollars.pk, "format": "csv"}))
    assert [(r["affiliate"], r["orders"], r["revenue_USD"]) for r in rows] == [
        ("Blog", "1", "120.00")
    ]
    assert "revenue_EUR" not in rows[0]


def test_promoter_a_never_sees_promoter_b_orders(client, manager_a, funnel, promoter_b):
    client.force_login(manager_a)

    html = client.get(URL).content.decode()
    assert "bravo" not in html.lower()
    assert AnalyticsPage(html).totals["orders"] == "5"

    forged = client.get(URL, {"artist": promoter_b["artist"].pk})
    assert "summary" not in forged.context
    forged = client.get(URL, {"event": promoter_b["events"][0].pk, "format": "csv"})
    assert forged["Content-Type"].startswith("text/html")  # no export for a forged filter

    export = client.get(URL, {"format": "csv"}).content.decode()
    assert "bravo" not in export.lower()
    assert sum(int(row["orders"]) for row in csv_rows(client.get(URL, {"format": "csv"}))) == 5

    root = get_user_model().objects.create_superuser("root", password="pw")
    client.force_login(root)
    totals = AnalyticsPage(client.get(URL).content.decode()).totals
    assert (totals["orders"], totals["tickets sold"]) == ("8", "28")  # A's 5 and 10, B's 3 and 18


def test_a_fixed_number_of_queries_whatever_the_days_affiliates_and_events(
    client, manager_a, promoter_a, django_assert_num_queries
):
    client.force_login(manager_a)
    artist, venue = promoter_a["artist"], promoter_a["venue"]
    record(promoter_a, "click", 1, event=promoter_a["events"][0], affiliate=promoter_a["affiliate"])
    buy(promoter_a["events"][0], 1, promoter_a["affiliate"])

    def queries(params) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL, params).status_code == 200
        return len(captured)

    page, export = queries({}), queries({"format": "csv"})

    for n in range(6):  # more events, affiliates and days, each with hits and orders
        event = make_event(artist, venue, days=n + 3)
        site = Affiliate.objects.create(
            promoter=artist.promoter, name=f"S{n}", domain=f"{n}.example"
        )
        at = timezone.now() - dt.timedelta(days=n + 1)
        record(promoter_a, "view", 3, affiliate=site, at=at)
        record(promoter_a, "click", 2, event=event, affiliate=site, at=at)
        buy(event, 1, site, at=at)
        buy(event, 1, at=at)

    assert queries({}) == page
    assert queries({"format": "csv"}) == export
    assert len(AnalyticsPage(client.get(URL).content.decode()).rows("By affiliate site")) == 8

    # The reads themselves: two per table (hits, orders), one more for the rows' names.
    counters, orders = selectors.HitCounter.objects.all(), Order.objects.all()
    start, end = timezone.now().date() - dt.timedelta(days=29), timezone.now().date()
    with django_assert_num_queries(10):
        selectors.summary(counters, orders, start, end)
        selectors.by_day(counters, orders, start, end)
        selectors.by_affiliate(counters, orders, start, end)
        selectors.by_event(counters, orders, start, end)


@pytest.mark.django_db
def test_demo_order_from_an_affiliate_widget_shows_in_the_analytics(
    client,
    settings,
    reset_tracking_sink,  # noqa: F811
):
    """The demo's own flow: the widget on the demo fan site, its beacons, a fan following its
    Tickets link into checkout; then the promoter's analytics."""
    use_sink(settings, "local")
    call_command("seed_demo")
    tour = client.get(
        f"/widget/v1/artists/{DEMO_ARTIST_SLUG}/events", {"affiliate": DEMO_AFFILIATE_KEY}
    ).json()
    event = next(e for e in tour["events"] if e["status"] == "on_sale")
    click = hit("click", DEMO_ARTIST_SLUG, event["id"], DEMO_AFFILIATE_KEY)
    views = [hit("view", DEMO_ARTIST_SLUG, affiliate=DEMO_AFFILIATE_KEY) for _ in range(3)]
    assert post_hits(client, [*views, click]).status_code == 204

    # The fan's browser opens tickets_url with the click id; checkout reads both from it.
    landing = f"{event['tickets_url']}&click={click['id']}&lang=en"
    assert client.get(landing).status_code == 200
    query = parse_qs(urlsplit(landing).query)
    general = TicketType.objects.get(event_id=event["id"], name="General admission")
    held = post_hold(client, (general, 2), affiliate=query["affiliate"][0], click=query["click"][0])
    assert held.status_code == 201, held.content
    placed = post_order(client, held.json()["token"], key=str(uuid.uuid4()))
    assert placed.status_code == 201, placed.content

    client.login(username=DEMO_STAFF[0], password=DEMO_STAFF[1])
    artist = Artist.objects.get(slug=DEMO_ARTIST_SLUG)
    page = AnalyticsPage(client.get(URL, {"artist": artist.pk}).content.decode())
    revenue = f"{2 * general.price:.2f} {general.currency}"
    assert page.rows("By affiliate site") == {
        "Demo Fan Site (fans.example)": ["3", "1", "33.3 %", "1", "100.0 %", "2", revenue],
    }
    assert (page.totals["orders"], page.totals["conversion"]) == ("1", "100.0 %")
    order = Order.objects.get(email="ada@example.com")  # the demo's own sales are older
    assert order.affiliate.public_key == DEMO_AFFILIATE_KEY and str(order.click_id) == click["id"]

    client.login(username=OTHER_STAFF[0], password=OTHER_STAFF[1])
    other = AnalyticsPage(client.get(URL).content.decode())
    assert (other.totals["views"], other.totals["orders"]) == ("0", "0")
    assert "Demo Fan Site (fans.example)" not in other.rows("By affiliate site")
    assert "Demo" not in json.dumps(other.tables)
