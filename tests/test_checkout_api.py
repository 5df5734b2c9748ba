"""The checkout JSON API as a client sees it: statuses, error codes, headers."""

import datetime as dt
import smtplib

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from ticketing.events.models import Event, TicketType
from ticketing.orders.models import Hold, Order
from ticketing.outbox.models import Email

from .checkout import event_on_sale, post_hold, post_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def sale():
    event, types, catalogue = event_on_sale(capacities=(10, 5))
    return {"event": event, "ga": types[0], "vip": types[1], **catalogue}


def counters(ticket_type):
    ticket_type.refresh_from_db()
    return ticket_type.held, ticket_type.sold


def assert_no_cookie(response):
    assert "Set-Cookie" not in response and "Cookie" not in response.get("Vary", "")


def test_hold_created_with_token_items_and_expiry(client, sale):
    response = post_hold(client, (sale["ga"], 2), (sale["vip"], 1))
    assert response.status_code == 201
    body = response.json()
    assert len(body["token"]) >= 32
    assert [(i["ticket_type"], i["quantity"]) for i in body["items"]] == [
        (sale["ga"].pk, 2), (sale["vip"].pk, 1),
    ]  # fmt: skip
    assert body["total"] == "60.00" and body["currency"] == "EUR"
    expires_at = dt.datetime.fromisoformat(body["expires_at"])
    assert dt.timedelta(minutes=9) < expires_at - timezone.now() <= dt.timedelta(minutes=10)
    assert body["url"].endswith(f"/holds/{body['token']}/")
    assert counters(sale["ga"]) == (2, 0) and counters(sale["vip"]) == (1, 0)
    assert_no_cookie(response)


def test_sold_out_and_insufficient_answer_what_is_left(client, sale):
    assert post_hold(client, (sale["vip"], 4)).status_code == 201
    response = post_hold(client, (sale["vip"], 2))
    assert response.status_code == 409
    assert response.json() | {"detail": ""} == {
        "error": "insufficient", "available": 1, "ticket_type": sale["vip"].pk, "detail": "",
    }  # fmt: skip
    assert post_hold(client, (sale["vip"], 1)).status_code == 201
    response = post_hold(client, (sale["vip"], 1))
    assert response.status_code == 409
    assert response.json()["error"] == "sold_out" and response.json()["available"] == 0


def test_multi_item_hold_that_would_oversell_one_type_takes_nothing(client, sale):
    assert post_hold(client, (sale["vip"], 4)).status_code == 201
    response = post_hold(client, (sale["ga"], 3), (sale["vip"], 2))
    assert response.status_code == 409
    assert response.json()["ticket_type"] == sale["vip"].pk
    assert counters(sale["ga"]) == (0, 0)
    assert counters(sale["vip"]) == (4, 0)
    assert Hold.objects.count() == 1


