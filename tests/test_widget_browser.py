"""The widget in Chromium, embedded in a fan site served from a second origin.

The Django live server (http://localhost:<port>) is the widget's origin; the fan site is a tiny
threaded HTTP server on 127.0.0.1 whose Content-Security-Policy allows scripts and connections
only to the widget's origin.
"""

import json
import re
import socket
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from tests.widget_helpers import empty_origin_cache  # noqa: F401 (autouse fixture)
from ticketing.events.models import Artist, Event, Promoter
from ticketing.notify.models import Subscription

pytestmark = pytest.mark.django_db(transaction=True)

HOST_PORTS = range(8160, 8200)  # this part's range on the shared machine
RED = "rgb(255, 0, 0)"

HOST_CSS = """
body { color: rgb(255, 0, 0); font-size: 40px; font-family: serif; }
li, time, span { display: none !important; color: rgb(255, 0, 0) !important; }
.columns { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; align-items: start; }
"""


class FanSite:
    """Pages by path, each with its own CSP (None: a site without one)."""

    def __init__(self):
        self.pages: dict[str, tuple[str, str, str | None]] = {"/host.css": (HOST_CSS, "text/css",
                                                                             None)}  # fmt: skip
        self.url = ""

    def add(self, path: str, body: str, csp: str | None) -> str:
        self.pages[path] = (body, "text/html; charset=utf-8", csp)
        return self.url + path


def free_port() -> int:
    for port in HOST_PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {HOST_PORTS}")


@pytest.fixture(scope="module")
def fan_site():
    site = FanSite()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            page = site.pages.get(self.path)
            if page is None:
                self.send_error(404)
                return
            body, content_type, csp = page
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            if csp:
                self.send_header("Content-Security-Policy", csp)
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    site.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield site
    server.shutdown()
    server.server_close()


def strict_csp(widget_origin: str) -> str:
    return (
        f"default-src 'none'; script-src {widget_origin}; connect-src {widget_origin}; "
        "style-src 'self'; img-src 'none'; base-uri 'none'; form-action 'none'"
    )


