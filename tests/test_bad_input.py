"""Bad input is a 4xx with a message, never a 500, and loses nothing already stored: NUL
characters anywhere a value comes from, JSON nested past a sane depth, dates out of range in the
analytics filters, a reused Idempotency-Key, line breaks in an event name, formulas in CSV cells.

The suite runs on SQLite and on PostgreSQL (which refuses NUL in text: there each NUL case was a
500 before `ticketing.inputs`)."""

import csv
import io
import json

import pytest
from django.test import Client
from django.urls import reverse

from ticketing.events.models import Affiliate, Artist, Membership
from ticketing.inputs import MAX_JSON_DEPTH
from ticketing.orders import services
from ticketing.orders.models import Hold, Order
from ticketing.tracking import services as tracking
from ticketing.tracking.hits import Hit

from .checkout import event_on_sale, post_order
from .conftest import make_staff

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def nested(depth: int) -> str:
    """A JSON array `depth` levels deep (built as text: json.dumps would recurse as deep)."""
    return "[" * depth + "]" * depth


@pytest.fixture
def shop():
    event, (ga,), catalogue = event_on_sale(capacities=(10,))
    hold = services.create_hold([{"ticket_type": ga.pk, "quantity": 2}])
    order, _ = services.place_order(
        services.create_hold([{"ticket_type": ga.pk, "quantity": 1}]).token,
        name="Ada", email="ada@example.com", idempotency_key="first-key",
    )  # fmt: skip
    staff = make_staff("manager", catalogue["promoter"], Membership.Role.MANAGER)
    return {"event": event, "ga": ga, "hold": hold, "order": order, "staff": staff}


def request(client, method, path, body=None, content_type=FORM, **extra):
    kwargs = {"content_type": content_type, **extra} if body is not None else extra
    if body is not None:
        kwargs["data"] = body if isinstance(body, str) else json.dumps(body)
    return getattr(client, method)(path, **kwargs)


def stored(shop):
    """What bad input must never change: the counters, the hold and the order."""
    shop["ga"].refresh_from_db()
    hold = Hold.objects.get(pk=shop["hold"].pk)
    order = Order.objects.get(pk=shop["order"].pk)
    return (shop["ga"].held, shop["ga"].sold, hold.state, order.state, order.name)


# (method, path, body, content type, extra): {event}, {tt}, {token}, {code} and {access} are
# filled in from the shop. Every value a view reads, in every place it can come from.
NUL_REQUESTS = [
    # fan pages
    ("get", "/e/{event}%00/", None, None, {}),
    ("get", "/e/{event}/?affiliate=fan%00s&click=%00", None, None, {}),
    ("post", "/e/{event}/hold", "qty-{tt}=1&affiliate=fan%00s", FORM, {}),
    ("post", "/e/{event}/hold", "qty-{tt}%00=1", FORM, {}),
    ("get", "/holds/{token}%00/", None, None, {}),
    ("post", "/holds/{token}/order", "name=Ada%00&email=ada@example.com", FORM, {}),
    (
        "post",
        "/holds/{token}/order",
        "name=Ada&email=ada@example.com&idempotency_key=k%00",
        FORM,
        {},
    ),
    ("post", "/holds/%00/release", "", FORM, {}),
    ("get", "/orders/{code}%00/{access}/", None, None, {}),
    ("post", "/orders/lookup/", "code={code}%00&email=ada@example.com", FORM, {}),
    ("post", "/orders/lookup/", "code={code}&email=ada%00@example.com", FORM, {}),
    ("get", "/orders/lookup/?code=%00", None, None, {}),
    # the checkout API
    ("get", "/api/v1/holds/{token}%00", None, None, {}),
    ("delete", "/api/v1/holds/%00", None, None, {}),
    ("post", "/api/v1/holds/%00/order", {"name": "Ada", "email": "ada@example.com"}, JSON, {}),
    (
        "post",
        "/api/v1/holds/{token}/order",
        {"name": "Ada\x00", "email": "ada@example.com"},
        JSON,
        {},
    ),
    (
        "post",
        "/api/v1/holds",
        {"items": [{"ticket_type": "{tt}", "quantity": 1}], "affiliate": "\x00", "click": "\x00"},
        JSON,
        {},
    ),
    ("get", "/api/v1/orders/{code}%00?email=ada@example.com", None, None, {}),
    ("get", "/api/v1/orders/{code}?email=ada%00@example.com", None, None, {}),
    ("get", "/api/v1/events/{event}%00/availability", None, None, {}),
    ("get", "/api/v1/time?%00", None, None, {}),
    # the widget API, its pages and the tracking beacon
    ("get", "/widget/v1/artists/alpha-artist%00/events", None, None, {}),
    ("get", "/widget/v1/artists/alpha-artist/events?affiliate=%00&limit=1%00", None, None, {}),
    ("get", "/widget/artists/alpha-artist/?affiliate=%00", None, None, {}),
    ("get", "/widget/demo/?artist=%00&accent=%00", None, None, {}),
    ("post", "/t", [{"id": "hit-1", "type": "view", "artist": "alpha-artist\x00"}], JSON, {}),
    ("get", "/t.gif?id=hit-1&type=view&artist=alpha-artist%00", None, None, {}),
    # cookies reach the session table
    ("get", "/admin/", None, None, {"HTTP_COOKIE": "sessionid=abcdefgh\x00ijkl"}),
]


