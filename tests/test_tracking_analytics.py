"""Analytics in the back office, scoped per promoter: views, clicks, CTR; chart, tables, CSV."""

import csv
import datetime as dt
import io

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from ticketing.tracking import services
from ticketing.tracking.hits import Hit

URL = "/admin/tracking/hitcounter/"


def record(catalogue, kind, n, *, event=True, affiliate=False, bot=False, days_ago=0):
    at = timezone.now() - dt.timedelta(days=days_ago)
    ms = int(at.timestamp() * 1000)
    hits = [
        Hit(f"{catalogue['artist'].slug}-{kind}-{days_ago}-{bot}-{affiliate}-{event}-{i}", kind,
            catalogue["artist"].slug, catalogue["events"][0].pk if event else None,
            catalogue["affiliate"].public_key if affiliate else None, ms, bot)
        for i in range(n)
    ]  # fmt: skip
    services.record_hits(hits)


@pytest.fixture
def traffic(promoter_a, promoter_b):
    record(promoter_a, "view", 40, event=False)
    record(promoter_a, "view", 60, event=False, affiliate=True)
    record(promoter_a, "click", 9, affiliate=True)
    record(promoter_a, "click", 1)
    record(promoter_a, "view", 50, event=False, bot=True)
    record(promoter_a, "view", 10, event=False, days_ago=3)
    record(promoter_b, "view", 777, event=False, affiliate=True)
    record(promoter_b, "click", 333, affiliate=True)
    return promoter_a, promoter_b


def test_promoter_sees_own_views_clicks_and_ctr(client, manager_a, traffic):
    client.force_login(manager_a)
    response = client.get(URL)

    assert response.status_code == 200
    summary = response.context["summary"]
    assert (summary.views, summary.clicks, summary.bot_hits) == (110, 10, 50)
    page = response.content.decode()
    assert "9.1&nbsp;%" in page  # 10 clicks / 110 views
    assert "<svg" in page and "Views and clicks per day" in page
    by_affiliate = {row.label: (row.views, row.clicks) for row in response.context["affiliates"]}
    assert by_affiliate == {"Fans (alpha.example)": (60, 9), "Direct (no affiliate)": (50, 1)}
    days = {row.key: row.views for row in response.context["days"]}
    today = timezone.now().date()
    assert days[today] == 100 and days[today - dt.timedelta(days=3)] == 10
    assert len(days) == 30


def test_promoter_a_sees_nothing_of_promoter_b(client, manager_a, traffic):
    _, promoter_b = traffic
    client.force_login(manager_a)

    page = client.get(URL).content.decode()
    assert "777" not in page and "333" not in page
    assert "bravo" not in page.lower()

    forged = client.get(URL, {"artist": promoter_b["artist"].pk})
    assert "summary" not in forged.context
    assert "777" not in forged.content.decode()
    forged = client.get(URL, {"event": promoter_b["events"][0].pk, "format": "csv"})
    assert forged["Content-Type"].startswith("text/html")  # no export for a forged filter
    assert "333" not in forged.content.decode()

    export = client.get(URL, {"format": "csv"}).content.decode()
    assert "bravo" not in export.lower() and "777" not in export


def test_csv_export_by_day_event_and_affiliate(client, viewer_a, traffic):
    promoter_a, _ = traffic
    client.force_login(viewer_a)  # a viewer may read analytics
    artist, event = promoter_a["artist"], promoter_a["events"][0]

    response = client.get(URL, {"artist": artist.pk, "format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="analytics-{artist.slug}-' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    today = timezone.now().date().isoformat()
    three_days_ago = (timezone.now().date() - dt.timedelta(days=3)).isoformat()
    simplified = [
        (r["date"], r["event"], r["affiliate"], r["views"], r["clicks"], r["click_through_rate"])
        for r in rows
    ]
    assert sorted(simplified) == sorted([
        (three_days_ago, "(list of events)", "(direct)", "10", "0", "0.0000"),
        (today, "(list of events)", "(direct)", "40", "0", "0.0000"),
        (today, "(list of events)", "Fans", "60", "0", "0.0000"),
        (today, str(event), "(direct)", "0", "1", ""),
        (today, str(event), "Fans", "0", "9", ""),
    ])  # fmt: skip
    assert {r["artist"] for r in rows} == {artist.name}


def test_event_analytics_and_date_range(client, manager_a, traffic):
    promoter_a, _ = traffic
    client.force_login(manager_a)
    event = promoter_a["events"][0]
    today = timezone.now().date()

    response = client.get(URL, {"artist": promoter_a["artist"].pk, "event": event.pk})
    assert (response.context["summary"].views, response.context["summary"].clicks) == (0, 10)
    assert response.context["events"] is None

    older = client.get(URL, {"start": today - dt.timedelta(days=5),
                             "end": today - dt.timedelta(days=1)})  # fmt: skip
    assert older.context["summary"].views == 10
    assert len(older.context["days"]) == 5

    backwards = client.get(URL, {"start": today, "end": today - dt.timedelta(days=1)})
    assert "The start date is after the end date." in backwards.content.decode()


def test_superuser_sees_every_promoter(client, traffic):
    admin = get_user_model().objects.create_superuser("root", password="pw")
    client.force_login(admin)
    summary = client.get(URL).context["summary"]
    assert (summary.views, summary.clicks) == (110 + 777, 10 + 333)


def test_staff_without_a_promoter_is_refused(client, traffic):
    stranger = get_user_model().objects.create_user("stranger", password="pw", is_staff=True)
    client.force_login(stranger)
    assert client.get(URL).status_code == 403


def test_analytics_is_reachable_from_the_index_artist_and_event_pages(
    client, manager_a, promoter_a
):
    client.force_login(manager_a)
    artist, event = promoter_a["artist"], promoter_a["events"][0]

    assert URL in client.get("/admin/").content.decode()
    artist_page = client.get(f"/admin/events/artist/{artist.pk}/change/").content.decode()
    assert f'{URL}?artist={artist.pk}"' in artist_page
    event_page = client.get(f"/admin/events/event/{event.pk}/change/").content.decode()
    assert f"{URL}?artist={artist.pk}&amp;event={event.pk}" in event_page
