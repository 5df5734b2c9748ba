"""Sales for the analytics funnel: confirmed orders, tickets and revenue per currency, grouped by
the keys the tracking counters use (UTC day, artist, event, affiliate)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from ticketing.events.models import Affiliate
from ticketing.orders import selectors, services
from ticketing.orders.models import Order
from ticketing.orders.selectors import Sales

from .checkout import event_on_sale

pytestmark = pytest.mark.django_db


def order(ticket_type, quantity, affiliate=None, at=None):
    hold = services.create_hold(
        [{"ticket_type": ticket_type.pk, "quantity": quantity}],
        affiliate_key=affiliate.public_key if affiliate else None,
    )
    placed = services.place_order(hold.token, name="Ada", email="ada@example.com")[0]
    if at is not None:
        Order.objects.filter(pk=placed.pk).update(created_at=at)
    return placed


def test_orders_tickets_and_revenue_per_affiliate_and_currency():
    event, (ga, vip), catalogue = event_on_sale(capacities=(50, 10))  # GA 25.00, VIP 10.00 EUR
    fans = catalogue["affiliate"]
    blog = Affiliate.objects.create(promoter=catalogue["promoter"], name="Blog", domain="b.example")
    order(ga, 2, fans)
    order(vip, 3, fans)
    order(ga, 1, blog)
    order(ga, 4)
    services.cancel_order(order(ga, 5, blog))  # cancelled orders are no sales
    dollars, (usd,), other = event_on_sale("bravo", capacities=(20,))
    usd.currency = "USD"
    usd.save()
    order(usd, 2)  # another artist's

    today = timezone.now().date()
    mine = Order.objects.filter(event__artist=event.artist)
    assert selectors.sales(mine, today, today, ["affiliate"]) == {
        (fans.pk,): Sales(orders=2, tickets=5, revenue=(("EUR", Decimal("80.00")),)),
        (blog.pk,): Sales(orders=1, tickets=1, revenue=(("EUR", Decimal("25.00")),)),
        (None,): Sales(orders=1, tickets=4, revenue=(("EUR", Decimal("100.00")),)),
    }
    revenue = (("EUR", Decimal("205.00")), ("USD", Decimal("50.00")))
    assert selectors.sales(Order.objects.all(), today, today) == {(): Sales(5, 12, revenue)}
    by_event = selectors.sales(Order.objects.all(), today, today, ["artist", "event"])
    assert by_event[(other["artist"].pk, dollars.pk)] == Sales(1, 2, (("USD", Decimal("50.00")),))

    tomorrow = today + dt.timedelta(days=1)
    assert selectors.sales(Order.objects.all(), tomorrow, tomorrow) == {}


def test_orders_count_on_their_utc_day_whatever_the_time_zone(settings):
    settings.TIME_ZONE = "Pacific/Kiritimati"  # UTC+14: 23:30 UTC is the next morning there
    _, (ga,), _ = event_on_sale(capacities=(50,))
    day = timezone.now().date() - dt.timedelta(days=3)
    late = dt.datetime.combine(day, dt.time(23, 30), dt.UTC)
    order(ga, 1, at=late)
    order(ga, 2, at=late + dt.timedelta(hours=1))

    around = day - dt.timedelta(days=1), day + dt.timedelta(days=1)
    found = selectors.sales(Order.objects.all(), *around, ["day"])
    assert {key: sales.tickets for key, sales in found.items()} == {
        (day,): 1,
        (day + dt.timedelta(days=1),): 2,
    }
    assert selectors.sales(Order.objects.all(), day, day) == {
        (): Sales(1, 1, (("EUR", Decimal("25.00")),))
    }