@pytest.mark.parametrize(("method", "path", "body", "content_type", "extra"), NUL_REQUESTS)
def test_a_nul_anywhere_is_a_400_with_a_message(shop, method, path, body, content_type, extra):
    before = stored(shop)
    values = {"event": shop["event"].slug, "tt": shop["ga"].pk, "token": shop["hold"].token,
              "code": shop["order"].code, "access": shop["order"].access_key}  # fmt: skip
    path = path.format(**values)
    if isinstance(body, str):
        body = body.format(**values)
    elif body is not None:
        body = json.loads(json.dumps(body).replace('"{tt}"', str(shop["ga"].pk)))
    response = request(Client(raise_request_exception=False), method, path, body,
                       content_type or FORM, **extra)  # fmt: skip
    assert response.status_code == 400, response.content[:300]
    error = response.json()  # the beacon's errors are {"error": message}, the others' have a code
    assert error.get("detail", error["error"]), error
    if "detail" in error:
        assert error["error"] in ("nul_character", "malformed_json", "invalid"), error
    assert stored(shop) == before


def test_a_nul_in_the_idempotency_key_header_is_a_400(shop):
    response = post_order(Client(), shop["hold"].token, key="key\x00")
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["detail"]
    assert Hold.objects.get(pk=shop["hold"].pk).state == "active"


@pytest.mark.parametrize(
    "body",
    [
        "[" * 100_000,  # the decoder would recurse until RecursionError
        '{"items": ' + nested(MAX_JSON_DEPTH) + "}",  # 1 + 32 levels
        '{"items": [{"ticket_type": 1, "quantity": 1}], "extra": ' + nested(900) + "}",
        '{"items": [{"ticket_type": ' + nested(500) + ', "quantity": 1}]}',
    ],
    ids=["unclosed", "just-too-deep", "deep-extra-field", "deep-echoed-field"],
)
@pytest.mark.parametrize("path", ["/api/v1/holds", "/api/v1/holds/{token}/order"])
def test_json_nested_past_a_sane_depth_is_a_400(shop, body, path):
    before = stored(shop)
    client = Client(raise_request_exception=False)
    response = client.post(path.format(token=shop["hold"].token), body, content_type=JSON)
    assert response.status_code == 400
    assert response.json()["error"] == "malformed_json"
    assert str(MAX_JSON_DEPTH) in response.json()["detail"]
    assert stored(shop) == before


