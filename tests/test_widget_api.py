"""The widget API: what an embedding site gets, and what lets a CDN cache it."""

import copy
import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import widget.cache
from tests.conftest import make_catalogue, make_event, make_staff
from tests.widget_helpers import api_url, empty_origin_cache  # noqa: F401 (autouse fixture)
from ticketing.events import services
from ticketing.events.models import Event, Membership, TicketType
from widget.selectors import event_status

pytestmark = pytest.mark.django_db

CACHE_CONTROL = "public, max-age=10, s-maxage=10, stale-while-revalidate=30"


@pytest.fixture
def no_origin_cache(settings):
    settings.WIDGET_ORIGIN_CACHE_SECONDS = 0


def get_events(client, slug, **params):
    response = client.get(api_url(slug), params)
    assert response.status_code == 200, response.content
    return response.json()


def test_response_shape(client, promoter_a):
    artist, venue, event = promoter_a["artist"], promoter_a["venue"], promoter_a["events"][0]
    artist.website = "https://alpha.example"
    artist.save()
    venue.region = "Berlin"
    venue.save()

    data = get_events(client, artist.slug)

    assert data["artist"] == {"name": "alpha artist", "slug": "alpha-artist",
                              "url": "https://alpha.example"}  # fmt: skip
    assert data["affiliate"] is None
    assert dt.datetime.fromisoformat(data["generated_at"]) <= timezone.now()
    local_start = event.starts_at.astimezone(venue.zone)
    assert data["events"] == [
        {
            "id": event.id,
            "name": None,
            "starts_at": local_start.isoformat(),
            "time_zone": "Europe/Berlin",
            "venue": {"name": "alpha hall", "city": "Berlin", "region": "Berlin",
                      "country": "DE"},
            "status": "on_sale",
            "on_sale_at": None,
            "price": {"min": "25.00", "max": "25.00", "currency": "EUR"},
            "tickets_url": f"http://testserver/e/{event.slug}/",
        }
    ]  # fmt: skip
    assert data["events"][0]["starts_at"][-6:] in {"+01:00", "+02:00"}  # the venue's offset


def test_price_range_and_currency(client, promoter_a):
    event = promoter_a["events"][0]
    TicketType.objects.create(event=event, name="VIP", price=Decimal("99.5"), capacity=10)
    other = make_event(promoter_a["artist"], promoter_a["venue"], days=2)
    TicketType.objects.create(event=other, name="US", price=Decimal("10"), capacity=5,
                              currency="USD")  # fmt: skip
    bare = make_event(promoter_a["artist"], promoter_a["venue"], days=3)
    bare.ticket_types.all().delete()

    prices = [e["price"] for e in get_events(client, "alpha-artist")["events"]]

    assert prices == [
        {"min": "25.00", "max": "99.50", "currency": "EUR"},
        None,  # mixed currencies: no range is honest
        None,  # no ticket types yet
    ]


def test_events_in_date_order_without_unpublished_past_or_other_artists(
    client, promoter_a, promoter_b
):
    artist, venue = promoter_a["artist"], promoter_a["venue"]
    later = make_event(artist, venue, days=20)
    sooner = make_event(artist, venue, days=5)
    make_event(artist, venue, days=6, is_published=False)
    past = make_event(artist, venue, days=-2, on_sale_at=timezone.now() - dt.timedelta(days=9))
    same_time = make_event(artist, venue, days=5)
    same_time.starts_at = sooner.starts_at
    same_time.save()

    ids = [e["id"] for e in get_events(client, artist.slug)["events"]]

    first = promoter_a["events"][0]
    assert ids == [first.id, sooner.id, same_time.id, later.id]
    assert past.id not in ids
    assert not set(ids) & {e.id for e in promoter_b["events"]}


def test_limit_takes_the_next_events_and_is_capped(client, promoter_a, settings):
    artist, venue = promoter_a["artist"], promoter_a["venue"]
    for days in (2, 3, 4):
        make_event(artist, venue, days=days)
    assert len(get_events(client, artist.slug, limit=2)["events"]) == 2
    settings.WIDGET_MAX_EVENTS = 3
    assert len(get_events(client, artist.slug)["events"]) == 3
    assert len(get_events(client, artist.slug, limit=10**9)["events"]) == 3
    assert len(get_events(client, artist.slug, limit="9" * 5000)["events"]) == 3


