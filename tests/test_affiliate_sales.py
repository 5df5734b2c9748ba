"""Orders per affiliate over a date range: what the tracking analytics add to views/clicks."""

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from ticketing.events.models import Affiliate
from ticketing.orders import selectors, services
from ticketing.orders.models import Order

from .checkout import event_on_sale

pytestmark = pytest.mark.django_db


def order(ticket_type, quantity, affiliate=None, click=None):
    hold = services.create_hold(
        [{"ticket_type": ticket_type.pk, "quantity": quantity}],
        affiliate_key=affiliate.public_key if affiliate else None,
        click_id=click,
    )
    return services.place_order(hold.token, name="Ada", email="ada@example.com")[0]


def test_orders_tickets_and_converted_clicks_per_affiliate():
    event, (ga,), catalogue = event_on_sale(capacities=(50,))
    fans = catalogue["affiliate"]
    blog = Affiliate.objects.create(promoter=catalogue["promoter"], name="Blog", domain="b.example")
    click = uuid.uuid4()
    order(ga, 2, fans, click)
    order(ga, 1, fans, click)  # the same click bought twice: one converted click
    order(ga, 3, fans, uuid.uuid4())
    order(ga, 1, blog)
    order(ga, 4)
    services.cancel_order(order(ga, 5, blog))  # cancelled orders do not count
    _, (other_ga,), _ = event_on_sale("bravo")
    order(other_ga, 2)  # another artist's

    today = timezone.now().date()
    rows = selectors.sales_by_affiliate(Order.objects.filter(event__artist=event.artist),
                                        today, today)  # fmt: skip
    by_key = {row.affiliate_key: row for row in rows}
    assert (by_key[fans.public_key].orders, by_key[fans.public_key].tickets) == (3, 6)
    assert by_key[fans.public_key].clicks_converted == 2
    assert by_key[fans.public_key].affiliate_id == fans.pk
    assert (by_key[blog.public_key].orders, by_key[blog.public_key].tickets) == (1, 1)
    assert (by_key[None].orders, by_key[None].tickets, by_key[None].clicks_converted) == (1, 4, 0)

    tomorrow = today + dt.timedelta(days=1)
    assert selectors.sales_by_affiliate(Order.objects.all(), tomorrow, tomorrow) == []