def test_json_as_deep_as_allowed_is_parsed(shop):
    response = Client().post(
        "/api/v1/holds", '{"items": ' + nested(MAX_JSON_DEPTH - 1) + "}", content_type=JSON
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid"  # parsed
    brackets_in_strings = {"items": [{"ticket_type": shop["ga"].pk, "quantity": 1}],
                           "affiliate": "[" * 30 + "{" * 30}  # fmt: skip
    response = Client().post("/api/v1/holds", brackets_in_strings, content_type=JSON)
    assert response.status_code == 201


@pytest.mark.parametrize(
    "body", ["[" * 10_000, '[{"id": "x", "type": "view", "artist": ' + nested(950) + "}]"]
)
def test_the_beacon_refuses_deep_json_with_a_400(body):
    response = Client(raise_request_exception=False).post("/t", body, content_type="text/plain")
    assert response.status_code == 400 and response.json()["error"]


ANALYTICS = "/admin/tracking/hitcounter/"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "0000-01-01"}, "Enter a valid date"),
        ({"start": "99999-01-01"}, "Enter a valid date"),
        ({"start": "0001-01-01", "end": "0001-01-05"}, "Choose a date from 2000-01-01"),
        ({"end": "0001-01-01"}, "Choose a date from 2000-01-01"),
        ({"start": "9999-12-30", "end": "9999-12-31"}, "to 2099-12-31"),
        ({"start": "9999-12-31", "format": "csv"}, "to 2099-12-31"),
        ({"start": "2000-01-01", "end": "2099-12-31"}, "Choose at most 366 days"),
        ({"start": "2025-03-01", "end": "2025-01-01"}, "The start date is after the end date"),
        ({"event": "9" * 30}, "Select a valid choice"),
    ],
)
def test_analytics_filters_out_of_range_are_a_400_with_the_reason(client, shop, query, message):
    client.force_login(shop["staff"])
    response = client.get(ANALYTICS, query)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_analytics_at_the_edges_of_the_date_bounds_answer(client, shop):
    client.force_login(shop["staff"])
    for query in ({"start": "2000-01-01", "end": "2000-01-31"},
                  {"start": "2099-12-01", "end": "2099-12-31", "format": "csv"}):  # fmt: skip
        assert client.get(ANALYTICS, query).status_code == 200


# --- Idempotency-Key: the same key with another request body is a 422 ------------------------


def test_idempotency_key_reused_with_a_different_body_is_a_422(client, shop):
    token = shop["hold"].token
    first = post_order(client, token, key="attempt-1", email="ada@example.com")
    assert first.status_code == 201
    replay = post_order(client, token, key="attempt-1", email="ada@example.com")
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    assert replay.json()["code"] == first.json()["code"]

    for changed in ({"email": "eve@example.com"}, {"name": "Eve"}):
        response = post_order(client, token, key="attempt-1", **changed)
        assert response.status_code == 422
        assert response.json()["error"] == "idempotency_key_reused"
        assert "different details" in response.json()["detail"]
    with_payment = client.post(
        f"/api/v1/holds/{token}/order",
        {"name": "Ada Lovelace", "email": "ada@example.com", "payment": "venue"},
        content_type=JSON, headers={"Idempotency-Key": "attempt-1"},
    )  # fmt: skip
    assert with_payment.status_code == 422
    order = Order.objects.get(code=first.json()["code"])
    assert (order.name, order.email) == ("Ada Lovelace", "ada@example.com")
    assert Order.objects.filter(hold__token=token).count() == 1