def set_counters(event, *, sold=0, held=0, capacity=None):
    # Straight to the counters, as only the inventory code may: the widget reads them.
    TicketType.inventory.filter(event=event).update(
        sold=sold, held=held, **({"capacity": capacity} if capacity is not None else {})
    )


def test_statuses(client, promoter_a, settings):
    settings.WIDGET_FEW_LEFT = 20
    artist, venue = promoter_a["artist"], promoter_a["venue"]
    now = timezone.now()
    on_sale = promoter_a["events"][0]
    few_left = make_event(artist, venue, days=2)
    set_counters(few_left, sold=75, held=5)  # 20 left
    sold_out = make_event(artist, venue, days=3)
    set_counters(sold_out, sold=90, held=10)
    on_sale_soon = now + dt.timedelta(days=2, hours=3)
    not_yet = make_event(artist, venue, days=4, on_sale_at=on_sale_soon)
    closed = make_event(artist, venue, days=5, off_sale_at=now - dt.timedelta(hours=1),
                        on_sale_at=now - dt.timedelta(days=3))  # fmt: skip
    cancelled = make_event(artist, venue, days=6, status=Event.Status.CANCELLED)
    postponed = make_event(artist, venue, days=7, status=Event.Status.POSTPONED)

    events = {e["id"]: e for e in get_events(client, artist.slug)["events"]}

    assert {pk: e["status"] for pk, e in events.items()} == {
        on_sale.id: "on_sale",
        few_left.id: "few_left",
        sold_out.id: "sold_out",
        not_yet.id: "not_yet_on_sale",
        closed.id: "sales_closed",
        cancelled.id: "cancelled",
        postponed.id: "postponed",
    }
    assert events[not_yet.id]["on_sale_at"] == on_sale_soon.astimezone(venue.zone).isoformat()
    assert events[on_sale.id]["on_sale_at"] is None


def test_status_function_agrees_with_the_model(promoter_a):
    """`Event.is_on_sale` and the widget's status say the same about when fans can buy."""
    now = timezone.now()
    base = Event.objects.prefetch_related("ticket_types").get(pk=promoter_a["events"][0].pk)
    cases = [
        {},
        {"on_sale_at": now + dt.timedelta(hours=1)},
        {"off_sale_at": now - dt.timedelta(minutes=1), "on_sale_at": now - dt.timedelta(days=2)},
        {"status": Event.Status.CANCELLED},
    ]
    for fields in cases:
        event = copy.copy(base)  # each case changes only its own fields
        for name, value in fields.items():
            setattr(event, name, value)
        status = event_status(
            status=event.status, on_sale_at=event.on_sale_at, off_sale_at=event.off_sale_at,
            starts_at=event.starts_at, remaining=event.remaining, now=now,
        )  # fmt: skip
        assert (status in {"on_sale", "few_left"}) == event.is_on_sale(now), fields


def test_tickets_url_carries_a_known_affiliate_only(client, promoter_a, promoter_b):
    event = promoter_a["events"][0]
    key = promoter_a["affiliate"].public_key

    with_key = get_events(client, "alpha-artist", affiliate=key)
    assert with_key["affiliate"] == key
    assert with_key["events"][0]["tickets_url"] == (
        f"http://testserver/e/{event.slug}/?affiliate={key}"
    )

    unknown_keys = [
        "no-such-key",
        promoter_b["affiliate"].public_key,  # another promoter's affiliate
        "<script>",
        "x" * 200,
    ]
    for unknown in unknown_keys:
        data = get_events(client, "alpha-artist", affiliate=unknown)
        assert data["affiliate"] is None
        assert data["events"][0]["tickets_url"] == f"http://testserver/e/{event.slug}/"

    affiliate = promoter_a["affiliate"]
    affiliate.is_active = False
    affiliate.save()  # as the back office does: the origin cache drops the old list
    data = get_events(client, "alpha-artist", affiliate=key)
    assert data["affiliate"] is None


