"""A hold becomes an order only while its event still sells: not once the event was cancelled,
unpublished or its sales moved to later since the hold was made; yes when sales merely closed
meanwhile (the fan was already at checkout, and the seats are theirs until the hold runs out)."""

import datetime as dt
import threading
import time

import pytest
from django.db import connection, transaction
from django.utils import timezone

from ticketing.events import services as catalogue
from ticketing.events.models import Event
from ticketing.orders import services
from ticketing.orders.errors import NotOnSale
from ticketing.orders.models import Hold, Order

from .checkout import event_on_sale, post_hold, post_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def sale():
    event, (ga,), _ = event_on_sale(capacities=(10,))
    return {"event": event, "ga": ga}


def events(sale):
    return Event.objects.filter(pk=sale["event"].pk)


def cancel(sale):
    catalogue.cancel_events(events(sale))  # what the admin action does


def unpublish(sale):
    catalogue.set_published(events(sale), False)


def move_sales_later(sale):
    events(sale).update(on_sale_at=timezone.now() + dt.timedelta(hours=1))


def close_sales(sale):
    events(sale).update(off_sale_at=timezone.now() - dt.timedelta(seconds=1))


REFUSED = [
    (cancel, "event_cancelled", "This event has been cancelled"),
    (unpublish, "event_unpublished", "This event has been taken off sale"),
    (move_sales_later, "not_yet_on_sale", "Sales for this event have been moved to a later date"),
]


@pytest.mark.parametrize("change, code, message", REFUSED, ids=[r[1] for r in REFUSED])
def test_api_refuses_the_order_with_409_and_a_stable_code(client, sale, change, code, message):
    token = post_hold(client, (sale["ga"], 2)).json()["token"]
    change(sale)
    response = post_order(client, token, key="k1")
    assert response.status_code == 409
    assert response.json()["error"] == code
    assert response.json()["detail"].startswith(message)
    assert Order.objects.count() == 0
    sale["ga"].refresh_from_db()
    assert (sale["ga"].held, sale["ga"].sold) == (2, 0)  # the hold lapses as any other would
    assert Hold.objects.get(token=token).state == "active"


@pytest.mark.parametrize("change, code, message", REFUSED, ids=[r[1] for r in REFUSED])
def test_hold_page_tells_the_fan_and_offers_no_order_form(client, sale, change, code, message):
    token = post_hold(client, (sale["ga"], 2)).json()["token"]
    change(sale)
    page = client.get(f"/holds/{token}/")
    assert page.status_code == 409
    text = page.content.decode()
    assert f'role="alert">{message}' in text and "Place order" not in text
    posted = client.post(f"/holds/{token}/order", {"name": "Ada", "email": "ada@example.com"})
    assert posted.status_code == 409 and message in posted.content.decode()
    assert Order.objects.count() == 0


def test_a_hold_made_before_sales_closed_can_still_be_ordered_in_its_time(client, sale):
    token = post_hold(client, (sale["ga"], 2)).json()["token"]
    close_sales(sale)
    assert post_hold(client, (sale["ga"], 1)).json()["error"] == "sales_closed"  # no new holds
    assert "Place order" in client.get(f"/holds/{token}/").content.decode()
    response = post_order(client, token)
    assert response.status_code == 201 and len(response.json()["tickets"]) == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_cancel_committing_while_the_order_is_placed_cannot_slip_past_it(sale):
    """The cancel's transaction has updated the event and not committed yet: the order waits
    for it (the event row is locked before the seats move) and then sees the cancel. Without
    the lock it would read the old status, commit an order, and the event would be cancelled
    with a live order the cancel never saw."""
    token = services.create_hold([{"ticket_type": sale["ga"].pk, "quantity": 1}]).token
    cancelled, outcome = threading.Event(), {}

    def cancel_slowly():
        try:
            with transaction.atomic():
                cancel(sale)
                cancelled.set()
                time.sleep(1.0)  # the order arrives now
                outcome["committing"] = time.monotonic()
        finally:
            connection.close()

    def order():
        cancelled.wait(10)
        try:
            outcome["order"] = services.place_order(token, name="Ada", email="ada@example.com")
        except NotOnSale as error:
            outcome["refused"] = (error.code, time.monotonic())
        finally:
            connection.close()

    threads = [threading.Thread(target=cancel_slowly), threading.Thread(target=order)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert outcome.get("refused", (None,))[0] == "event_cancelled", outcome
    assert outcome["refused"][1] > outcome["committing"]  # it waited for the cancel's commit
    assert Order.objects.count() == 0
