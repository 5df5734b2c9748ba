"""Cancelling an event in the back office: a confirmation page says what it affects and what
happens to the orders; confirmed, every order is cancelled (seats back) and each fan emailed
through the outbox. Scoped per promoter; viewers cannot."""

import pytest
from django.core import mail
from django.urls import reverse

from ticketing.events.models import Event, Membership
from ticketing.orders import services
from ticketing.orders.models import Order
from ticketing.outbox.models import Email

from .checkout import event_on_sale
from .conftest import make_staff

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:events_event_changelist")
NOTE = "The band is ill.\nA new date follows; your order will not carry over."


def buy(ticket_type, quantity, email):
    hold = services.create_hold([{"ticket_type": ticket_type.pk, "quantity": quantity}])
    return services.place_order(hold.token, name=email.split("@")[0].title(), email=email)[0]


@pytest.fixture
def shows():
    event, (ga,), catalogue = event_on_sale("alpha", capacities=(50,))
    orders = [buy(ga, 2, "ada@example.com"), buy(ga, 3, "bob@example.com")]
    earlier = buy(ga, 1, "cy@example.com")
    services.cancel_order(earlier)
    other_event, (other_ga,), _ = event_on_sale("bravo", capacities=(50,))
    other_order = buy(other_ga, 1, "bea@example.com")
    mail.outbox.clear()
    Email.objects.all().delete()  # the confirmations: not what these tests look at
    return {
        "event": event, "ga": ga, "orders": orders, "earlier": earlier,
        "promoter": catalogue["promoter"], "other_event": other_event, "other_order": other_order,
    }  # fmt: skip


def test_cancel_shows_what_it_affects_then_cancels_orders_and_emails_each_fan(
    client, shows, django_capture_on_commit_callbacks
):
    client.force_login(make_staff("m", shows["promoter"], Membership.Role.MANAGER))
    selection = {"action": "cancel",
                 "_selected_action": [shows["event"].pk, shows["other_event"].pk]}  # fmt: skip

    page = client.post(CHANGELIST, selection)
    assert page.status_code == 200
    html = page.content.decode()
    assert str(shows["event"]) in html and str(shows["other_event"]) not in html  # not theirs
    assert "<td>2</td>" in html and "<td>5</td>" in html  # confirmed orders, their tickets
    assert "Cancel every order" in html and 'name="note"' in html
    assert Event.objects.get(pk=shows["event"].pk).status == "scheduled"  # nothing done yet

    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(CHANGELIST, {**selection, "post": "yes", "orders": "cancel",
                                        "note": NOTE}, follow=True)  # fmt: skip
    assert done.redirect_chain[-1][0].startswith(CHANGELIST)
    assert "1 event(s) cancelled; 2 order(s) cancelled, each fan emailed." in done.content.decode()

    assert Event.objects.get(pk=shows["event"].pk).status == "cancelled"
    assert {o.state for o in Order.objects.filter(event=shows["event"])} == {"cancelled"}
    shows["ga"].refresh_from_db()
    assert (shows["ga"].sold, shows["ga"].held) == (0, 0)  # seats back, via cancel_order
    assert Event.objects.get(pk=shows["other_event"].pk).status == "scheduled"
    assert Order.objects.get(pk=shows["other_order"].pk).state == "confirmed"

    emails = Email.objects.order_by("reference")
    assert [(e.kind, e.state, e.promoter_id) for e in emails] == [
        ("event_cancelled", "sent", shows["promoter"].pk)
    ] * 2
    assert {e.reference for e in emails} == {o.code for o in shows["orders"]}
    by_fan = {message.to[0]: message for message in mail.outbox}
    assert set(by_fan) == {"ada@example.com", "bob@example.com"}  # not cy: cancelled before
    ada = by_fan["ada@example.com"]
    assert ada.subject.startswith("Cancelled: ") and shows["orders"][0].code in ada.subject
    assert "The band is ill." in ada.body and "nothing was charged" in ada.body
    assert "2 tickets" in ada.body
    assert "The band is ill." in ada.alternatives[0][0]


def test_viewers_cannot_cancel_events(client, shows):
    client.force_login(make_staff("v", shows["promoter"], Membership.Role.VIEWER))
    assert 'value="cancel"' not in client.get(CHANGELIST).content.decode()
    client.post(CHANGELIST, {"action": "cancel", "_selected_action": [shows["event"].pk],
                             "post": "yes", "orders": "cancel"})  # fmt: skip
    assert Event.objects.get(pk=shows["event"].pk).status == "scheduled"
    assert Order.objects.filter(state="confirmed", event=shows["event"]).count() == 2
    assert not Email.objects.exists()


def test_a_cancellation_cut_short_by_its_budget_goes_on_when_run_again(
    client, shows, django_capture_on_commit_callbacks
):
    services_events = Event.objects.filter(pk=shows["event"].pk)
    services_events.update(status="cancelled")
    cut_short = services.cancel_event_orders(services_events, budget_seconds=0)
    assert (cut_short.cancelled, cut_short.remaining) == (0, 2)

    client.force_login(make_staff("m", shows["promoter"], Membership.Role.MANAGER))
    page = client.post(CHANGELIST, {"action": "cancel", "_selected_action": [shows["event"].pk]})
    assert "<td>Cancelled</td>" in page.content.decode() and "<td>2</td>" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(CHANGELIST, {"action": "cancel", "_selected_action": [shows["event"].pk],
                                 "post": "yes", "orders": "cancel", "note": ""})  # fmt: skip
    assert not Order.objects.filter(state="confirmed", event=shows["event"]).exists()
    assert len(mail.outbox) == 2 and "A message from the organiser" not in mail.outbox[0].body


def test_orders_of_an_event_that_still_sells_are_left_alone(shows):
    result = services.cancel_event_orders(Event.objects.filter(pk=shows["event"].pk))
    assert (result.cancelled, result.remaining) == (0, 0)
    assert Order.objects.filter(state="confirmed", event=shows["event"]).count() == 2