def test_cdn_headers_and_no_cookie_even_for_a_logged_in_visitor(client, promoter_a):
    client.force_login(make_staff("fan-and-staff", promoter_a["promoter"],
                                  Membership.Role.VIEWER))  # fmt: skip
    for response in [
        client.get(api_url("alpha-artist")),
        client.get(api_url("alpha-artist"), {"affiliate": promoter_a["affiliate"].public_key}),
        client.get(api_url("no-such-artist")),
        client.get(api_url("alpha-artist"), {"limit": "x"}),
    ]:
        assert response["Access-Control-Allow-Origin"] == "*"
        assert response["Content-Type"] == "application/json"
        assert "Set-Cookie" not in response
        assert not response.cookies
        assert "Cookie" not in response.get("Vary", "")
    assert client.get(api_url("alpha-artist"))["Cache-Control"] == CACHE_CONTROL


def test_strong_etag_answers_304_to_what_browsers_and_cdns_send(client, promoter_a):
    first = client.get(api_url("alpha-artist"))
    etag = first["ETag"]
    assert etag.startswith('"') and etag.endswith('"')  # strong: no W/ prefix

    for header in [etag, f'"other", {etag}', f"W/{etag}", f'W/"other",W/{etag}', "*"]:
        response = client.get(api_url("alpha-artist"), headers={"If-None-Match": header})
        assert response.status_code == 304, header
        assert response.content == b""
        assert response["ETag"] == etag
        assert response["Cache-Control"] == CACHE_CONTROL
        assert response["Access-Control-Allow-Origin"] == "*"

    stale = client.get(api_url("alpha-artist"), headers={"If-None-Match": '"stale"'})
    assert stale.status_code == 200 and stale.content == first.content


