"""Notify me, end to end: a fan leaves an address on a sold-out or not-yet-on-sale event,
confirms it from the email (double opt-in), is told once when tickets are there, and can always
unsubscribe; the promoter sees the counts, scoped; nothing sets a cookie; abuse is limited."""

import datetime as dt
import re
import time

import pytest
from django.core import mail, signing
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from ticketing.events.models import Event
from ticketing.notify import services
from ticketing.notify.models import Subscription
from ticketing.orders import services as checkout

from .checkout import event_on_sale
from .conftest import make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()


@pytest.fixture
def sold_out():
    event, (ga,), catalogue = event_on_sale(capacities=(2,))
    hold = checkout.create_hold([{"ticket_type": ga.pk, "quantity": 2}])
    order, _ = checkout.place_order(hold.token, name="Early", email="early@example.com")
    return {"event": event, "ga": ga, "order": order, **catalogue}


def links(message) -> list[str]:
    return re.findall(r"https?://\S+", message.body)


def subscribe(client, event, email="fan@example.com", lang="de", **headers):
    return client.post(f"/e/{event.slug}/notify", {"email": email, "lang": lang}, headers=headers)


def test_double_opt_in_then_told_once_when_seats_come_back_then_unsubscribe(
    client, sold_out, django_capture_on_commit_callbacks
):
    event = sold_out["event"]
    with django_capture_on_commit_callbacks(execute=True):
        response = subscribe(client, event)
    assert response.status_code == 200 and "Schau in dein Postfach" in response.content.decode()
    assert response["Cache-Control"] == "private, no-store" and "Set-Cookie" not in response
    subscription = Subscription.objects.get()
    assert (subscription.state, subscription.language) == ("pending", "de")

    (confirmation,) = mail.outbox
    assert confirmation.to == ["fan@example.com"]
    assert confirmation.subject.startswith("Bitte bestätigen")
    confirm_url, unsubscribe_url = links(confirmation)
    assert "/notify/confirm/" in confirm_url and "/notify/unsubscribe/" in unsubscribe_url
    assert confirmation.extra_headers["List-Unsubscribe"] == f"<{unsubscribe_url}>"

    # Opening the link (as a mail scanner would) confirms nothing; the button does.
    page = client.get(confirm_url)
    assert "Ja, benachrichtigen" in page.content.decode()
    assert Subscription.objects.get().state == "pending"
    assert services.notify_subscribers() == 0  # nobody confirmed yet
    confirmed = client.post(confirm_url)
    assert "Bestätigt" in confirmed.content.decode()
    assert Subscription.objects.get().state == "active"

    # Still sold out: nobody is told.
    with django_capture_on_commit_callbacks(execute=True):
        assert services.notify_subscribers() == 0
    assert len(mail.outbox) == 1

    # Seats come back (an order is cancelled): the next scheduled run tells the fan, once.
    checkout.cancel_order(sold_out["order"])
    with django_capture_on_commit_callbacks(execute=True):
        assert services.notify_subscribers() == 1
        assert services.notify_subscribers() == 0
    news = mail.outbox[1]
    assert news.subject == f"Tickets für {event.display_name} sind erhältlich"
    assert f"http://127.0.0.1:8000/e/{event.slug}/?lang=de" in news.body
    assert Subscription.objects.get().state == "notified"

    # Every email carries the unsubscribe link; a mail client's one-click POST uses it too.
    news_unsubscribe = links(news)[-1]
    assert "Abmelden" in client.get(news_unsubscribe).content.decode()
    one_click = client.post(news_unsubscribe, {"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200 and "Abgemeldet" in one_click.content.decode()
    subscription = Subscription.objects.get()
    assert subscription.state == "unsubscribed" and subscription.unsubscribed_at
    # An old confirm link does not undo it.
    client.post(confirm_url)
    assert Subscription.objects.get().state == "unsubscribed"


def test_told_when_the_on_sale_moment_passes(client, django_capture_on_commit_callbacks):
    event, _, _ = event_on_sale(on_sale_at=timezone.now() + dt.timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        subscription = services.subscribe(event, "fan@example.com", language="fr")
    services.confirm(services.confirm_token(subscription))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.notify_subscribers() == 0  # not yet
        assert services.notify_subscribers(now=timezone.now() + dt.timedelta(hours=2)) == 1
    assert mail.outbox[-1].subject.startswith("Des billets pour")


def test_the_widget_subscribes_cross_origin_and_gets_json(client, sold_out):
    response = subscribe(
        client,
        sold_out["event"],
        lang="es",
        Accept="application/json",
        Origin="https://fans.example",
    )
    assert response.status_code == 202
    assert response.json() == {
        "status": "pending",
        "detail": "Revisa tu bandeja de entrada para confirmar.",
    }
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Set-Cookie" not in response and "Cookie" not in response.get("Vary", "")
    bad = subscribe(client, sold_out["event"], email="nope", lang="en", Accept="application/json")
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_email"


def test_no_waiting_for_an_event_on_sale_or_over(client):
    event, _, _ = event_on_sale()
    response = subscribe(client, event, lang="en", Accept="application/json")
    assert response.status_code == 409 and response.json()["error"] == "on_sale"
    Event.objects.filter(pk=event.pk).update(status=Event.Status.CANCELLED)
    response = subscribe(client, event, lang="en", Accept="application/json")
    assert response.status_code == 409 and response.json()["error"] == "closed"
    assert not Subscription.objects.exists()


def test_asking_again_neither_duplicates_nor_floods(sold_out, django_capture_on_commit_callbacks):
    event = sold_out["event"]
    with django_capture_on_commit_callbacks(execute=True):
        services.subscribe(event, "Fan@Example.com")
        services.subscribe(event, "fan@example.COM")  # the same address, within RESEND_AFTER
    assert Subscription.objects.count() == 1 and len(mail.outbox) == 1
    later = timezone.now() + services.RESEND_AFTER + dt.timedelta(seconds=1)
    with django_capture_on_commit_callbacks(execute=True):
        services.subscribe(event, "fan@example.com", now=later)
    assert Subscription.objects.count() == 1 and len(mail.outbox) == 2


def test_one_address_gets_a_few_confirmations_a_day_at_most(client, promoter_a):
    artist, venue = promoter_a["artist"], promoter_a["venue"]
    starts = timezone.now() + dt.timedelta(days=30)
    events = [
        Event.objects.create(artist=artist, venue=venue, slug=f"later-{n}", is_published=True,
                             starts_at=starts, on_sale_at=starts - dt.timedelta(days=1))
        for n in range(services.MAX_CONFIRMATIONS_PER_ADDRESS + 1)
    ]  # fmt: skip
    for event in events[:-1]:
        services.subscribe(event, "victim@example.com")
    with pytest.raises(services.NotifyError) as refused:
        services.subscribe(events[-1], "victim@example.com")
    assert refused.value.status == 429


def test_one_client_is_rate_limited(sold_out):
    client = Client(REMOTE_ADDR="198.51.100.9")
    answers = [
        subscribe(client, sold_out["event"], email=f"fan{n}@example.com", lang="en").status_code
        for n in range(22)
    ]
    assert answers[:20] == [200] * 20 and answers[20:] == [429, 429]
    other = Client(REMOTE_ADDR="198.51.100.10")
    assert (
        subscribe(other, sold_out["event"], email="someone@example.com", lang="en").status_code
        == 200
    )


class EightDaysAgo(signing.TimestampSigner):
    def timestamp(self):
        return signing.b62_encode(int(time.time()) - 8 * 86400)


def test_links_are_signed_and_confirmations_expire(client, sold_out):
    subscription = services.subscribe(sold_out["event"], "fan@example.com", language="en")
    token = services.confirm_token(subscription)
    forged = signing.dumps(subscription.pk, salt="something else", compress=True)
    assert client.post(f"/notify/confirm/{forged}/").status_code == 404
    assert client.post(f"/notify/confirm/{token[:-2]}xx/").status_code == 404
    # An unsubscribe link is no confirm link.
    unsubscribe = services.unsubscribe_token(subscription)
    assert client.post(f"/notify/confirm/{unsubscribe}/").status_code == 404
    # A link signed eight days ago (the signature carries its own timestamp).
    expired = EightDaysAgo(salt=services.CONFIRM_SALT).sign_object(subscription.pk, compress=True)
    response = client.post(f"/notify/confirm/{expired}/")
    assert response.status_code == 410 and "expired" in response.content.decode()
    assert Subscription.objects.get().state == "pending"


def test_promoter_sees_the_counts_of_its_own_events_only(client, sold_out, promoter_b):
    other_event = promoter_b["events"][0]
    checkout.issue_tickets(other_event.ticket_types.get(), 100, name="Box", email="box@example.com")
    services.subscribe(sold_out["event"], "a@example.com")
    confirmed = services.subscribe(sold_out["event"], "b@example.com")
    services.confirm(services.confirm_token(confirmed))
    services.subscribe(other_event, "secret@example.com")
    staff = make_staff("viewer", sold_out["promoter"], "viewer")
    client.force_login(staff)
    response = client.get("/admin/notify/subscription/")
    assert response.status_code == 200
    html = response.content.decode()
    counts = re.search(r'<div class="module" id="notify-counts">.*?</div>', html, re.S).group(0)
    row = re.search(r"<tr><th scope=\"row\">.*?</tr>", counts, re.S).group(0)
    assert sold_out["artist"].name in row
    assert re.findall(r"<td[^>]*>(\d+)</td>", row) == ["1", "1", "0", "0"]
    assert "secret@example.com" not in html and promoter_b["artist"].name not in counts
    assert "a@example.com" in html
    other = Subscription.objects.get(email="secret@example.com")
    assert client.get(f"/admin/notify/subscription/{other.pk}/change/").status_code == 404


def test_the_widget_demo_offers_the_notify_button(client, db):
    html = client.get("/widget/demo/", {"artist": "demo-artist", "notify": "1"}).content.decode()
    assert '<div data-tour-widget data-artist="demo-artist" data-notify="">' in html  # the live one
    assert "data-notify=&quot;&quot;" in html  # the snippet to copy
