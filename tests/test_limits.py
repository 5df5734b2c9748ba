"""Anti-hoarding (ticketing/limits): one client cannot hold a show, every limited path answers 429
with Retry-After and a message a person can read, and the hot paths never see any of it."""

import datetime as dt
import json

import pytest
from django.test import Client, RequestFactory
from django.utils import timezone
from rest_framework.response import Response

from ticketing.limits.clients import client_address, client_key
from ticketing.orders import api, services
from ticketing.orders.models import Hold

from .checkout import event_on_sale, post_hold
from .conftest import make_staff
from .tracking_helpers import hit, post_hits, use_sink

pytestmark = pytest.mark.django_db

FAN, OTHER_FAN = "198.51.100.7", "203.0.113.8"


@pytest.fixture
def limits(settings):
    """The production limits (conftest turns the hold limits off for the other tests)."""
    settings.HOLDS_PER_CLIENT = 2
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "holds": (10, 60)}
    return settings


@pytest.fixture
def show():
    event, (ga,), _ = event_on_sale(capacities=(600,), max_per_order=8)
    return event, ga


def fan(address=FAN, **headers):
    return Client(REMOTE_ADDR=address, **headers)


def assert_retry_after(response, at_most):
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= at_most


# --- The cap on live holds per client ---------------------------------------------------------


def test_a_loop_of_75_holds_from_one_client_holds_two_and_the_next_fan_still_buys(limits, show):
    event, ga = show
    hoarder = fan()
    answers = [post_hold(hoarder, (ga, 8)) for _ in range(75)]

    assert [a.status_code for a in answers[:2]] == [201, 201]
    assert {a.status_code for a in answers[2:]} == {429}
    capped, throttled = answers[2], answers[-1]
    assert capped.json()["error"] == "hold_limit"
    assert capped.json()["detail"].startswith("You already have 2 holds for this event.")
    assert_retry_after(capped, event.hold_minutes * 60)
    assert capped.json()["retry_after"] == int(capped["Retry-After"])
    # Past 10 requests a minute the client is refused before the database is asked at all.
    assert throttled.json()["error"] == "rate_limited"
    assert_retry_after(throttled, 60)
    ga.refresh_from_db()
    assert ga.held == 16
    (key,) = set(Hold.objects.values_list("client", flat=True))
    assert len(key) == 24 and FAN not in key  # a keyed hash of the address, not the address

    assert post_hold(fan(OTHER_FAN), (ga, 2)).status_code == 201


def test_the_cap_counts_live_holds_only(limits, show):
    _, ga = show
    client = fan()
    first = post_hold(client, (ga, 1)).json()
    services.create_hold([{"ticket_type": ga.pk, "quantity": 1}], client=_key(FAN),
                         now=timezone.now() - dt.timedelta(hours=1))  # fmt: skip
    assert post_hold(client, (ga, 1)).status_code == 201  # the lapsed one does not count
    assert post_hold(client, (ga, 1)).status_code == 429
    assert client.delete(f"/api/v1/holds/{first['token']}").status_code == 204
    assert post_hold(client, (ga, 1)).status_code == 201  # released: a slot again


def test_the_cap_is_per_event(limits, show):
    _, ga = show
    _, (other,), _ = event_on_sale("bravo")
    client = fan()
    for _ in range(2):
        assert post_hold(client, (ga, 1)).status_code == 201
    assert post_hold(client, (other, 1)).status_code == 201