def test_etag_and_body_stay_the_same_while_the_data_does(client, promoter_a, no_origin_cache):
    first = client.get(api_url("alpha-artist"))
    again = client.get(api_url("alpha-artist"), headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 304  # rebuilt (no origin cache), and still the same bytes

    event = promoter_a["events"][0]
    event.name = "Renamed"
    event.save()
    changed = client.get(api_url("alpha-artist"), headers={"If-None-Match": first["ETag"]})
    assert changed.status_code == 200
    assert changed["ETag"] != first["ETag"]
    assert changed.json()["events"][0]["name"] == "Renamed"


def test_unknown_artist_is_a_cacheable_json_404(client, db):
    for slug in ["no-such-artist", "bad slug!", "ä"]:
        response = client.get(api_url(slug))
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"
        assert response["Cache-Control"] == "public, max-age=10, s-maxage=10"
        assert response["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("limit", ["0", "-1", "abc", "1.5", "", "00", "١"])
def test_bad_limit_is_a_json_400(client, promoter_a, limit):
    response = client.get(api_url("alpha-artist"), {"limit": limit})
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "bad_parameter"
    assert "limit" in body["message"]


def test_other_methods_are_refused(client, promoter_a):
    assert client.post(api_url("alpha-artist")).status_code in {403, 405}
    assert client.head(api_url("alpha-artist")).status_code == 200


def test_query_count_is_constant_from_3_to_30_events(client, db, no_origin_cache):
    catalogue = make_catalogue("gamma", events=3)
    artist, venue = catalogue["artist"], catalogue["venue"]
    key = catalogue["affiliate"].public_key

    def queries():
        with CaptureQueriesContext(connection) as captured:
            data = get_events(client, artist.slug, affiliate=key)
        return len(captured), len(data["events"])

    queries()  # on PostgreSQL, the connection's first request also prepares the statement
    few = queries()
    for days in range(4, 31):
        event = make_event(artist, venue, days=days)
        TicketType.objects.create(event=event, name="VIP", price=Decimal("80"), capacity=5)
    many = queries()
    assert few == (1, 3)
    assert many == (1, 30)


def test_origin_cache_serves_repeats_without_the_database(client, promoter_a):
    first = client.get(api_url("alpha-artist"))
    with CaptureQueriesContext(connection) as captured:
        again = client.get(api_url("alpha-artist"))
    assert len(captured) == 0
    assert again.content == first.content


def test_origin_cache_is_dropped_when_the_catalogue_changes(client, promoter_a):
    artist, venue = promoter_a["artist"], promoter_a["venue"]
    assert len(get_events(client, artist.slug)["events"]) == 1

    added = make_event(artist, venue, days=3)  # model save: post_save
    assert len(get_events(client, artist.slug)["events"]) == 2

    services.set_published(Event.objects.filter(pk=added.pk), False)  # bulk: catalogue_changed
    assert len(get_events(client, artist.slug)["events"]) == 1

    venue.city = "Hamburg"
    venue.save()
    assert get_events(client, artist.slug)["events"][0]["venue"]["city"] == "Hamburg"

    ticket_type = TicketType.objects.get(event=promoter_a["events"][0])
    ticket_type.price = Decimal("30")
    ticket_type.save()
    assert get_events(client, artist.slug)["events"][0]["price"]["min"] == "30.00"


def test_inventory_counters_are_as_fresh_as_the_ttl(client, promoter_a, monkeypatch, settings):
    """The checkout's conditional updates fire no signals: the origin cache's TTL bounds them."""
    event = promoter_a["events"][0]
    assert get_events(client, "alpha-artist")["events"][0]["status"] == "on_sale"
    set_counters(event, sold=100)

    assert get_events(client, "alpha-artist")["events"][0]["status"] == "on_sale"  # cached
    later = widget.cache.time.monotonic() + settings.WIDGET_ORIGIN_CACHE_SECONDS + 0.01
    monkeypatch.setattr(widget.cache.time, "monotonic", lambda: later)
    assert get_events(client, "alpha-artist")["events"][0]["status"] == "sold_out"


def test_tickets_url_is_on_site_url_whatever_host_the_request_names(
    client, promoter_a, settings, no_origin_cache
):
    """The CDN caches one answer for everyone: its links must not follow a request's Host (the
    raw execute-api name, an alias, a forged X-Forwarded-Host within ALLOWED_HOSTS)."""
    settings.SITE_URL = "https://tickets.example.com"
    settings.ALLOWED_HOSTS = ["tickets.example.com", ".execute-api.eu-central-1.amazonaws.com"]
    settings.USE_X_FORWARDED_HOST = True
    raw_api = "abc123.execute-api.eu-central-1.amazonaws.com"
    slug = promoter_a["events"][0].slug
    for headers in (
        {"Host": raw_api, "X-Forwarded-Proto": "http"},
        {"X-Forwarded-Host": raw_api, "X-Forwarded-Proto": "https"},
        {"Host": "tickets.example.com"},
    ):
        data = client.get(api_url("alpha-artist"), headers=headers).json()
        assert data["events"][0]["tickets_url"] == f"https://tickets.example.com/e/{slug}/"
    loader = client.get("/widget/v1/loader.js", headers={"Host": raw_api}).content.decode()
    assert '"https://tickets.example.com/static/widget/tour-widget.' in loader
    assert raw_api not in loader


@pytest.mark.parametrize(
    "prepared, conn_max_age, statement",
    [(True, 60, "EXECUTE"), (True, 0, "SELECT"), (False, 60, "SELECT")],
)
def test_same_list_with_or_without_the_prepared_statement(
    client, promoter_a, settings, no_origin_cache, monkeypatch, prepared, conn_max_age, statement
):
    """Prepared once per connection on PostgreSQL, when the connection outlives the request."""
    settings.WIDGET_PREPARED_QUERY = prepared
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", conn_max_age)
    key = promoter_a["affiliate"].public_key
    with CaptureQueriesContext(connection) as queries:
        data = get_events(client, "alpha-artist", affiliate=key, limit=1)
    assert [e["id"] for e in data["events"]] == [promoter_a["events"][0].id]
    assert data["affiliate"] == key
    ran = queries.captured_queries[-1]["sql"].split()[0]
    assert ran == (statement if connection.vendor == "postgresql" else "SELECT")
    assert client.get(api_url("nobody")).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_new_database_connection_prepares_the_statement_again(
    client, no_origin_cache, monkeypatch
):
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 60)
    make_catalogue("delta")
    assert len(get_events(client, "delta-artist")["events"]) == 1
    connection.close()  # as when CONN_MAX_AGE runs out or the server went away
    assert len(get_events(client, "delta-artist")["events"]) == 1