def test_idempotency_key_reused_with_a_different_body_on_the_hold_form(client, shop):
    """The hold page's form carries its key too; a changed resubmission keeps the order."""
    url = reverse("orders:order_create", args=[shop["hold"].token])
    form = {"name": "Ada", "email": "ada@example.com", "idempotency_key": "form-1"}
    first = client.post(url, form)
    order = Order.objects.get(hold=shop["hold"])
    assert first.status_code == 302 and first["Location"] == order.get_absolute_url()
    changed = client.post(url, {**form, "email": "eve@example.com"})
    assert changed.status_code == 302 and changed["Location"] == order.get_absolute_url()
    order.refresh_from_db()
    assert order.email == "ada@example.com"


# --- Emails: CR/LF in an event's name --------------------------------------------------------


def test_line_breaks_in_an_event_name_do_not_silence_its_email(
    client, shop, mailoutbox, django_capture_on_commit_callbacks
):
    shop["event"].name = "Summer\r\nBcc: everyone@example.com\nTour"
    shop["event"].save()
    with django_capture_on_commit_callbacks(execute=True):
        response = post_order(client, shop["hold"].token)
    assert response.status_code == 201
    (message,) = mailoutbox
    assert message.subject == (
        f"Your tickets for Summer Bcc: everyone@example.com Tour – order {response.json()['code']}"
    )
    assert message.bcc == [] and message.to == ["ada@example.com"]


# --- CSV exports: every text cell that a spreadsheet would run is inert ----------------------

FORMULAS = ['=HYPERLINK("http://x")', "+1+1", "\tTAB", "\rCR", "@SUM(A1)", "-2+3"]


def test_both_csv_exports_make_formulas_inert_in_every_text_column(client, shop):
    artist = Artist.objects.get(pk=shop["event"].artist_id)
    artist.name = FORMULAS[0]
    artist.save()
    shop["event"].name = FORMULAS[1]
    shop["event"].save()
    affiliate = Affiliate.objects.get(promoter=artist.promoter)
    affiliate.name, affiliate.domain = FORMULAS[2], FORMULAS[3]
    affiliate.save()
    hold = services.create_hold([{"ticket_type": shop["ga"].pk, "quantity": 1}],
                                affiliate_key=affiliate.public_key)  # fmt: skip
    order, _ = services.place_order(hold.token, name=FORMULAS[4], email="x@example.com")
    tracking.record_hits([Hit("h1", "view", artist.slug, shop["event"].pk, affiliate.public_key,
                              int(order.created_at.timestamp() * 1000), False)])  # fmt: skip
    client.force_login(shop["staff"])

    exported = client.post(reverse("admin:orders_order_changelist"),
                           {"action": "export_csv", "_selected_action": [order.pk]})  # fmt: skip
    orders = list(csv.reader(io.StringIO(b"".join(exported.streaming_content).decode())))
    day = order.created_at.date().isoformat()
    analytics = client.get(ANALYTICS, {"start": day, "end": day, "format": "csv"})
    funnel = list(csv.reader(io.StringIO(analytics.content.decode())))

    (order_row,) = orders[1:]
    event_name = str(shop["event"])  # the name, with the event's local date
    assert event_name.startswith(FORMULAS[1])
    assert order_row[3] == "'" + event_name  # the event
    assert order_row[4] == "'" + FORMULAS[4]  # the fan's name
    affiliate_rows = [row for row in funnel[1:] if row[3] == "'" + FORMULAS[2]]
    assert affiliate_rows and all(
        row[1] == "'" + FORMULAS[0] and row[2] == "'" + event_name and row[4] == "'" + FORMULAS[3]
        for row in affiliate_rows
    ), funnel
    cells = [cell for row in orders + funnel for cell in row]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert order_row[6] == "1" and affiliate_rows[0][5] == "1"  # numbers stay numbers


@pytest.mark.parametrize("formula", FORMULAS)
def test_inert_prefixes_each_formula_and_keeps_other_cells(formula):
    from ticketing.backoffice.exports import inert

    assert inert(formula) == "'" + formula
    assert [inert(v) for v in ("Ada", "", 3, -3, None)] == ["Ada", "", 3, -3, None]
