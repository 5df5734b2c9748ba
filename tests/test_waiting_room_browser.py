"""The waiting room in Chromium: two fans in the pre-queue, the opening, places that move, one
admitted and buying (hold, then order, credited to the Tickets link they came from), the other
told "sold out" without reloading; a reload keeping the same queue ticket and the turn; a lapsed
turn queueing again; and from the widget's Tickets link through the room to the order."""

import datetime as dt
import re
import uuid

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from ticketing.events.demo import DEMO_AFFILIATE_KEY
from ticketing.events.models import Affiliate, Event
from ticketing.orders.models import Hold, Order
from ticketing.queue import draw, services
from ticketing.queue.models import WaitingRoom, new_seed

from .queue_helpers import event_with_room

pytestmark = pytest.mark.django_db(transaction=True)

TICKET = "JSON.parse(localStorage.getItem('queue:{}') || 'null')"
WAIT = 20_000  # ms: the status is cached for up to 3 s on its way, the pages poll every 3-4 s


def seed_drawing_the_first_arrival_first() -> str:
    """A seed whose draw of two puts the first to join first (the test's fans join in turn)."""
    while draw.position(bytes.fromhex(seed := new_seed()), 2, 0) != 0:
        pass
    return seed


def admit_one(event_id):
    """Let exactly one more fan in (well before the 1-a-minute rate would): one second and a
    half at 60 a minute, then stop. (The moments are passed in, as the backend's tests move
    the clock.)"""
    now = timezone.now()
    services.set_rate(event_id, rate_per_minute=60, now=now - dt.timedelta(seconds=1.5))
    services.set_rate(event_id, rate_per_minute=0, now=now)
    cache.delete(f"queue:status:{event_id}")  # the origin's one-second copy of the status


def test_two_fans_one_buys_the_other_is_told_sold_out(
    live_server, page, browser, server_activity, settings
):
    settings.QUEUE_POW_DIFFICULTY = 8
    event, _, _ = event_with_room(
        "onsale",
        on_sale_in=dt.timedelta(seconds=15),
        capacities=(2,),
        rate_per_minute=1,
        seed=seed_drawing_the_first_arrival_first(),
    )
    affiliate = Affiliate.objects.get(promoter=event.artist.promoter)
    click = str(uuid.uuid4())
    ticket_of = TICKET.format(event.pk)
    url = f"{live_server.url}/e/{event.slug}/?lang=en"
    other_context = browser.new_context()
    try:
        # Fan A comes from a widget's Tickets link, fan B straight to the event page.
        fan_a = page
        fan_a.goto(f"{url}&affiliate={affiliate.public_key}&click={click}")
        expect(fan_a.get_by_text("You are in the waiting room.")).to_be_visible(timeout=WAIT)
        fan_b = other_context.new_page()
        fan_b.goto(url)
        for fan in (fan_a, fan_b):
            expect(fan.get_by_role("heading", name="Waiting room")).to_be_visible()
            expect(fan.get_by_role("timer")).to_have_text(re.compile(r"^00:(0\d|1[0-5])$"))
            expect(fan.get_by_text("You are in the waiting room.")).to_be_visible(timeout=WAIT)
            expect(fan.get_by_role("button", name="Buy tickets")).to_be_hidden()
        ticket_b = fan_b.evaluate(ticket_of)
        assert ticket_b["kind"] == "pre" and ticket_b["number"] == 2
        assert fan_a.evaluate(ticket_of)["number"] == 1

        # A reload keeps fan B's place: the same ticket, no second join.
        fan_b.reload()
        expect(fan_b.get_by_text("You are in the waiting room.")).to_be_visible(timeout=WAIT)
        assert fan_b.evaluate(ticket_of) == ticket_b

        # Fan A opens a second tab, without the link's parameters: same ticket there too.
        fan_a2 = fan_a.context.new_page()
        fan_a2.goto(url)
        expect(fan_a2.get_by_text("You are in the waiting room.")).to_be_visible(timeout=WAIT)
        assert fan_a2.evaluate(ticket_of)["ticket"] == fan_a.evaluate(ticket_of)["ticket"]

        # The opening: the draw puts A first, B behind; at one fan a minute, nobody is in yet.
        for fan in (fan_a, fan_a2, fan_b):
            expect(fan.get_by_text(re.compile(r"^[01] fans? ahead of you$"))).to_be_visible(
                timeout=WAIT
            )
        expect(fan_a.get_by_text("0 fans ahead of you")).to_be_visible()
        expect(fan_b.get_by_text("1 fan ahead of you")).to_be_visible()
        expect(fan_b.get_by_text("about 1 minute")).to_be_visible()
        progress = fan_b.get_by_role("progressbar", name="Your progress in the queue")
        expect(progress).to_have_js_property("value", 0)
        expect(fan_a.get_by_text("less than a minute")).to_be_visible()
        expect(progress).to_be_visible()
        for fan in (fan_a, fan_b):
            fan.evaluate("window.sameDocument = true")

        admit_one(event.pk)

        # Fan A's turn: the ticket form, with the admission window's countdown, in both tabs.
        buyer = fan_a2
        expect(buyer.get_by_text("It is your turn.")).to_be_visible(timeout=WAIT)
        expect(buyer.get_by_role("timer")).to_have_text(re.compile(r"^(09|10):\d\d$"))
        expect(fan_b.get_by_text("0 fans ahead of you")).to_be_visible(timeout=WAIT)  # moved up
        expect(progress).to_have_js_property("value", 100)
        expect(fan_b.get_by_role("button", name="Buy tickets")).to_be_hidden()
        buyer.get_by_label("GA").select_option("2")
        buyer.get_by_role("button", name="Buy tickets").click()

        expect(buyer.get_by_role("heading", name="We are holding")).to_be_visible()
        hold = Hold.objects.get(event=event)
        assert hold.queue_pass
        buyer.get_by_label("Name").fill("Ada Lovelace")
        buyer.get_by_label("Email").fill("ada@example.com")
        buyer.get_by_role("button", name="Place order").click()
        expect(buyer.get_by_text("Order confirmed")).to_be_visible()
        order = Order.objects.get(email="ada@example.com")
        assert order.affiliate == affiliate and str(order.click_id) == click

        # Fan B, still on the same page, is told at once that the last seats went.
        expect(fan_b.get_by_role("status")).to_contain_text("Sold out", timeout=WAIT)
        expect(fan_b.get_by_text("Every ticket is taken right now.")).to_be_visible()
        expect(fan_b.get_by_text("0 fans ahead of you")).to_be_hidden()
        assert fan_b.evaluate("window.sameDocument") is True
    finally:
        other_context.close()
        server_activity.wait_until_quiet()


