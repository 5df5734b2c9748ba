"""Paying by card in Chromium, with localstripe's Stripe.js (loaded from its own origin, as
Stripe.js is from js.stripe.com) and its webhooks delivered to the live server: the widget's
Tickets button through hold and card to the QR tickets; a declined card, then another."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from ticketing.events.demo import DEMO_AFFILIATE_KEY
from ticketing.orders.models import Order

from . import payments_fixtures as fixtures

pytestmark = pytest.mark.django_db(transaction=True)

localstripe_url = fixtures.localstripe_url
stripe_keys, stripe_webhooks = fixtures.stripe_keys, fixtures.stripe_webhooks


def hold_from_the_widget(page, url):
    call_command("seed_demo")
    page.goto(f"{url}/widget/demo/?affiliate={DEMO_AFFILIATE_KEY}")
    tickets = page.get_by_role("link", name=re.compile(r"^Tickets for Berlin")).first
    with page.context.expect_page() as opened:
        tickets.click()
    page = opened.value
    page.get_by_label("General admission").select_option("2")
    page.get_by_role("button", name="Buy tickets").click()
    expect(page.get_by_role("heading", name="We are holding")).to_be_visible()
    page.get_by_label("Name").fill("Ada Lovelace")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_role("button", name="Continue to payment").click()
    expect(page.get_by_role("heading", name="Pay by card")).to_be_visible()
    return page


def enter_card(page, number):
    page.get_by_placeholder("number").fill(number)
    page.get_by_placeholder("exp_month").fill("12")
    page.get_by_placeholder("exp_year").fill("30")
    page.get_by_placeholder("cvc").fill("123")
    page.get_by_placeholder("postal_code").fill("10115")
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()


def expect_tickets(page, count):
    expect(page.get_by_text("Order confirmed")).to_be_visible(timeout=15_000)
    order = Order.objects.get(email="ada@example.com")
    assert order.payment_provider == "stripe" and order.payment_status == "paid"
    expect(page.get_by_role("heading", level=2)).to_have_text(f"Order {order.code}")
    expect(page.get_by_role("img", name=re.compile(r"QR code of ticket \d"))).to_have_count(count)


def test_from_the_widget_through_a_card_payment_to_qr_tickets(stripe_webhooks, page):
    page = hold_from_the_widget(page, stripe_webhooks.url)
    expect(page.get_by_role("timer")).to_have_text(re.compile(r"^1[45]:\d\d$"))  # the window
    enter_card(page, fixtures.GOOD_CARD)
    expect(page.get_by_role("status")).to_have_text("Payment processing…")  # the webhook is due
    expect_tickets(page, 2)


def test_a_declined_card_shows_why_and_another_card_pays(stripe_webhooks, page):
    page = hold_from_the_widget(page, stripe_webhooks.url)
    enter_card(page, fixtures.DECLINED_CARD)
    expect(page.get_by_role("alert")).to_have_text(
        "Your card was declined. Please try another card."
    )
    assert not Order.objects.filter(email="ada@example.com").exists()
    enter_card(page, fixtures.GOOD_CARD)
    expect_tickets(page, 2)
