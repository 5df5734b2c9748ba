"""Shared fixtures: two promoters with their own catalogue and staff, to prove isolation; a real
browser (Debian's Chromium through Playwright) and a real AWS stand-in (moto in server mode)."""

import datetime as dt
import os
import threading
import time
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.utils import timezone

from tests.outbox_helpers import use_smtp
from tests.servers import SilentSMTPServer, WorkingSMTPServer, free_port
from ticketing.events.models import (
    Affiliate,
    Artist,
    Event,
    Membership,
    Promoter,
    TicketType,
    Venue,
)


def make_catalogue(slug: str, *, events: int = 1, **event_fields) -> dict:
    """A promoter with one artist, one venue and `events` published upcoming events."""
    promoter = Promoter.objects.create(name=slug.title(), slug=slug)
    artist = Artist.objects.create(promoter=promoter, name=f"{slug} artist", slug=f"{slug}-artist")
    venue = Venue.objects.create(
        promoter=promoter, name=f"{slug} hall", city="Berlin", country="DE",
        time_zone="Europe/Berlin", capacity=1000,
    )  # fmt: skip
    made = [make_event(artist, venue, days=i + 1, **event_fields) for i in range(events)]
    affiliate = Affiliate.objects.create(promoter=promoter, name="Fans", domain=f"{slug}.example")
    return {"promoter": promoter, "artist": artist, "venue": venue, "events": made,
            "affiliate": affiliate}  # fmt: skip


def make_event(artist, venue, *, days=1, capacity=100, price="25.00", **fields) -> Event:
    now = timezone.now()
    starts_at = now + dt.timedelta(days=days)
    defaults = {
        "starts_at": starts_at,
        "doors_at": starts_at - dt.timedelta(hours=1),
        "on_sale_at": now - dt.timedelta(days=1),
        "is_published": True,
    }
    defaults.update(fields)
    n = Event.objects.count() + 1
    event = Event.objects.create(artist=artist, venue=venue, slug=f"event-{n}", **defaults)
    TicketType.objects.create(
        event=event, name="GA", price=Decimal(price), capacity=capacity, max_per_order=6
    )
    return event


def make_staff(username: str, promoter: Promoter, role: str):
    user = get_user_model().objects.create_user(username, password="pw", is_staff=True)
    Membership.objects.create(user=user, promoter=promoter, role=role)
    return user


@pytest.fixture(autouse=True)
def plain_static_storage(settings):
    """Tests render pages without running collectstatic first (no manifest to look up)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def one_client_may_hold_freely(settings):
    """The test client makes every request from one address, so the per-client hold limits
    (ticketing/limits, tested in tests/test_limits.py) would refuse the checkout tests' many
    holds: off, unless a test turns them on. Every test starts with fresh rate counters."""
    settings.HOLDS_PER_CLIENT = 0
    settings.RATE_LIMITS = {k: v for k, v in settings.RATE_LIMITS.items() if k != "holds"}
    cache.clear()


@pytest.fixture(autouse=True)
def site_url_of_the_live_server(request):
    """Browser tests follow absolute links (the widget's loader, API and tickets links): there,
    SITE_URL is the live server's origin."""
    if "live_server" in request.fixturenames:
        settings = request.getfixturevalue("settings")
        settings.SITE_URL = request.getfixturevalue("live_server").url


@pytest.fixture
def promoter_a(db):
    return make_catalogue("alpha")


@pytest.fixture
def promoter_b(db):
    return make_catalogue("bravo")


@pytest.fixture
def manager_a(promoter_a):
    return make_staff("manager-a", promoter_a["promoter"], Membership.Role.MANAGER)


@pytest.fixture
def viewer_a(promoter_a):
    return make_staff("viewer-a", promoter_a["promoter"], Membership.Role.VIEWER)


# --- Browser tests ------------------------------------------------------------------------------
# pytest-playwright provides `browser`, `context` and `page`; they drive Debian's Chromium because
# `playwright install` cannot download a browser here. A missing browser fails the run, never
# skips it: CI must not go green without the browser tests.

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM_PATH).exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM_PATH}: apt-get install -y chromium")
    return {**browser_type_launch_args, "executable_path": CHROMIUM_PATH}


class ServerActivity:
    """Requests the live server (a thread of this process) is serving or served lately."""

    def __init__(self):
        self.lock = threading.Lock()
        self.in_flight = 0
        self.last_seen = 0.0

    def started(self, **kwargs):
        with self.lock:
            self.in_flight += 1
            self.last_seen = time.monotonic()

    def finished(self, **kwargs):
        with self.lock:
            self.in_flight -= 1
            self.last_seen = time.monotonic()

    def wait_until_quiet(self, quiet: float = 0.3, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if self.in_flight <= 0 and time.monotonic() - self.last_seen >= quiet:
                    return
            time.sleep(0.05)


@pytest.fixture(scope="session")
def server_activity():
    activity = ServerActivity()
    request_started.connect(activity.started, dispatch_uid="test-server-activity")
    request_finished.connect(activity.finished, dispatch_uid="test-server-activity")
    yield activity
    request_started.disconnect(dispatch_uid="test-server-activity")
    request_finished.disconnect(dispatch_uid="test-server-activity")


@pytest.fixture
def context(context, server_activity):
    """pytest-playwright's browser context, closed before the test database is flushed: a
    closing page still sends its beacons (`pagehide`), and the live server must have answered
    them before the flush's TRUNCATE, or the two deadlock."""
    yield context
    context.close()
    server_activity.wait_until_quiet()


def pytest_collection_modifyitems(items):
    from django.db import connection

    on_postgres = connection.vendor == "postgresql"
    for item in items:
        if "page" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
        # Concurrency and locking are proven on PostgreSQL; SQLite serialises every writer.
        if item.get_closest_marker("postgres") and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)"))


# --- Mail: real SMTP servers on 127.0.0.1 (tests/servers.py) -----------------------------------


@pytest.fixture
def smtp_server(settings):
    """A working SMTP server (it refuses nobody@example.com for good), and the settings that
    send through it."""
    server = WorkingSMTPServer(refuse={"nobody@example.com"})
    use_smtp(settings, server.port)
    yield server
    server.stop()


@pytest.fixture
def silent_smtp_server():
    server = SilentSMTPServer()
    yield server
    server.stop()


@pytest.fixture
def no_smtp_server(settings):
    """Nothing listens where the mail should go: every connection is refused at once."""
    use_smtp(settings, free_port())


# --- AWS ---------------------------------------------------------------------------------------
# moto in server mode: real HTTP on 127.0.0.1 and the real boto3 client, found through the
# standard AWS_ENDPOINT_URL variable. Nothing patches boto3.


@pytest.fixture(scope="session")
def moto_server():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(moto_server, monkeypatch):
    """Credentials and endpoint of the moto server, with its state reset for each test."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    reset = urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")  # noqa: S310
    urllib.request.urlopen(reset, timeout=10).close()  # noqa: S310 (loopback)
    return moto_server
