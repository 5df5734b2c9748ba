"""The fan's pages without JavaScript: event page, hold, order, confirmation, lookup, email."""

import datetime as dt
import re

import pytest
from django.core import mail
from django.utils import timezone

from ticketing.events.models import Event
from ticketing.orders import selectors, services
from ticketing.orders.models import Hold, Order

from .checkout import event_on_sale

pytestmark = pytest.mark.django_db

CLICK = "0b6f6c1e-8f8f-4c8c-9f3e-5a5a5a5a5a5a"


@pytest.fixture
def sale():
    event, types, catalogue = event_on_sale(capacities=(10, 3), max_per_order=4)
    return {"event": event, "ga": types[0], "vip": types[1], **catalogue}


def assert_cookieless(response):
    assert "Set-Cookie" not in response and "Cookie" not in response.get("Vary", "")


def options(page: str, ticket_type) -> list[str]:
    select = re.search(rf'<select id="qty-{ticket_type.pk}".*?</select>', page, re.S).group(0)
    return re.findall(r'<option value="(\d+)"', select)


def buy(client, sale, quantities, **extra):
    data = {f"qty-{t.pk}": str(n) for t, n in quantities.items()} | extra
    return client.post(f"/e/{sale['event'].slug}/hold", data)


def test_prices_read_in_each_currencys_own_minor_unit(
    client, sale, django_capture_on_commit_callbacks
):
    sale["ga"].currency, sale["ga"].price = "JPY", 6500
    sale["ga"].save()
    sale["vip"].delete()
    page = client.get(f"/e/{sale['event'].slug}/", {"lang": "en"}).content.decode()
    assert '<span class="price">JP¥6,500</span>' in page and ">6500.00<" not in page

    hold = services.create_hold([{"ticket_type": sale["ga"].pk, "quantity": 2}])
    with django_capture_on_commit_callbacks(execute=True):
        services.place_order(hold.token, name="Ada", email="ada@example.com")
    assert "JP¥13,000" in mail.outbox[0].body


def test_event_page_lists_types_with_prices_and_pickers_within_limits(client, sale):
    services.create_hold([{"ticket_type": sale["vip"].pk, "quantity": 1}])
    response = client.get(f"/e/{sale['event'].slug}/", {"lang": "en"})
    page = response.content.decode()
    assert "GA" in page and "€25.00" in page and "€10.00" in page
    assert "10 left" in page and "2 left" in page
    assert options(page, sale["ga"]) == ["0", "1", "2", "3", "4"]  # max per order
    assert options(page, sale["vip"]) == ["0", "1", "2"]  # what is left
    assert '<label class="ticket-label" for="qty-' in page
    assert "disabled" not in re.search(r"<fieldset[^>]*>", page).group(0)


def test_event_page_is_cdn_cacheable_and_carries_attribution(client, sale):
    key = sale["affiliate"].public_key
    response = client.get(
        f"/e/{sale['event'].slug}/", {"affiliate": key, "click": CLICK, "lang": "en"}
    )
    assert response["Cache-Control"] == "public, max-age=10, s-maxage=10"
    assert_cookieless(response)
    page = response.content.decode()
    assert f'name="affiliate" value="{key}"' in page and f'name="click" value="{CLICK}"' in page


def test_event_page_before_on_sale_shows_a_locked_form_and_countdown(client, sale):
    on_sale_at = timezone.now() + dt.timedelta(hours=2)
    Event.objects.filter(pk=sale["event"].pk).update(on_sale_at=on_sale_at)
    page = client.get(f"/e/{sale['event'].slug}/", {"lang": "en"}).content.decode()
    assert "Tickets go on sale" in page
    assert f'data-countdown="{int(on_sale_at.timestamp() * 1000)}"' in page
    assert 'role="timer"' in page and 'aria-live="polite"' in page
    assert "disabled" in re.search(r"<fieldset[^>]*>", page).group(0)


@pytest.mark.parametrize(
    "change, notice",
    [
        ({"status": Event.Status.CANCELLED}, "This event is cancelled."),
        ({"off_sale_at": timezone.now() - dt.timedelta(minutes=1)}, "Ticket sales have closed."),
    ],
)
def test_cancelled_and_closed_events_say_so_without_a_form(client, sale, change, notice):
    Event.objects.filter(pk=sale["event"].pk).update(**change)
    page = client.get(f"/e/{sale['event'].slug}/", {"lang": "en"}).content.decode()
    assert notice in page and "<form" not in page.split("<main")[1]