def test_the_client_is_the_cdn_viewer_address_not_the_socket_nor_forwarded_for(limits, show):
    _, ga = show
    edges = [fan(f"10.0.0.{n}", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}") for n in range(3)]
    viewer = {"HTTP_CLOUDFRONT_VIEWER_ADDRESS": "198.51.100.7:4431"}
    answers = [client.post("/api/v1/holds", _body(ga), content_type="application/json", **viewer)
               for client in edges]  # fmt: skip
    assert [a.status_code for a in answers] == [201, 201, 429]


@pytest.mark.parametrize(
    "viewer, same_as, expected",
    [
        ("2001:db8:1:2::1:443", "2001:db8:1:2:ffff::9:80", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.7:443", "198.51.100.7:80", "198.51.100.7"),
    ],
)
def test_an_ipv6_client_is_its_64_and_a_mapped_ipv4_is_the_ipv4(viewer, same_as, expected):
    factory = RequestFactory()
    addresses = {
        client_address(factory.get("/", HTTP_CLOUDFRONT_VIEWER_ADDRESS=value))
        for value in (viewer, same_as)
    }
    assert addresses == {expected}
    other = factory.get("/", HTTP_CLOUDFRONT_VIEWER_ADDRESS="2001:db8:1:3::1:443")
    assert client_address(other) != "2001:db8:1:2::/64"


def test_the_hold_form_refuses_with_a_localized_page(limits, show):
    event, ga = show
    client = fan()
    for _ in range(2):
        assert client.post(f"/e/{event.slug}/hold", {f"qty-{ga.pk}": "1"}).status_code == 302
    refused = client.post(f"/e/{event.slug}/hold", {f"qty-{ga.pk}": "1", "lang": "de"})
    assert_retry_after(refused, event.hold_minutes * 60)
    page = refused.content.decode()
    assert "Du hast für diese Veranstaltung bereits 2 Reservierungen." in page
    assert "Minuten" in page
    assert refused["Content-Language"] == "de"
    assert "no-store" in refused["Cache-Control"]


def test_the_api_fast_path_and_drfs_view_refuse_byte_for_byte(limits, show, monkeypatch):
    _, ga = show
    moment = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: moment)  # the same Retry-After in both
    client = Client()  # 127.0.0.1, as RequestFactory's requests
    for _ in range(2):
        assert post_hold(client, (ga, 1)).status_code == 201
    fast = post_hold(client, (ga, 1))
    assert not isinstance(fast, Response)
    request = RequestFactory().post("/api/v1/holds", _body(ga), content_type="application/json")
    drf = api.Holds.as_view()(request).render()
    assert fast.status_code == drf.status_code == 429
    assert fast.content == drf.content
    for header in ("Content-Type", "Allow", "Cache-Control", "Retry-After"):
        assert fast.get(header) == drf.get(header)


def test_a_request_drf_answers_is_rate_limited_as_well(limits, show):
    _, ga = show
    limits.RATE_LIMITS = {**limits.RATE_LIMITS, "holds": (3, 60)}
    limits.HOLDS_PER_CLIENT = 0
    client = fan()
    body = {"items": [{"ticket_type": str(ga.pk), "quantity": "1"}]}  # coerced by DRF only
    answers = [client.post("/api/v1/holds", body, content_type="application/json")
               for _ in range(4)]  # fmt: skip
    assert [a.status_code for a in answers] == [201, 201, 201, 429]
    assert isinstance(answers[-1], Response)
    assert answers[-1].json()["error"] == "rate_limited"
    assert_retry_after(answers[-1], 60)


# --- Rate limits of the other paths -------------------------------------------------------------


def test_order_lookup_by_form_is_rate_limited_with_a_page(limits):
    client, guess = fan(), {"code": "NOPE", "email": "eve@example.com"}
    for _ in range(10):
        assert client.post("/orders/lookup/", guess).status_code == 404
    refused = client.post("/orders/lookup/", {**guess, "lang": "fr"})
    assert_retry_after(refused, 600)
    assert "Trop de demandes depuis votre connexion." in refused.content.decode()
    assert fan(OTHER_FAN).post("/orders/lookup/", guess).status_code == 404


def test_order_lookup_by_api_is_rate_limited_with_json(limits):
    client = fan()
    answers = [client.get("/api/v1/orders/NOPE", {"email": "eve@example.com"}) for _ in range(11)]
    assert {a.status_code for a in answers[:10]} == {404}
    assert answers[10].json()["error"] == "rate_limited"
    assert answers[10].json()["detail"].startswith("Too many requests from your connection.")
    assert_retry_after(answers[10], 600)


def test_notify_me_is_rate_limited_by_the_same_limiter(limits):
    event, _, _ = event_on_sale(on_sale_at=timezone.now() + dt.timedelta(days=1))
    client = fan()
    limits.RATE_LIMITS = {**limits.RATE_LIMITS, "notify": (1, 3600)}
    url = f"/e/{event.slug}/notify"
    assert client.post(url, {"email": "a@example.com"}).status_code == 200
    page = client.post(url, {"email": "b@example.com", "lang": "es"})
    assert_retry_after(page, 3600)
    assert "Demasiadas solicitudes desde tu conexión." in page.content.decode()
    widget = client.post(url, {"email": "c@example.com"}, HTTP_ACCEPT="application/json")
    assert_retry_after(widget, 3600)
    assert widget.json()["error"] == "rate_limited"


# --- The back office's login ----------------------------------------------------------------


def test_five_wrong_passwords_lock_that_user_out_from_that_address(promoter_a):
    make_staff("promo", promoter_a["promoter"], "owner")
    attacker = fan()
    login = "/admin/login/?next=/admin/"
    for _ in range(4):
        wrong = attacker.post(login, {"username": "promo", "password": "guess"})
        assert wrong.status_code == 200  # the form again, "enter a correct username..."
    fifth = attacker.post(login, {"username": "promo", "password": "guess"})
    locked = attacker.post(login, {"username": "promo", "password": "pw"})  # even the right one
    for refused in (fifth, locked):
        assert_retry_after(refused, 15 * 60)
        assert int(refused["Retry-After"]) == 15 * 60
        assert "Too many failed logins" in refused.content.decode()
        assert "sessionid" not in refused.cookies
    # The promoter, from their own address, still logs in: nobody can lock them out remotely.
    assert fan(OTHER_FAN).post(login, {"username": "promo", "password": "pw"}).status_code == 302


def test_the_test_clients_login_still_works(promoter_a):
    make_staff("promo", promoter_a["promoter"], "owner")
    assert Client().login(username="promo", password="pw")


# --- The hot paths: no limit, no cookie -------------------------------------------------------


def test_widget_and_beacon_are_never_limited_and_stay_cookie_free(limits, settings, promoter_a):
    use_sink(settings, "local")
    client = fan()
    for _ in range(30):
        widget = client.get("/widget/v1/artists/alpha-artist/events")
        beacon = post_hits(client, [hit()])
        assert (widget.status_code, beacon.status_code) == (200, 204)
        for response in (widget, beacon):
            assert "Set-Cookie" not in response and not response.cookies
            assert "Cookie" not in response.get("Vary", "")
            assert "Retry-After" not in response


# --- Concurrency: PostgreSQL ------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_holds_of_one_client_never_pass_the_cap(limits):
    from .checkout import run_concurrently

    limits.RATE_LIMITS = {k: v for k, v in limits.RATE_LIMITS.items() if k != "holds"}
    _, (ga,), _ = event_on_sale(capacities=(600,), max_per_order=8)
    clients = [FAN] * 30 + [OTHER_FAN] * 10 + [f"192.0.2.{n}" for n in range(10)]

    def call(address):
        def hold():
            response = post_hold(fan(address), (ga, 8))
            return address, response.status_code

        return hold

    results = run_concurrently([call(address) for address in clients])
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors[:3]
    made = {}
    for address, status in results:
        assert status in (201, 429)
        made[address] = made.get(address, 0) + (status == 201)
    assert made[FAN] == made[OTHER_FAN] == 2
    assert all(made[f"192.0.2.{n}"] == 1 for n in range(10))
    assert Hold.objects.filter(state="active").count() == 14
    ga.refresh_from_db()
    assert ga.held == 14 * 8


def _key(address):
    return client_key(RequestFactory().get("/", REMOTE_ADDR=address))


def _body(ticket_type, quantity=1):
    return json.dumps({"items": [{"ticket_type": ticket_type.pk, "quantity": quantity}]})
