"""The event form as a promoter uses it, in Chromium on a 1366 x 768 screen."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from ticketing.events.models import Event, Membership, Venue

from .conftest import make_catalogue, make_staff
from .widget_helpers import empty_origin_cache  # noqa: F401 (autouse fixture)

pytestmark = pytest.mark.django_db(transaction=True)

LAPTOP = {"width": 1366, "height": 768}


def pick(page, field: str, text: str) -> None:
    """Choose `text` in an admin autocomplete (select2) field."""
    page.locator(f"#id_{field} + .select2 .select2-selection").click()
    page.locator(".select2-search__field").fill(text)
    page.locator(".select2-results__option", has_text=text).click()


def assert_no_horizontal_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= LAPTOP["width"]


def test_promoter_adds_a_show_in_los_angeles_at_2000_local_time(live_server, page):
    catalogue = make_catalogue("alpha", events=0)  # a Berlin venue, and one in Los Angeles:
    Venue.objects.create(
        promoter=catalogue["promoter"], name="The Fonda Theatre", city="Los Angeles",
        country="US", time_zone="America/Los_Angeles",
    )  # fmt: skip
    make_staff("promoter", catalogue["promoter"], Membership.Role.MANAGER)
    day = dt.date(dt.date.today().year + 2, 1, 15)  # winter: UTC-8 in Los Angeles
    page.set_viewport_size(LAPTOP)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "promoter")
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")

    page.goto(f"{live_server.url}/admin/events/event/add/")
    zone_labels = page.locator("[data-venue-zone]")
    expect(zone_labels.first).to_have_text("venue time")  # two zones: none chosen yet
    expect(
        page.get_by_text("they are read in the time zone of the venue chosen above")
    ).to_be_visible()
    pick(page, "artist", "alpha artist")
    pick(page, "venue", "Fonda")
    expect(zone_labels.first).to_have_text("America/Los_Angeles")  # relabelled at once
    page.fill("#id_starts_at_0", day.isoformat())
    page.fill("#id_starts_at_1", "20:00")
    page.locator(".add-row a", has_text="Add another Ticket type").click()
    page.fill("#id_ticket_types-0-name", "GA")
    page.fill("#id_ticket_types-0-price", "45.00")
    page.fill("#id_ticket_types-0-capacity", "500")
    expect(page.locator("#ticket_types-0 [data-venue-zone]").first).to_have_text(
        "America/Los_Angeles"
    )
    assert_no_horizontal_scroll(page)
    page.check("#id_is_published")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    event = Event.objects.get()
    assert event.slug == f"alpha-artist-los-angeles-{day}"
    assert event.starts_at == dt.datetime(day.year, 1, 15, 20, tzinfo=event.venue.zone)
    expect(page.locator("#result_list")).to_contain_text("20:00")
    expect(page.locator("#result_list")).to_contain_text("America/Los_Angeles")

    page.goto(f"{live_server.url}/admin/events/event/{event.pk}/change/")
    expect(page.locator("#id_starts_at_1")).to_have_value("20:00:00")
    expect(page.locator(".field-starts_at [data-venue-zone]")).to_have_text("America/Los_Angeles")
    assert_no_horizontal_scroll(page)

    api = page.request.get(f"{live_server.url}/widget/v1/artists/alpha-artist/events").json()
    assert api["events"][0]["starts_at"] == f"{day}T20:00:00-08:00"
    page.goto(f"{live_server.url}/e/{event.slug}/")
    expect(page.locator(".event-when time")).to_contain_text("20:00")
