"""Checkout in Chromium: from the demo widget's Tickets button (which opens the event page with
its affiliate and click id) through hold and order to the QR tickets; and the on-sale countdown."""

import datetime as dt
import re

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from ticketing.events.demo import DEMO_AFFILIATE_KEY
from ticketing.events.models import Event, TicketType
from ticketing.orders import services
from ticketing.orders.models import Order

from .checkout import event_on_sale

pytestmark = pytest.mark.django_db(transaction=True)


def test_from_the_widget_through_checkout_to_qr_tickets(live_server, page):
    call_command("seed_demo")
    page.goto(f"{live_server.url}/widget/demo/?affiliate={DEMO_AFFILIATE_KEY}")
    tickets = page.get_by_role("link", name=re.compile(r"^Tickets for Berlin")).first
    with page.context.expect_page() as opened:
        tickets.click()
    page = opened.value  # the widget opens the checkout in a new tab
    click = re.search(r"[?&]click=([0-9a-f-]{36})", page.url).group(1)
    expect(page.get_by_role("heading", level=1)).to_have_text("Demo Artist")

    page.get_by_label("General admission").select_option("2")
    page.get_by_label("VIP").select_option("1")
    page.get_by_role("button", name="Buy tickets").click()

    expect(page.get_by_role("heading", name="We are holding")).to_be_visible()
    expect(page.get_by_text("2 × General admission")).to_be_visible()
    expect(page.get_by_role("timer")).to_have_text(re.compile(r"^(09|10):\d\d$"))
    page.get_by_label("Name").fill("Ada Lovelace")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_role("button", name="Place order").click()

    expect(page.get_by_text("Order confirmed")).to_be_visible()
    order = Order.objects.get(email="ada@example.com")  # not one of the demo's own sales
    expect(page.get_by_role("heading", level=2)).to_have_text(f"Order {order.code}")
    qr_codes = page.get_by_role("img", name=re.compile(r"QR code of ticket \d"))
    expect(qr_codes).to_have_count(3)
    assert qr_codes.first.bounding_box()["width"] >= 120  # big enough to scan from a phone
    assert order.affiliate.public_key == DEMO_AFFILIATE_KEY and str(order.click_id) == click
    print_button = page.get_by_role("button", name="Print tickets")
    expect(print_button).to_be_visible()
    page.emulate_media(media="print")  # tickets only on paper, no buttons or links
    expect(print_button).to_be_hidden()
    expect(page.get_by_role("link", name="Find my order")).to_be_hidden()
    expect(qr_codes.first).to_be_visible()


def test_countdown_unlocks_buy_at_the_on_sale_moment_without_reload(live_server, page):
    event, _, _ = event_on_sale(capacities=(20,))
    on_sale_at = timezone.now() + dt.timedelta(seconds=8)
    Event.objects.filter(pk=event.pk).update(on_sale_at=on_sale_at)

    # This fan's device runs an hour slow: the countdown must follow the server's clock.
    page.add_init_script("Date.now = ((deviceNow) => () => deviceNow() - 3600000)(Date.now)")
    page.goto(f"{live_server.url}/e/{event.slug}/")
    buy = page.get_by_role("button", name="Buy tickets")
    expect(buy).to_be_disabled()
    expect(page.get_by_role("timer")).to_have_text(re.compile(r"^00:0[1-8]$"))
    page.evaluate("window.sameDocument = true")  # gone if the page reloads

    expect(buy).to_be_enabled(timeout=15_000)
    assert timezone.now() >= on_sale_at - dt.timedelta(milliseconds=500)
    assert page.evaluate("window.sameDocument") is True
    expect(page.get_by_role("heading", name="Tickets are on sale now")).to_be_visible()

    page.get_by_label("GA").select_option("1")
    buy.click()
    expect(page.get_by_role("heading", name="We are holding")).to_be_visible()


def test_availability_refreshes_without_reload(live_server, page):
    event, (ga,), _ = event_on_sale(capacities=(3,))
    page.goto(f"{live_server.url}/e/{event.slug}/")
    expect(page.get_by_text("3 left")).to_be_visible()
    expect(page.get_by_role("status")).to_be_hidden()
    page.evaluate("window.sameDocument = true")

    services.create_hold([{"ticket_type": ga.pk, "quantity": 3}])  # another fan takes them all

    expect(page.locator(f"#avail-{ga.pk}")).to_have_text("Sold out", timeout=15_000)
    expect(page.get_by_role("status")).to_contain_text("Sold out")
    expect(page.get_by_label("GA").locator("option")).to_have_count(1)  # only 0 to choose
    assert page.evaluate("window.sameDocument") is True


def test_sold_out_page_disables_buy_until_seats_come_back(live_server, page):
    event, (ga,), _ = event_on_sale(capacities=(2,))
    hold = services.create_hold([{"ticket_type": ga.pk, "quantity": 2}])
    page.goto(f"{live_server.url}/e/{event.slug}/?lang=en")
    buy = page.get_by_role("button", name="Sold out")
    expect(buy).to_be_disabled()
    expect(page.get_by_role("heading", name="Tell me when tickets come back")).to_be_visible()
    page.evaluate("window.sameDocument = true")

    services.release_hold(hold.token)  # the other fan gives them back

    buy = page.get_by_role("button", name="Buy tickets")
    expect(buy).to_be_enabled(timeout=15_000)
    expect(page.get_by_role("heading", name="Tell me when tickets come back")).to_be_hidden()
    assert page.evaluate("window.sameDocument") is True


def test_german_page_keeps_a_running_subtotal(live_server, page):
    event, (ga, _second), _ = event_on_sale(capacities=(10, 10))
    TicketType.objects.filter(pk=ga.pk).update(price="39.50")
    page.goto(f"{live_server.url}/e/{event.slug}/?lang=de")
    subtotal = page.locator("[data-subtotal]")
    expect(subtotal).to_be_hidden()  # nothing chosen yet
    page.get_by_label("GA").select_option("2")
    expect(subtotal).to_have_text("Zwischensumme: 79,00\xa0€")
    page.get_by_label("Type 2").select_option("3")
    expect(subtotal).to_have_text("Zwischensumme: 109,00\xa0€")  # 3 × 10,00 € more
    page.get_by_role("button", name="Tickets kaufen").click()
    expect(page.get_by_role("heading", name="Wir reservieren für dich")).to_be_visible()
    expect(page.locator("tfoot")).to_contain_text("109,00\xa0€")  # what the server charges
