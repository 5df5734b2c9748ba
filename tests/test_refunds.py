"""Refunds from the order admin (per ticket, with a reason, seats back on sale or not), orders
paid at the venue refunded on the books alone, postponement (the new date emailed, refunds on
request within the promoter's window, refused after it) and a cancelled event's refund job,
resumed after an interruption. Scoped per promoter. Stripe's side: test_refunds_stripe.py."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from ticketing.events.models import Event, Membership
from ticketing.orders.models import Order, Ticket
from ticketing.outbox.models import Email
from ticketing.refunds import services
from ticketing.refunds.errors import RefundRefused
from ticketing.refunds.models import Postponement, Refund, RefundJob

from .checkout import event_on_sale
from .conftest import make_staff
from .refunds_helpers import buy

pytestmark = pytest.mark.django_db

EVENTS = reverse("admin:events_event_changelist")


@pytest.fixture
def sale():
    event, (ga,), catalogue = event_on_sale("alpha", capacities=(50,))
    _, (other_ga,), other = event_on_sale("bravo", capacities=(50,))
    order = buy(ga, 3, "ada@example.com", language="de")
    other_order = buy(other_ga, 1, "bea@example.com")
    Email.objects.all().delete()
    mail.outbox.clear()
    return {"event": event, "ga": ga, "order": order, "promoter": catalogue["promoter"],
            "other_promoter": other["promoter"], "other_order": other_order}  # fmt: skip


def refund_url(order):
    return reverse("admin:orders_order_refund", args=[order.pk])


def test_a_partial_refund_from_the_admin_returns_one_seat_and_tells_the_fan(
    client, sale, django_capture_on_commit_callbacks
):
    order, ga = sale["order"], sale["ga"]
    client.force_login(make_staff("m", sale["promoter"], Membership.Role.MANAGER))
    change = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert refund_url(order) in change  # the "Refund…" link

    page = client.get(refund_url(order))
    assert page.status_code == 200 and page.content.decode().count('name="tickets"') == 3
    first = order.tickets.order_by("pk").first()
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(refund_url(order), {"tickets": [first.pk], "reason": "Can't come",
                                               "restock": "on"}, follow=True)  # fmt: skip
    assert "Refunded 25.00 EUR for 1 ticket(s)" in done.content.decode()

    ga.refresh_from_db()
    assert ga.sold == 2  # one seat back on sale
    refund = Refund.objects.get()
    assert (refund.amount, refund.currency, refund.state, refund.reason) == (
        2500,
        "EUR",
        "recorded",
        "Can't come",
    )  # an order paid at the venue: no provider, recorded on the books
    assert list(refund.lines.values_list("ticket_id", flat=True)) == [first.pk]
    assert Ticket.objects.get(pk=first.pk).voided_at is not None
    assert Order.objects.get(pk=order.pk).state == "confirmed"  # two tickets left

    (email,) = mail.outbox
    assert email.to == ["ada@example.com"]
    # In the fan's language; to be paid at the venue, so nothing comes back but the seat goes.
    assert email.subject.startswith("Tickets storniert: ")
    assert "1 Ticket deiner Bestellung" in email.body and "nichts berechnet" in email.body

    fan_page = client.get(order.get_absolute_url()).content.decode()
    assert "Erstattet" not in fan_page
    assert fan_page.count('class="ticket"') == 2  # the refunded ticket's QR code is gone


def test_refunding_the_rest_cancels_the_order_and_seats_may_stay_off_sale(client, sale):
    order, ga = sale["order"], sale["ga"]
    client.force_login(make_staff("m", sale["promoter"], Membership.Role.MANAGER))
    ids = list(order.tickets.values_list("pk", flat=True))
    client.post(refund_url(order), {"tickets": ids, "reason": "Broken seats"})  # restock unticked
    ga.refresh_from_db()
    assert ga.sold == 3  # kept off sale
    assert Order.objects.get(pk=order.pk).state == "cancelled"
    again = client.post(refund_url(order), {"tickets": ids, "reason": "Twice"})
    assert again.status_code == 200 and Refund.objects.count() == 1  # nothing left to refund
    fan_page = client.get(order.get_absolute_url()).content.decode()
    assert "Stornierte Bestellung" in fan_page


def test_a_ticket_is_refunded_once(sale):
    order = sale["order"]
    ticket = order.tickets.first()
    services.refund_tickets(order, [ticket.pk], reason="first")
    with pytest.raises(RefundRefused):
        services.refund_tickets(order, [ticket.pk], reason="again")
    assert Refund.objects.count() == 1


def test_refunds_are_scoped_per_promoter(client, sale):
    order = sale["order"]
    client.force_login(make_staff("n", sale["other_promoter"], Membership.Role.OWNER))
    assert client.get(refund_url(order)).status_code == 404
    assert client.post(refund_url(order), {"tickets": [], "reason": "x"}).status_code == 404
    services.refund_order(order, reason="mine")
    services.refund_order(sale["other_order"], reason="theirs")
    listed = client.get(reverse("admin:refunds_refund_changelist")).content.decode()
    assert sale["other_order"].code in listed and order.code not in listed

    client.force_login(make_staff("v", sale["promoter"], Membership.Role.VIEWER))
    assert client.get(refund_url(sale["order"])).status_code == 403  # viewers see, not refund
    assert Refund.objects.count() == 2


def test_postponing_emails_every_fan_and_refunds_on_request_within_the_window(
    client, sale, django_capture_on_commit_callbacks
):
    event, order, ga = sale["event"], sale["order"], sale["ga"]
    second = buy(ga, 2, "cy@example.com")
    Email.objects.all().delete()
    mail.outbox.clear()
    client.force_login(make_staff("m", sale["promoter"], Membership.Role.MANAGER))
    new_start = timezone.localtime(event.starts_at + dt.timedelta(days=30), event.venue.zone)
    until = timezone.localtime(timezone.now() + dt.timedelta(days=7), event.venue.zone)
    form = {"action": "postpone", "_selected_action": [event.pk]}
    page = client.post(EVENTS, form)
    assert page.status_code == 200 and 'name="refunds_until"' in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(EVENTS, {**form, "post": "yes", "note": "New date!",
                                    "new_starts_at": new_start.strftime("%Y-%m-%dT%H:%M"),
                                    "refunds_until": until.strftime("%Y-%m-%dT%H:%M")},
                           follow=True)  # fmt: skip
    assert "postponed; 2 fan(s) emailed." in done.content.decode()
    event.refresh_from_db()
    assert event.status == "postponed"
    assert event.starts_at == new_start.replace(second=0, microsecond=0)
    assert sorted(m.to[0] for m in mail.outbox) == ["ada@example.com", "cy@example.com"]
    assert all("New date!" in m.body for m in mail.outbox)

    fan_page = client.get(second.get_absolute_url()).content.decode()
    request = reverse("refunds:request", args=[second.code, second.access_key])
    assert request in fan_page and "Ask for a refund" in fan_page
    assert 'name="confirm"' in fan_page
    unconfirmed = client.post(request, {"lang": "en"})
    assert unconfirmed.status_code == 409 and "tick the box" in unconfirmed.content.decode()
    assert Refund.objects.count() == 0
    answer = client.post(request, {"lang": "en", "confirm": "yes"})
    assert answer.status_code == 302
    ga.refresh_from_db()
    assert ga.sold == 3  # the fan's two seats back on sale
    assert Order.objects.get(pk=second.pk).state == "cancelled"
    assert Refund.objects.get(order=second).amount == 5000
    again = client.post(request, {"confirm": "yes"})
    assert again.status_code == 409  # asked twice: nothing left, nothing moves
    assert Refund.objects.count() == 1

    Postponement.objects.update(refunds_until=timezone.now() - dt.timedelta(minutes=1),
                                created_at=timezone.now() - dt.timedelta(days=8))  # fmt: skip
    late = reverse("refunds:request", args=[order.code, order.access_key])
    assert late not in client.get(order.get_absolute_url()).content.decode()
    refused = client.post(late, {"confirm": "yes"})
    assert refused.status_code == 409
    assert "Frist" in refused.content.decode()  # the fan's language: the window has ended
    assert Refund.objects.filter(order=order).count() == 0


def test_cancelling_with_refund_every_order_runs_a_job_with_progress(
    client, sale, django_capture_on_commit_callbacks
):
    event, ga = sale["event"], sale["ga"]
    for n in range(4):
        buy(ga, 1, f"fan{n}@example.com")
    Email.objects.all().delete()
    client.force_login(make_staff("m", sale["promoter"], Membership.Role.MANAGER))
    services.refund_tickets(sale["order"], [sale["order"].tickets.first().pk], reason="one")
    form = {"action": "cancel", "_selected_action": [event.pk]}
    confirmation = client.post(EVENTS, form).content.decode()
    assert "Refund every order" in confirmation
    assert "<td>5</td>" in confirmation and "<td>6</td>" in confirmation  # tickets left: 2 + 4
    with django_capture_on_commit_callbacks(execute=True):  # OUTBOX_PROMPT=inline: runs now
        done = client.post(EVENTS, {**form, "post": "yes", "orders": "refund",
                                    "note": "Sorry"}, follow=True)  # fmt: skip
    job = RefundJob.objects.get()
    progress = reverse("admin:refunds_refundjob_change", args=[job.pk])
    assert done.redirect_chain[-1][0] == progress
    assert 'http-equiv="refresh"' in done.content.decode()  # running when the page was shown
    page = client.get(progress).content.decode()
    assert "5 of 5 orders refunded" in page and 'http-equiv="refresh"' not in page
    job.refresh_from_db()
    assert job.state == "done" and Event.objects.get(pk=event.pk).status == "cancelled"
    assert set(Order.objects.filter(event=event).values_list("state", flat=True)) == {"cancelled"}
    ga.refresh_from_db()
    assert ga.sold == 0
    assert Email.objects.filter(kind="event_cancelled_refunded").count() == 5
    assert Refund.objects.filter(order__event=event).count() == 6  # the earlier one, and 5


def test_a_job_interrupted_halfway_and_resumed_refunds_each_order_once(sale):
    event, ga = sale["event"], sale["ga"]
    ga.__class__.objects.filter(pk=ga.pk).update(capacity=100, max_per_order=6)
    for n in range(49):
        buy(ga, 1, f"fan{n}@example.com")
    Event.objects.filter(pk=event.pk).update(status="cancelled")
    event.refresh_from_db()
    job = services.start_refund_job(event, note="Sorry")
    assert job.orders_total == 50

    halfway = services.run_refund_job(job.pk, max_orders=25)
    assert (halfway.state, halfway.orders_done) == ("running", 25)
    # Asked again while it runs (a second click, a second staff member): the same job.
    assert services.start_refund_job(event).pk == job.pk
    assert services.run_refund_job(job.pk) is not None  # resumed (the schedule, the command)
    assert RefundJob.objects.filter(event=event).count() == 1
    job.refresh_from_db()
    assert (job.state, job.orders_done) == ("done", 50)
    refunded = Refund.objects.filter(order__event=event)
    assert refunded.count() == 50
    assert refunded.values("order").distinct().count() == 50
    assert Email.objects.filter(kind="event_cancelled_refunded").count() == 50
    ga.refresh_from_db()
    assert ga.sold == 0


def test_analytics_revenue_reconciles_with_the_refunds(sale):
    from ticketing.orders.selectors import recent_sales, sales
    from ticketing.refunds import reconcile

    order, event = sale["order"], sale["event"]
    today = timezone.now().date()
    orders = Order.objects.filter(event=event)
    before = sales(orders, today, today)[()]
    assert (before.tickets, before.revenue) == (3, (("EUR", Decimal("75.00")),))
    services.refund_tickets(order, [order.tickets.first().pk], reason="one")
    after = sales(orders, today, today)[()]
    assert (after.tickets, after.revenue) == (2, (("EUR", Decimal("50.00")),))
    live = recent_sales(orders, timezone.now())[None]
    assert live.revenue == (("EUR", Decimal("50.00")),)
    refunded = sum(r.amount for r in Refund.objects.filter(order__event=event))
    assert 7500 - refunded == 5000  # paid, less refunds, is the revenue, to the cent
    assert reconcile.report() == []


def test_the_lambda_schedule_resumes_a_job_and_the_fan_sees_it_cancelled(client, sale):
    from ticketing.refunds import handlers

    event, order = sale["event"], sale["order"]
    Event.objects.filter(pk=event.pk).update(status="cancelled")
    event.refresh_from_db()
    job = services.start_refund_job(event)
    assert handlers.run_refund_job({"job": "x"}, None) == {"job": None}  # a bad payload: nothing
    assert handlers.resume_refund_jobs({}, None) == {"jobs": 1}
    job.refresh_from_db()
    assert job.state == "done"
    assert handlers.resume_refund_jobs({}, None) == {"jobs": 0}  # nothing left to resume
    fan_page = client.get(order.get_absolute_url() + "?lang=en").content.decode()
    assert "Cancelled order" in fan_page and 'class="ticket"' not in fan_page


def test_a_new_date_before_sales_open_is_refused_with_a_message(client, sale):
    event = sale["event"]
    client.force_login(make_staff("m", sale["promoter"], Membership.Role.MANAGER))
    until = timezone.localtime(timezone.now() + dt.timedelta(days=7), event.venue.zone)
    # A start in the past is the form's to refuse; one before sales open (set in the future
    # here) the service's.
    Event.objects.filter(pk=event.pk).update(on_sale_at=timezone.now() + dt.timedelta(hours=2))
    too_early = timezone.localtime(timezone.now() + dt.timedelta(hours=1), event.venue.zone)
    local = "%Y-%m-%dT%H:%M"
    page = client.post(EVENTS, {"action": "postpone", "_selected_action": [event.pk],
                                "post": "yes", "new_starts_at": too_early.strftime(local),
                                "refunds_until": until.strftime(local)})  # fmt: skip
    assert page.status_code == 200
    assert "The new start must come after sales open" in page.content.decode()
    assert Event.objects.get(pk=event.pk).status == "scheduled"
    assert Postponement.objects.count() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_started_job_runs_in_a_thread_off_the_request(sale, settings):
    import time

    from ticketing.refunds import jobs

    settings.OUTBOX_PROMPT = "thread"  # the dev server's and gunicorn's way
    event = sale["event"]
    Event.objects.filter(pk=event.pk).update(status="cancelled")
    event.refresh_from_db()
    job = services.start_refund_job(event)
    jobs.kick(job.pk)  # outside a transaction: at once, in a thread
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and RefundJob.objects.get(pk=job.pk).state != "done":
        time.sleep(0.1)
    assert RefundJob.objects.get(pk=job.pk).state == "done"
    assert Order.objects.get(pk=sale["order"].pk).state == "cancelled"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_seat_a_partial_refund_returns_goes_to_exactly_one_of_the_fans_waiting():
    from ticketing.orders import services as order_services
    from ticketing.orders.errors import NotEnoughTickets

    from .checkout import run_concurrently

    _, (ga,), _ = event_on_sale("sold", capacities=(3,))
    order = buy(ga, 3, "ada@example.com")  # sold out
    ticket = order.tickets.first()

    def buyer():
        return order_services.create_hold([{"ticket_type": ga.pk, "quantity": 1}])

    def refund():
        return services.refund_tickets(order, [ticket.pk], reason="one seat back")

    results = run_concurrently([refund, refund] + [buyer] * 8)
    assert sum(isinstance(r, Refund) for r in results[:2]) == 1  # the other: already refunded
    assert all(isinstance(r, RefundRefused) for r in results[:2] if not isinstance(r, Refund))
    errors = [r for r in results[2:] if isinstance(r, BaseException)]
    assert all(isinstance(error, NotEnoughTickets) for error in errors)
    holds = [r for r in results[2:] if not isinstance(r, BaseException)]
    assert len(holds) <= 1  # the one seat, to one fan
    if not holds:  # every fan asked before the seat was back: the next one gets it
        holds.append(buyer())
    with pytest.raises(NotEnoughTickets):
        buyer()  # and only that one
    ga.refresh_from_db()
    assert (ga.sold, ga.held, ga.capacity) == (2, 1, 3)
