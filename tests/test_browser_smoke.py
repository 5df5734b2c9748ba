"""The fan's event page, as Chromium renders it."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)


def test_event_page_renders_in_chromium(live_server, page, promoter_a):
    event = promoter_a["events"][0]
    page.goto(f"{live_server.url}/e/{event.slug}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(event.artist.name)
    expect(page.get_by_text("Berlin")).to_be_visible()