def test_after_the_opening_a_reload_keeps_the_turn_and_a_lapsed_turn_can_queue_again(
    live_server, page, settings
):
    settings.QUEUE_POW_DIFFICULTY = 8
    event, _, _ = event_with_room(
        "late", on_sale_in=-dt.timedelta(minutes=1), capacities=(5,), rate_per_minute=0
    )
    ticket_of = TICKET.format(event.pk)
    page.goto(f"{live_server.url}/e/{event.slug}/?lang=de")
    # Sales are open: a fan arriving now joins at the end of the queue (first come, first in).
    expect(page.get_by_text("0 Fans vor dir")).to_be_visible(timeout=WAIT)
    first = page.evaluate(ticket_of)
    assert first["kind"] == "fifo" and first["number"] == 1

    admit_one(event.pk)
    expect(page.get_by_text("Du bist dran.")).to_be_visible(timeout=WAIT)
    page.reload()  # the turn and its pass survive a reload, the window keeps running
    expect(page.get_by_text("Du bist dran.")).to_be_visible(timeout=WAIT)
    expect(page.get_by_role("timer")).to_have_text(re.compile(r"^(09|10):\d\d$"))
    expect(page.get_by_role("button", name="Tickets kaufen")).to_be_enabled()
    assert page.evaluate(ticket_of)["ticket"] == first["ticket"]

    # The window ran out (as if ten minutes went by): the form goes, the fan may queue again.
    page.evaluate(
        f"""() => {{ const t = {ticket_of}; t.expires_at = Date.now() - 1000;
                   localStorage.setItem('queue:{event.pk}', JSON.stringify(t)); }}"""
    )
    page.reload()
    expect(page.get_by_text("Deine Zeit ist abgelaufen.")).to_be_visible(timeout=WAIT)
    expect(page.get_by_role("button", name="Tickets kaufen")).to_be_hidden()
    page.get_by_role("button", name="Erneut anstellen").click()
    # At the end of the queue: behind the fan let in before (whose turn ran out), next in line.
    expect(page.get_by_text("0 Fans vor dir")).to_be_visible(timeout=WAIT)
    expect(page.get_by_text("Deine Zeit ist abgelaufen.")).to_be_hidden()
    again = page.evaluate(ticket_of)
    assert again["kind"] == "fifo" and again["number"] == 2


def test_from_the_widget_through_the_waiting_room_the_order_keeps_the_link(
    live_server, page, settings
):
    settings.QUEUE_POW_DIFFICULTY = 8
    call_command("seed_demo")
    page.goto(f"{live_server.url}/widget/demo/?affiliate={DEMO_AFFILIATE_KEY}")
    tickets = page.get_by_role("link", name=re.compile(r"^Tickets for Berlin")).first
    slug = re.search(r"/e/([^/]+)/", tickets.get_attribute("href")).group(1)
    event = Event.objects.get(slug=slug)
    WaitingRoom.objects.create(event=event, rate_per_minute=600)  # on sale already: FIFO
    cache.clear()
    with page.context.expect_page() as opened:
        tickets.click()
    page = opened.value
    click = re.search(r"[?&]click=([0-9a-f-]{36})", page.url).group(1)

    expect(page.get_by_role("heading", name="Waiting room")).to_be_visible()
    expect(page.get_by_text("It is your turn.")).to_be_visible(timeout=WAIT)
    page.get_by_label("General admission").select_option("1")
    page.get_by_role("button", name="Buy tickets").click()
    expect(page.get_by_role("heading", name="We are holding")).to_be_visible()
    page.get_by_label("Name").fill("Ada Lovelace")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_role("button", name="Place order").click()

    expect(page.get_by_text("Order confirmed")).to_be_visible()
    order = Order.objects.get(email="ada@example.com")
    assert order.hold.queue_pass
    assert order.affiliate.public_key == DEMO_AFFILIATE_KEY and str(order.click_id) == click
