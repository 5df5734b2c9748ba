"""Content-Security-Policy: every HTML page sends one, and Chromium reports no violation on the
fan pages (event, hold, confirmation with its QR codes, lookup, the widget's tour page), the
widget demo, Swagger UI and the back office. Responses that are not HTML, the hot paths among
them, carry none."""

import datetime as dt
import re

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from ticketing.events.demo import DEMO_ARTIST_SLUG
from ticketing.events.models import Event
from ticketing.orders import services
from ticketing.orders.models import Order

from .checkout import event_on_sale

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def directives(header: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


EVENT_PAGE_DIRECTIVES = {**directives(POLICY), "img-src": "'self' data: https:"}


@pytest.fixture
def shop(db):
    event, (ga,), catalogue = event_on_sale(capacities=(10,))
    hold = services.create_hold([{"ticket_type": ga.pk, "quantity": 2}])
    order, _ = services.place_order(
        services.create_hold([{"ticket_type": ga.pk, "quantity": 1}]).token,
        name="Ada", email="ada@example.com",
    )  # fmt: skip
    return {"event": event, "hold": hold, "order": order, "artist": catalogue["artist"]}


@pytest.mark.django_db
def test_fan_pages_widget_demo_and_api_docs_send_the_policy(shop):
    client = Client()
    pages = [
        f"/holds/{shop['hold'].token}/",
        shop["order"].get_absolute_url(),
        "/orders/lookup/",
        f"/widget/artists/{shop['artist'].slug}/?lang=en",
        "/?lang=en",
        "/widget/demo/",
        "/api/docs/",
        "/admin/login/",
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert directives(response["Content-Security-Policy"]) == directives(POLICY), path
    # The event page shows the artist's image from wherever the promoter keeps it.
    event_page = client.get(f"/e/{shop['event'].slug}/?lang=en")
    assert directives(event_page["Content-Security-Policy"]) == EVENT_PAGE_DIRECTIVES
    not_found = client.post("/orders/lookup/", {"code": "NOPE", "email": "a@b.example"})
    assert not_found.status_code == 404 and "Content-Security-Policy" in not_found


@pytest.mark.django_db
def test_responses_that_are_not_html_carry_no_policy(shop):
    client = Client()
    for response in (
        client.get(f"/widget/v1/artists/{shop['artist'].slug}/events"),
        client.get("/widget/v1/loader.js"),
        client.post(
            "/t",
            [{"id": "h1", "type": "view", "artist": shop["artist"].slug}],
            content_type="application/json",
        ),
        client.get(f"/t.gif?id=h2&type=view&artist={shop['artist'].slug}"),
        client.get(f"/api/v1/events/{shop['event'].slug}/availability"),
        client.get("/api/v1/time"),
        client.get("/api/docs/?script="),  # Swagger UI's setup script
    ):
        assert response.status_code in (200, 204), response.request["PATH_INFO"]
        assert "Content-Security-Policy" not in response, response.request["PATH_INFO"]


def test_a_static_files_host_is_allowed_for_what_it_serves():
    from tests.test_settings import run_manage

    code = "from django.conf import settings as s; print(s.CONTENT_SECURITY_POLICY['DIRECTIVES'])"
    env = {"SECRET_KEY": "k" * 50, "STATIC_URL": "https://cdn.example.com/static/"}
    printed = run_manage("shell", "--no-imports", "-c", code, env=env).stdout
    for directive in ("script-src", "style-src", "img-src", "font-src"):
        assert re.search(rf"'{directive}': \[\"'self'\", 'https://cdn.example.com'", printed)
    assert "'connect-src': [\"'self'\"]" in printed


# --- In Chromium ------------------------------------------------------------------------------


@pytest.fixture
def violations(context):
    """CSP violations on any page of the test: `securitypolicyviolation` events (reported from
    every document through a binding) and the console's "Refused to ..." messages."""
    found = []
    context.expose_binding(
        "reportViolation", lambda source, text: found.append(f"{source['frame'].url}: {text}")
    )
    context.add_init_script(
        "document.addEventListener('securitypolicyviolation', (e) => window.reportViolation("
        "`${e.effectiveDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:`"
        " + `${e.lineNumber})`));"
    )

    def on_console(message):
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            found.append(f"console: {message.text}")

    context.on("console", on_console)
    context.on("weberror", lambda error: found.append(f"page error: {error.error}"))
    return found


def expect_policy(response):
    assert directives(response.headers["content-security-policy"]) == directives(POLICY)


@pytest.mark.django_db(transaction=True)
def test_fan_pages_pass_the_policy_in_chromium(live_server, page, violations):
    call_command("seed_demo")
    event = Event.objects.filter(artist__slug=DEMO_ARTIST_SLUG).order_by("starts_at").first()

    response = page.goto(f"{live_server.url}/e/{event.slug}/")  # redirected to ?lang=en
    assert directives(response.headers["content-security-policy"]) == EVENT_PAGE_DIRECTIVES
    page.locator("select").first.select_option("2")
    page.get_by_role("button", name="Buy tickets").click()
    expect(page.get_by_role("heading", name="We are holding")).to_be_visible()
    expect(page.get_by_role("timer")).to_have_text(re.compile(r"^(09|10):\d\d$"))  # script ran
    page.get_by_label("Name").fill("Ada Lovelace")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_role("button", name="Place order").click()

    expect(page.get_by_text("Order confirmed")).to_be_visible()
    qr_codes = page.get_by_role("img", name=re.compile(r"QR code of ticket \d"))
    expect(qr_codes).to_have_count(2)
    assert qr_codes.first.bounding_box()["width"] >= 120  # drawn, not blocked
    expect(page.get_by_role("button", name="Print tickets")).to_be_visible()  # script ran
    order = Order.objects.get(email="ada@example.com")  # not the demo's box-office sales

    expect_policy(page.goto(f"{live_server.url}/orders/lookup/"))
    page.get_by_label("Order code").fill(order.code)
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_role("button", name="Show my tickets").click()
    expect(page.get_by_text("Order confirmed")).to_be_visible()

    expect_policy(page.goto(f"{live_server.url}/widget/artists/{DEMO_ARTIST_SLUG}/"))
    expect(page.get_by_role("link", name=re.compile("^Tickets for")).first).to_be_visible()

    countdown = Event.objects.exclude(pk=event.pk).filter(artist__slug=DEMO_ARTIST_SLUG).first()
    Event.objects.filter(pk=countdown.pk).update(on_sale_at=timezone.now() + dt.timedelta(hours=1))
    page.goto(f"{live_server.url}/e/{countdown.slug}/")
    expect(page.get_by_role("timer")).not_to_have_text("\xa0")  # the countdown runs
    assert violations == []


@pytest.mark.django_db(transaction=True)
def test_widget_demo_and_swagger_ui_pass_the_policy_in_chromium(live_server, page, violations):
    call_command("seed_demo")
    expect_policy(page.goto(f"{live_server.url}/widget/demo/"))
    widget = page.locator("[data-tour-widget]")
    expect(widget.get_by_role("link", name=re.compile("^Tickets for")).first).to_be_visible()
    page.get_by_role("button", name="Copy").click()

    expect_policy(page.goto(f"{live_server.url}/api/docs/"))
    expect(page.get_by_role("heading", name=re.compile("Ticketing checkout API"))).to_be_visible()
    operation = page.locator(".opblock-summary", has_text="/api/v1/holds").first
    operation.click()
    expect(page.get_by_role("button", name="Try it out")).to_be_visible()
    assert violations == []


@pytest.mark.django_db(transaction=True)
def test_back_office_passes_the_same_policy_in_chromium(live_server, page, violations):
    call_command("seed_demo", superuser=True)
    event = Event.objects.filter(artist__slug=DEMO_ARTIST_SLUG).first()
    expect_policy(page.goto(f"{live_server.url}/admin/login/"))
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("admin")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Your promotions")).to_be_visible()
    for path in (
        f"/admin/events/event/{event.pk}/change/",
        f"/admin/events/event/{event.pk}/live/",
        f"/admin/events/event/{event.pk}/duplicate/",
        f"/admin/events/tour/{event.tour_id}/add-dates/",
        f"/admin/events/artist/{event.artist_id}/change/",
        "/admin/events/event/add/",
        "/admin/orders/order/",
        f"/admin/tracking/hitcounter/?artist={event.artist_id}",
    ):
        expect_policy(page.goto(f"{live_server.url}{path}"))
        expect(page.locator("#content")).to_be_visible()
    page.goto(f"{live_server.url}/admin/events/event/add/")
    page.get_by_role("button", name="Add another Ticket type").click()  # the inline's script
    expect(page.locator(".dynamic-ticket_types")).not_to_have_count(0)
    assert violations == []