@pytest.mark.parametrize(
    "body, field",
    [
        ({"items": []}, "items"),
        ({}, "items"),
        ({"items": [{"ticket_type": "GA", "quantity": 1}]}, "items"),
        ({"items": [{"ticket_type": 1, "quantity": 0}]}, "items"),
        ({"items": [{"ticket_type": 1, "quantity": -2}]}, "items"),
        ({"items": [{"ticket_type": 1, "quantity": 1.5}]}, "items"),
        ({"items": [{"ticket_type": 1, "quantity": "two"}]}, "items"),
        ({"items": [{"ticket_type": 1, "quantity": True}]}, "items"),
        ({"items": [{"ticket_type": 1}]}, "items"),
        ({"items": "GA"}, "items"),
        ([1, 2], "non_field_errors"),
    ],
)
def test_malformed_hold_requests_are_400(client, sale, body, field):
    if isinstance(body, dict):
        for item in body.get("items", []) if isinstance(body.get("items"), list) else []:
            item["ticket_type"] = sale["ga"].pk if item["ticket_type"] == 1 else "GA"
    response = client.post("/api/v1/holds", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid" and field in response.json()["fields"]
    assert counters(sale["ga"]) == (0, 0)


def test_over_max_per_order_unknown_ids_and_mixed_events_are_400(client, sale):
    response = post_hold(client, (sale["ga"], 7))
    assert response.status_code == 400
    assert response.json()["max_per_order"] == 6 and "At most 6" in response.json()["detail"]
    # A type named twice counts once with both quantities.
    assert post_hold(client, (sale["ga"], 4), (sale["ga"], 3)).status_code == 400

    response = post_hold(client, (999_999, 1))
    assert response.status_code == 400 and response.json()["unknown_ticket_types"] == [999_999]

    _, other_types, _ = event_on_sale("bravo")
    response = post_hold(client, (sale["ga"], 1), (other_types[0], 1))
    assert response.status_code == 400 and "one event" in response.json()["detail"]
    assert counters(sale["ga"]) == (0, 0)


def test_malformed_json_is_400(client, sale):
    response = client.post("/api/v1/holds", "{items: [", content_type="application/json")
    assert response.status_code == 400 and response.json()["error"] == "malformed_json"


@pytest.mark.parametrize(
    "change, code",
    [
        ({"on_sale_at": "future"}, "not_yet_on_sale"),
        ({"off_sale_at": "past"}, "sales_closed"),
        ({"status": Event.Status.CANCELLED}, "event_cancelled"),
        ({"is_published": False}, "event_unpublished"),
    ],
)
def test_event_not_on_sale_is_409_with_its_code(client, sale, change, code):
    now = timezone.now()
    event = sale["event"]
    when = {"future": now + dt.timedelta(hours=1), "past": now - dt.timedelta(minutes=1)}
    if change.get("off_sale_at"):
        Event.objects.filter(pk=event.pk).update(on_sale_at=now - dt.timedelta(days=2))
    Event.objects.filter(pk=event.pk).update(**{k: when.get(v, v) for k, v in change.items()})
    response = post_hold(client, (sale["ga"], 1))
    assert response.status_code == 409
    assert response.json()["error"] == code
    assert counters(sale["ga"]) == (0, 0)


def test_ticket_type_sales_window_applies(client, sale):
    TicketType.objects.filter(pk=sale["vip"].pk).update(
        sales_start_at=timezone.now() + dt.timedelta(hours=1)
    )
    response = post_hold(client, (sale["ga"], 1), (sale["vip"], 1))
    assert response.status_code == 409
    assert response.json()["error"] == "not_yet_on_sale"
    assert response.json()["ticket_type"] == sale["vip"].pk


def test_attribution_travels_from_hold_to_order(client, sale):
    click = "6f1c1a4e-4a8b-4f5e-9a59-2f9f3f0a7a11"
    key = sale["affiliate"].public_key
    token = post_hold(client, (sale["ga"], 1), affiliate=key, click=click).json()["token"]
    post_order(client, token, key="k-attr")
    order = Order.objects.get()
    assert order.affiliate == sale["affiliate"] and str(order.click_id) == click


def test_foreign_or_unknown_affiliate_never_blocks_a_sale(client, sale):
    _, _, other = event_on_sale("bravo")
    response = post_hold(
        client, (sale["ga"], 1), affiliate=other["affiliate"].public_key, click="not-a-uuid"
    )
    assert response.status_code == 201
    hold = Hold.objects.get(token=response.json()["token"])
    assert hold.affiliate is None and hold.click_id is None


def test_order_from_hold_then_same_key_returns_the_same_order(
    client, sale, mailoutbox, django_capture_on_commit_callbacks
):
    token = post_hold(client, (sale["ga"], 2)).json()["token"]
    with django_capture_on_commit_callbacks(execute=True):
        first = post_order(client, token, key="key-1")
    assert first.status_code == 201
    body = first.json()
    assert body["state"] == "confirmed" and body["total"] == "50.00"
    assert body["payment_provider"] == "venue" and body["payment_status"] == "due"
    assert len(body["tickets"]) == 2 and len({t["code"] for t in body["tickets"]}) == 2
    with django_capture_on_commit_callbacks(execute=True):
        again = post_order(client, token, key="key-1")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json()["code"] == body["code"]
    assert Order.objects.count() == 1 and len(mailoutbox) == 1
    assert counters(sale["ga"]) == (0, 2)
    assert_no_cookie(first)

    other = post_order(client, token, key="key-2")
    assert other.status_code == 409 and other.json()["error"] == "hold_ordered"
    token_b = post_hold(client, (sale["ga"], 1)).json()["token"]
    reused = post_order(client, token_b, key="key-1")
    assert reused.status_code == 422 and reused.json()["error"] == "idempotency_key_reused"


@pytest.mark.parametrize(
    "name, email",
    [("", "ada@example.com"), ("Ada", "not-an-email"), ("Ada", ""), ("  ", "a@b"), ("Ada", None)],
)
def test_order_with_bad_customer_details_is_400_and_keeps_the_hold(client, sale, name, email):
    token = post_hold(client, (sale["ga"], 1)).json()["token"]
    response = client.post(
        f"/api/v1/holds/{token}/order", {"name": name, "email": email},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 400
    assert response.json()["error"] == "invalid"
    assert Hold.objects.get(token=token).state == "active"
    assert post_order(client, token).status_code == 201


def test_order_on_unknown_or_lapsed_hold(client, sale):
    assert post_order(client, "no-such-token").status_code == 404
    token = post_hold(client, (sale["ga"], 1)).json()["token"]
    now = timezone.now()
    Hold.objects.filter(token=token).update(
        created_at=now - dt.timedelta(minutes=11), expires_at=now - dt.timedelta(seconds=1)
    )
    response = post_order(client, token)
    assert response.status_code == 409 and response.json()["error"] == "hold_expired"
    assert Order.objects.count() == 0


def test_release_hold_returns_seats_and_is_idempotent(client, sale):
    token = post_hold(client, (sale["ga"], 3)).json()["token"]
    assert client.get(f"/api/v1/holds/{token}").json()["state"] == "active"
    assert client.delete(f"/api/v1/holds/{token}").status_code == 204
    assert counters(sale["ga"]) == (0, 0)
    assert client.delete(f"/api/v1/holds/{token}").status_code == 204
    assert counters(sale["ga"]) == (0, 0)
    assert post_order(client, token).json()["error"] == "hold_released"
    assert client.delete("/api/v1/holds/nope").status_code == 404


def test_order_lookup_by_code_and_email(client, sale):
    token = post_hold(client, (sale["ga"], 1)).json()["token"]
    code = post_order(client, token, email="Ada@Example.com").json()["code"]
    response = client.get(f"/api/v1/orders/{code}", {"email": "ada@example.com"})
    assert response.status_code == 200 and response.json()["code"] == code
    assert "no-store" in response["Cache-Control"]
    assert client.get(f"/api/v1/orders/{code}", {"email": "eve@example.com"}).status_code == 404
    assert client.get(f"/api/v1/orders/{code}").status_code == 400


def test_server_time_is_milliseconds_and_never_cached(client):
    before = timezone.now().timestamp() * 1000
    response = client.get("/api/v1/time")
    after = timezone.now().timestamp() * 1000
    assert before - 1 <= response.json()["now"] <= after + 1
    assert response["Cache-Control"] == "no-store"
    assert_no_cookie(response)


def test_availability_is_cacheable_and_counts_lapsed_holds_as_free(client, sale):
    from ticketing.orders import services

    services.create_hold([{"ticket_type": sale["vip"].pk, "quantity": 4}])
    stale = services.create_hold(
        [{"ticket_type": sale["vip"].pk, "quantity": 1}],
        now=timezone.now() - dt.timedelta(minutes=11),
    )
    assert stale.state == "active"
    response = client.get(f"/api/v1/events/{sale['event'].slug}/availability")
    assert response["Cache-Control"] == "public, max-age=5, s-maxage=5"
    assert_no_cookie(response)
    body = response.json()
    assert body["status"] == "on_sale"
    vip = next(row for row in body["ticket_types"] if row["id"] == sale["vip"].pk)
    assert vip == {"id": sale["vip"].pk, "available": 1, "max_quantity": 1}


def test_api_docs_and_schema_are_served(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    text = schema.content.decode()
    for path in ("/api/v1/holds", "/api/v1/holds/{token}/order", "/api/v1/time"):
        assert path in text
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger-ui" in docs.content
    assert b"cdn.jsdelivr" not in docs.content  # vendored, works offline


class BrokenMailServer(BaseEmailBackend):
    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("mail server gone")


def test_an_email_failure_loses_neither_the_order_nor_the_email(
    client, sale, settings, django_capture_on_commit_callbacks, caplog
):
    settings.EMAIL_BACKEND = f"{__name__}.BrokenMailServer"
    token = post_hold(client, (sale["ga"], 1)).json()["token"]
    with django_capture_on_commit_callbacks(execute=True):
        response = post_order(client, token, key="mail-down")
    assert response.status_code == 201
    order = Order.objects.get()
    assert order.code == response.json()["code"]
    email = Email.objects.get(reference=order.code)  # tried, and waiting for the next attempt
    assert (email.state, email.attempts, email.to) == ("pending", 1, ["ada@example.com"])
    assert "mail server gone" in email.last_error and "mail server gone" in caplog.text


def test_sold_out_is_not_logged_as_a_warning_but_bad_input_is(client, sale, caplog):
    assert post_hold(client, (sale["vip"], 5)).status_code == 201
    with caplog.at_level("WARNING", logger="django.request"):
        assert post_hold(client, (sale["vip"], 1)).status_code == 409
        assert post_hold(client, (sale["vip"], 0)).status_code == 400
    assert [record.status_code for record in caplog.records] == [400]


def test_openapi_schema_validates_without_warnings(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", tmp_path / "api.yml")
    assert "/api/v1/holds/{token}/order" in (tmp_path / "api.yml").read_text()