def fan_page(live_server, widgets: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Fan site</title>
<link rel="stylesheet" href="/host.css"></head>
<body>
  <h1>Fan site</h1>
  <ol class="host-list"><li>A host list item</li></ol>
  <a class="tickets host-link" href="/">A host link</a>
  <p class="state host-paragraph">A host paragraph</p>
  <div class="columns">{widgets}</div>
  <script async src="{live_server.url}/widget/v1/loader.js"></script>
</body></html>"""


TWO_WIDGETS = """
<div id="dark-de" data-tour-widget data-artist="demo-artist" data-affiliate="demo-affiliate"
     data-theme="dark" data-lang="de"></div>
<div id="light-en" data-tour-widget data-artist="demo-artist" data-theme="light" data-lang="en"
     data-accent="rgb(0, 128, 0)"></div>
"""


@pytest.fixture
def demo_events(db):
    call_command("seed_demo")
    return list(
        Event.objects.published()
        .upcoming()
        .filter(artist__slug="demo-artist")
        .select_related("venue")
    )


@pytest.fixture
def beacons(page, live_server):
    """Every hit the widget sends to the tracking endpoint, with its content type and the
    endpoint's answer."""
    sent = []

    def capture(response):
        request = response.request
        if request.url == f"{live_server.url}/t" and request.method == "POST":
            for hit in json.loads(request.post_data):
                sent.append({**hit, "content_type": request.headers.get("content-type"),
                             "answer": response.status})  # fmt: skip

    page.on("response", capture)
    return sent


@pytest.fixture
def csp_violations(page):
    messages = []
    page.on(
        "console",
        lambda message: "Content Security Policy" in message.text and messages.append(message.text),
    )
    page.on("pageerror", lambda error: messages.append(f"page error: {error}"))
    return messages


def style(locator, prop: str) -> str:
    return locator.evaluate("(node, prop) => getComputedStyle(node)[prop]", prop)


def test_two_widgets_on_a_strict_csp_site(live_server, fan_site, page, demo_events, csp_violations):
    csp = strict_csp(live_server.url)
    blank = fan_site.add("/blank.html", fan_page(live_server, "").replace("<script", "<x-no"), csp)
    page.goto(blank)
    globals_before = set(page.evaluate("Object.keys(window)"))

    page.set_viewport_size({"width": 1400, "height": 1400})
    page.goto(fan_site.add("/two.html", fan_page(live_server, TWO_WIDGETS), csp))

    dark, light = page.locator("#dark-de"), page.locator("#light-en")
    expect(dark.locator("li")).to_have_count(len(demo_events))
    expect(light.locator("li")).to_have_count(len(demo_events))
    for event in demo_events:
        expect(light.locator("li", has_text=event.venue.name).first).to_be_visible()

    # Languages: texts and dates in each widget's own.
    expect(dark.get_by_text("Ausverkauft")).to_be_visible()
    expect(dark.get_by_text("Nur noch wenige Tickets")).to_be_visible()
    expect(light.get_by_text("Sold out")).to_be_visible()
    expect(light.get_by_text("Few tickets left")).to_be_visible()
    expect(light.get_by_text(re.compile(r"^On sale \d+ \w{3}, \d\d:\d\d$"))).to_be_visible()
    first = demo_events[0]
    local = timezone.localtime(first.starts_at, first.venue.zone)
    name = f"Tickets for {first.venue.city}, {local.day} {local:%B %Y}"
    expect(light.get_by_role("link", name=name)).to_be_visible()
    expect(dark.get_by_role("link", name=re.compile(rf"^Tickets für {first.venue.city}, "))
           .first).to_be_visible()  # fmt: skip

    # Themes: a dark and a light widget, the light one with its own accent.
    assert style(dark.locator(".tw"), "backgroundColor") == "rgb(23, 23, 29)"
    assert style(light.locator(".tw"), "backgroundColor") == "rgb(255, 255, 255)"
    assert style(light.locator("a").first, "backgroundColor") == "rgb(0, 128, 0)"
    assert style(dark.locator("a").first, "backgroundColor") == "rgb(90, 63, 242)"

    # The host's CSS does not reach in...
    assert style(page.locator(".host-list li"), "display") == "none"  # it does apply outside
    item = light.locator("li").first
    assert style(item, "display") == "grid"
    assert style(item, "color") != RED
    assert style(item, "fontSize") == "15px"
    assert style(item.locator("time"), "display") == "flex"
    # ...and the widget's does not leak out.
    assert style(page.locator("a.host-link"), "borderTopLeftRadius") == "0px"
    assert style(page.locator("a.host-link"), "backgroundColor") == "rgba(0, 0, 0, 0)"
    assert style(page.locator("p.host-paragraph"), "textAlign") == "start"

    # Safe on any site: nothing blocked by the CSP, no cookies, no storage, one global.
    assert csp_violations == []
    assert page.context.cookies() == []
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    assert set(page.evaluate("Object.keys(window)")) - globals_before == {"TourWidget"}


def test_tickets_click_opens_the_checkout_and_beacons_are_sent(
    live_server, fan_site, page, demo_events, beacons, csp_violations
):
    page.set_viewport_size({"width": 1400, "height": 1400})
    page.goto(fan_site.add("/two.html", fan_page(live_server, TWO_WIDGETS),
                           strict_csp(live_server.url)))  # fmt: skip
    first = demo_events[0]
    link = page.locator("#dark-de").get_by_role("link", name=re.compile(first.venue.city)).first

    # A view per widget once at least half of it has been visible for a second.
    for _ in range(40):
        if len([hit for hit in beacons if hit["type"] == "view"]) >= 2:
            break
        page.wait_for_timeout(250)
    views = [hit for hit in beacons if hit["type"] == "view"]
    assert len(views) == 2
    assert {(hit["artist"], hit.get("affiliate")) for hit in views} == {
        ("demo-artist", None),
        ("demo-artist", "demo-affiliate"),
    }
    for hit in views:
        assert uuid.UUID(hit["id"]).version == 4
        assert isinstance(hit["ts"], int)
        assert "event" not in hit
        assert hit["content_type"].startswith("text/plain")
        assert hit["answer"] == 204  # accepted by the tracking endpoint

    with page.context.expect_page() as opened:
        link.click()
    checkout = opened.value
    checkout.wait_for_load_state()
    match = re.fullmatch(
        rf"{re.escape(live_server.url)}/e/{first.slug}/\?affiliate=demo-affiliate&lang=de&click=(\S+)",
        checkout.url,
    )
    assert match, checkout.url
    expect(checkout.get_by_role("heading", level=1)).to_have_text("Demo Artist")
    expect(checkout.get_by_role("button", name="Tickets kaufen")).to_be_visible()  # data-lang="de"
    assert checkout.evaluate("window.opener") is None  # noopener

    for _ in range(20):
        if any(hit["type"] == "click" for hit in beacons):
            break
        page.wait_for_timeout(100)
    clicks = [hit for hit in beacons if hit["type"] == "click"]
    assert len(clicks) == 1
    click = clicks[0]
    assert click["id"] == match.group(1)
    assert click["event"] == first.id
    assert click["artist"] == "demo-artist"
    assert click["affiliate"] == "demo-affiliate"
    assert click["content_type"].startswith("text/plain")
    assert click["answer"] == 204

    page.wait_for_timeout(1500)
    assert len([hit for hit in beacons if hit["type"] == "view"]) == 2  # once per widget
    assert csp_violations == []


def test_event_named_like_markup_shows_as_text(live_server, fan_site, page, demo_events):
    """On a site without any CSP, so that only the widget's own care stands in the way."""
    markup = "<img src=x onerror=alert(1)>"
    Event.objects.filter(pk=demo_events[0].pk).update(name=markup)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    page.goto(fan_site.add("/no-csp.html", fan_page(live_server, TWO_WIDGETS), None))

    expect(page.locator("#light-en").get_by_text(markup, exact=True)).to_be_visible()
    expect(page.locator("#dark-de").get_by_text(markup, exact=True)).to_be_visible()
    assert page.locator("#light-en img, #dark-de img").count() == 0
    page.wait_for_timeout(300)
    assert dialogs == []


def test_states_and_init_for_single_page_apps(live_server, fan_site, page, demo_events):
    promoter = Promoter.objects.get(slug="demo-promotions")
    Artist.objects.create(promoter=promoter, name="New Band", slug="new-band")
    widgets = """
<div id="empty" data-tour-widget data-artist="new-band"></div>
<div id="unknown" data-tour-widget data-artist="no-such-artist" data-lang="fr"></div>
"""
    page.goto(fan_site.add("/states.html", fan_page(live_server, widgets),
                           strict_csp(live_server.url)))  # fmt: skip

    expect(page.locator("#empty").get_by_text("No upcoming shows")).to_be_visible()
    expect(page.locator("#unknown").get_by_role("alert")).to_contain_text(
        "Les dates n’ont pas pu être chargées."
    )
    expect(page.locator("#unknown").get_by_role("button", name="Réessayer")).to_be_visible()

    # A single-page app adds a widget later and asks for it to be rendered; again is harmless.
    page.evaluate("""() => {
        const host = document.createElement("div");
        host.id = "added";
        host.dataset.tourWidget = "";
        host.dataset.artist = "demo-artist";
        host.dataset.limit = "2";
        document.querySelector(".columns").append(host);
        TourWidget.init();
        TourWidget.init();
    }""")
    expect(page.locator("#added li")).to_have_count(2)
    expect(page.locator("#empty p")).to_have_count(1)


def test_browsers_without_constructable_stylesheets_get_a_style_element(
    live_server, fan_site, page, demo_events
):
    page.add_init_script("delete CSSStyleSheet.prototype.replaceSync")
    page.goto(fan_site.add("/old-browser.html", fan_page(live_server, TWO_WIDGETS), None))

    dark, light = page.locator("#dark-de"), page.locator("#light-en")
    expect(dark.locator("li")).to_have_count(len(demo_events))
    assert style(dark.locator(".tw"), "backgroundColor") == "rgb(23, 23, 29)"
    assert style(light.locator("a").first, "backgroundColor") == "rgb(0, 128, 0)"
    assert style(light.locator("li").first, "display") == "grid"


def test_notify_me_from_the_widget(live_server, fan_site, page, demo_events, csp_violations):
    """data-notify: a sold-out show offers "Benachrichtigen"; the address goes to the checkout's
    origin as a form, without credentials, under the fan site's strict CSP."""
    sold_out = next(event for event in demo_events if event.is_sold_out)
    widget = """<div id="notify" data-tour-widget data-artist="demo-artist" data-lang="de"
                     data-notify></div>"""
    page.goto(fan_site.add("/notify.html", fan_page(live_server, widget),
                           strict_csp(live_server.url)))  # fmt: skip
    day = sold_out.local_starts_at.day
    button = page.get_by_role(
        "button", name=re.compile(rf"^Benachrichtigung für {sold_out.venue.city}, {day}\.")
    )
    button.click()
    form = page.get_by_role("form", name=re.compile(r"^Benachrichtigung für"))
    form.get_by_label("E-Mail").fill("fan@example.com")
    form.get_by_role("button", name="Senden").click()
    expect(form.get_by_role("status")).to_have_text(
        "Bitte bestätige über den Link in deinem Postfach."
    )
    subscription = Subscription.objects.get()
    assert (subscription.event_id, subscription.email, subscription.language) == (
        sold_out.pk,
        "fan@example.com",
        "de",
    )
    assert page.context.cookies(live_server.url) == []
    assert csp_violations == []