def test_buy_hold_order_confirmation_and_email(client, sale, django_capture_on_commit_callbacks):
    key = sale["affiliate"].public_key
    response = buy(client, sale, {sale["ga"]: 2, sale["vip"]: 1}, affiliate=key, click=CLICK)
    assert response.status_code == 302
    hold_url = response["Location"]
    hold_page = client.get(hold_url)
    assert hold_page["Cache-Control"] == "private, no-store"
    assert_cookieless(hold_page)
    page = hold_page.content.decode()
    assert "2 × GA" in page and "1 × Type 2" in page and "€60.00" in page
    assert 'data-countdown-kind="hold"' in page
    idempotency_key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)

    form = {"name": "Ada Lovelace", "email": "ada@example.com", "idempotency_key": idempotency_key}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{hold_url}order", form)
    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == order.get_absolute_url()
    assert order.affiliate == sale["affiliate"] and str(order.click_id) == CLICK

    confirmation = client.get(response["Location"])
    page = confirmation.content.decode()
    assert order.code in page and "Ada Lovelace" in page
    assert page.count('<svg role="img" viewBox') == 3 and "QR code of ticket 3" in page
    assert confirmation["Cache-Control"] == "private, no-store"

    (email,) = mail.outbox
    assert email.to == ["ada@example.com"] and order.code in email.subject
    assert order.get_absolute_url() in email.body
    html, mimetype = email.alternatives[0]
    assert mimetype == "text/html" and order.code in html

    # A double-clicked submit lands on the same order.
    again = client.post(f"{hold_url}order", form)
    assert again["Location"] == order.get_absolute_url() and Order.objects.count() == 1
    # The hold's page now leads to the order.
    assert client.get(hold_url)["Location"] == order.get_absolute_url()


def test_sold_out_on_buy_shows_the_event_page_with_the_reason(client, sale):
    services.create_hold([{"ticket_type": sale["vip"].pk, "quantity": 3}])
    response = buy(client, sale, {sale["vip"]: 1})
    assert response.status_code == 409
    page = response.content.decode()
    assert 'role="alert"' in page and "Type 2 is sold out." in page
    assert response["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize(
    "quantities, message",
    [({}, "Choose at least one ticket"), ({"ga": 0}, "Choose at least one ticket"),
     ({"ga": 5}, "At most 4 × GA per order"), ({"ga": "x"}, "whole numbers"),
     ({"ga": -1}, "whole numbers of at least 1")],
)  # fmt: skip
def test_bad_quantities_on_the_page_are_400_with_a_message(client, sale, quantities, message):
    data = {f"qty-{sale[name].pk}": str(n) for name, n in quantities.items()}
    response = client.post(f"/e/{sale['event'].slug}/hold", data)
    assert response.status_code == 400 and message in response.content.decode()
    assert Hold.objects.count() == 0


def test_a_ticket_type_of_another_event_cannot_be_bought_from_this_page(client, sale):
    _, (other,), _ = event_on_sale("bravo")
    response = client.post(f"/e/{sale['event'].slug}/hold", {f"qty-{other.pk}": "1"})
    assert response.status_code == 400 and Hold.objects.count() == 0


def test_order_form_errors_keep_the_hold_and_the_input(client, sale):
    hold = services.create_hold([{"ticket_type": sale["ga"].pk, "quantity": 1}])
    response = client.post(f"/holds/{hold.token}/order", {"name": "Ada", "email": "nope"})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'aria-invalid="true"' in page and "valid email address" in page
    assert 'value="Ada"' in page and 'value="nope"' in page
    assert Hold.objects.get(pk=hold.pk).state == "active"


def test_lapsed_hold_page_says_so_and_refuses_the_order(client, sale):
    hold = services.create_hold(
        [{"ticket_type": sale["ga"].pk, "quantity": 1}],
        now=timezone.now() - dt.timedelta(minutes=11),
    )
    page = client.get(f"/holds/{hold.token}/")
    assert page.status_code == 410 and "Your hold ran out" in page.content.decode()
    response = client.post(f"/holds/{hold.token}/order", {"name": "A", "email": "a@b.example"})
    assert response.status_code == 410 and Order.objects.count() == 0


def test_release_from_the_hold_page_returns_the_seats(client, sale):
    hold = services.create_hold([{"ticket_type": sale["ga"].pk, "quantity": 2}])
    response = client.post(f"/holds/{hold.token}/release")
    assert response["Location"] == f"/e/{sale['event'].slug}/?lang=en"
    sale["ga"].refresh_from_db()
    assert sale["ga"].held == 0
    assert client.get("/holds/unknown-token/").status_code == 404


def test_order_lookup_by_code_and_email(client, sale):
    hold = services.create_hold([{"ticket_type": sale["ga"].pk, "quantity": 1}])
    order, _ = services.place_order(hold.token, name="Ada", email="ada@example.com")
    assert client.get("/orders/lookup/").status_code == 200
    found = client.post("/orders/lookup/", {"code": order.code.lower(), "email": "ADA@example.com"})
    assert found["Location"] == order.get_absolute_url()
    missing = client.post("/orders/lookup/", {"code": order.code, "email": "eve@example.com"})
    assert missing.status_code == 404 and "found no order" in missing.content.decode()
    assert client.get(f"/orders/{order.code}/wrong-key/").status_code == 404


def test_signed_ticket_secret_identifies_the_ticket_at_the_door(sale):
    hold = services.create_hold([{"ticket_type": sale["ga"].pk, "quantity": 1}])
    order, _ = services.place_order(hold.token, name="Ada", email="ada@example.com")
    ticket = order.tickets.get()
    assert selectors.ticket_from_scan(ticket.signed_secret) == ticket
    assert selectors.ticket_from_scan(ticket.secret + ":forged") is None
    assert selectors.ticket_from_scan(ticket.secret) is None
