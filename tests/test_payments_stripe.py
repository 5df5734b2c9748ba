"""Card payments with Stripe, against localstripe (a real HTTP server, the real `stripe` client):
the order exists once the webhook reports the money; a declined card can be retried; each event
acts once, also when it overtakes our own API call; a lapsed payment window gives the seats back
and a late payment is refunded, never oversold; an unsigned webhook changes nothing."""

import datetime as dt

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from ticketing.events.models import TicketType
from ticketing.orders import services as orders
from ticketing.orders.models import Hold, Order
from ticketing.outbox.models import Email
from ticketing.payments import emails, services, stripe_provider
from ticketing.payments.models import Payment, StripeEvent

from . import payments_fixtures as fixtures
from .checkout import run_concurrently
from .payments_fixtures import (
    DECLINED_CARD,
    a_hold,
    card_token,
    close_connections,
    deliver,
    intent_event,
    payment_of,
    signed,
    wait_for,
)

pytestmark = pytest.mark.django_db(transaction=True)

localstripe_url = fixtures.localstripe_url
stripe_keys, stripe_webhooks = fixtures.stripe_keys, fixtures.stripe_webhooks


def start(client, hold, name="Ada Lovelace", email="ada@example.com"):
    return client.post(f"/pay/{hold.token}/start", {"name": name, "email": email, "lang": "en"})


def pay(client, hold, number="4242424242424242"):
    return client.post(
        f"/pay/{hold.token}/card", {"token": card_token(number)}, content_type="application/json"
    )


def lapse(hold):
    """The hold's payment window is over (it began 20 minutes ago)."""
    now = timezone.now()
    Hold.objects.filter(pk=hold.pk).update(
        created_at=now - dt.timedelta(minutes=20), expires_at=now - dt.timedelta(seconds=1)
    )


def sold(ticket_type) -> tuple[int, int]:
    ticket_type = TicketType.objects.get(pk=ticket_type.pk)
    return ticket_type.sold, ticket_type.held


def test_without_keys_the_hold_page_offers_pay_at_the_venue(client):
    _, _, hold = a_hold()
    page = client.get(f"/holds/{hold.token}/").content.decode()
    assert "Place order" in page and "/pay/" not in page
    assert start(client, hold).status_code == 409  # no card payments without the keys


def test_hold_page_goes_to_card_payment_and_only_that_page_loads_stripe(client, stripe_keys):
    _, _, hold = a_hold()
    hold_page = client.get(f"/holds/{hold.token}/")
    assert "Continue to payment" in hold_page.content.decode()
    assert stripe_keys not in hold_page["Content-Security-Policy"]

    response = start(client, hold)
    assert response.status_code == 302 and response["Location"] == f"/pay/{hold.token}/"
    page = client.get(response["Location"])
    assert page.status_code == 200
    policy = page["Content-Security-Policy"]
    assert (
        f"script-src 'self' {stripe_keys}" in policy
        and stripe_keys in policy.split("connect-src")[1]
    )
    payment = payment_of(hold)
    assert payment.status == "pending" and payment.amount == 5000 and payment.currency == "EUR"
    # The hold lasts the payment window from now; a second start changes nothing.
    hold.refresh_from_db()
    assert hold.expires_at > timezone.now() + dt.timedelta(minutes=14)
    assert start(client, hold).status_code == 302
    assert Payment.objects.get().intent_id == payment.intent_id


def test_the_payment_window_is_the_events_own(client, stripe_keys):
    _, _, hold = a_hold(payment_minutes=40)
    before = timezone.now()
    assert start(client, hold).status_code == 302
    hold.refresh_from_db()
    lasts = hold.expires_at - before
    assert dt.timedelta(minutes=39) < lasts <= dt.timedelta(minutes=40, seconds=5)


def test_paid_by_card_the_webhook_confirms_the_order_and_sends_its_tickets(stripe_webhooks):
    client = Client()
    _, ga, hold = a_hold(quantity=2)
    start(client, hold)
    answer = pay(client, hold)
    assert answer.status_code == 200, answer.content
    assert client.get(f"/pay/{hold.token}/status").json() == {"status": "pending"}

    wait_for(lambda: payment_of(hold).status == "succeeded")  # localstripe's webhook
    order = Order.objects.get(hold=hold)
    assert order.payment_provider == "stripe" and order.payment_status == "paid"
    assert order.tickets.count() == 2 and sold(ga) == (2, 0)
    assert client.get(f"/pay/{hold.token}/status").json() == {
        "status": "succeeded", "order_url": order.get_absolute_url(),
    }  # fmt: skip
    assert Email.objects.filter(kind="order_confirmation", reference=order.code).count() == 1
    assert payment_of(hold).order == order
    assert client.get(f"/pay/{hold.token}/")["Location"] == order.get_absolute_url()


def test_a_declined_card_says_so_and_another_card_pays(stripe_webhooks):
    client = Client()
    _, ga, hold = a_hold(quantity=1)
    start(client, hold)
    declined = pay(client, hold, DECLINED_CARD)
    assert declined.status_code == 402
    assert declined.json()["detail"] == "Your card was declined. Please try another card."
    assert payment_of(hold).status == "pending" and sold(ga) == (0, 1)  # still held

    assert pay(client, hold).status_code == 200
    wait_for(lambda: payment_of(hold).status == "succeeded")
    order = Order.objects.get(hold=hold)
    assert order.payment_status == "paid" and sold(ga) == (1, 0)


def _paid_intent(client, hold) -> str:
    """The fan's card confirmed at Stripe; its webhook not delivered (the test delivers it)."""
    start(client, hold)
    assert pay(client, hold).status_code == 200
    return payment_of(hold).intent_id


def test_a_webhook_delivered_twice_acts_once(stripe_keys):
    client = Client()
    _, ga, hold = a_hold(quantity=2)
    event = intent_event(_paid_intent(client, hold))
    assert deliver(client, event).status_code == 200
    assert deliver(client, event).status_code == 200
    assert Order.objects.filter(hold=hold).count() == 1 and sold(ga) == (2, 0)
    assert Email.objects.filter(kind="order_confirmation").count() == 1
    assert StripeEvent.objects.filter(id=event["id"]).count() == 1


@pytest.mark.postgres
def test_the_same_event_delivered_twice_at_once_acts_once(stripe_keys):
    client = Client()
    _, ga, hold = a_hold(quantity=2)
    event = intent_event(_paid_intent(client, hold))

    def delivery():
        try:
            return deliver(Client(), event).status_code
        finally:
            close_connections()

    assert run_concurrently([delivery] * 4) == [200] * 4
    assert Order.objects.filter(hold=hold).count() == 1 and sold(ga) == (2, 0)
    assert Email.objects.filter(kind="order_confirmation").count() == 1


def test_a_webhook_that_overtakes_the_api_call_still_confirms_the_order(stripe_keys):
    # Our row exists, Stripe has the paid intent, but the answer to our create call has not been
    # recorded yet (no intent id on the row): the event finds the payment by its metadata.
    client = Client()
    _, ga, hold = a_hold(quantity=1)
    payment = Payment.objects.create(
        hold=hold, amount=2500, currency="EUR", name="Ada", email="ada@example.com"
    )
    intent = stripe_provider.create_intent(payment)
    payment.intent_id = intent.id  # what confirm_with_card_token needs, not saved
    stripe_provider.confirm_with_card_token(payment, card_token())
    assert deliver(client, intent_event(intent.id)).status_code == 200

    order = Order.objects.get(hold=hold)
    assert order.payment_status == "paid" and sold(ga) == (1, 0)
    # Now the API call "returns": start_payment records nothing over the settled payment.
    services.start_payment(hold.token, name="Ada", email="ada@example.com")
    payment.refresh_from_db()
    assert payment.status == "succeeded" and payment.intent_id == intent.id
    assert payment.order == order


def test_a_lapsed_window_releases_the_seats_and_a_late_payment_is_refunded(stripe_keys):
    client = Client()
    _, ga, hold = a_hold(capacity=2, quantity=2)
    intent_id = _paid_intent(client, hold)  # the fan paid, the webhook is slow
    mail.outbox.clear()

    # The window lapses; the sweep gives the seats back and tells the fan.
    lapse(hold)
    assert services.sweep()["closed"] == 1
    assert payment_of(hold).status == "canceled" and sold(ga) == (0, 0)
    assert Email.objects.filter(kind=emails.PAYMENT_RELEASED).count() == 1

    # Another fan buys both seats.
    other = orders.create_hold([{"ticket_type": ga.pk, "quantity": 2}])
    orders.place_order(other.token, name="Bo", email="bo@example.com", payment_provider="venue")
    assert sold(ga) == (2, 0)

    # The first fan's money arrives: refunded in full, the fan told, nothing oversold.
    assert deliver(client, intent_event(intent_id)).status_code == 200
    payment = payment_of(hold)
    assert payment.status == "refunded" and payment.refund_id.startswith("re_")
    assert not Order.objects.filter(hold=hold).exists() and sold(ga) == (2, 0)
    refunded = Email.objects.get(kind=emails.PAYMENT_REFUNDED)
    assert refunded.reference == intent_id
    api = stripe_provider.client().v1
    refund = api.refunds.retrieve(payment.refund_id)
    assert refund.amount == 5000 and refund.payment_intent == intent_id
    assert client.get(f"/pay/{hold.token}/status").json() == {"status": "refunded"}


def test_a_payment_that_never_completes_gives_its_seats_back_when_the_fan_looks(stripe_keys):
    client = Client()
    _, ga, hold = a_hold(quantity=2)
    start(client, hold)
    lapse(hold)
    assert client.get(f"/pay/{hold.token}/status").json() == {"status": "canceled"}
    assert sold(ga) == (0, 0)
    intent = stripe_provider.client().v1.payment_intents.retrieve(payment_of(hold).intent_id)
    assert intent.status == "canceled"  # the fan can no longer pay it
    assert Email.objects.filter(kind=emails.PAYMENT_RELEASED).count() == 1
    assert "went back on sale" in client.get(f"/pay/{hold.token}/").content.decode()


@pytest.mark.parametrize("header", ["", "t=1,v1=00", "wrong-secret", "stale"])
def test_a_webhook_whose_signature_does_not_verify_is_refused_and_changes_nothing(
    stripe_keys,
    header,
):
    client = Client()
    _, ga, hold = a_hold(quantity=2)
    event = intent_event(_paid_intent(client, hold))
    payload, signature = signed(event)
    if header == "wrong-secret":
        signature = signed(event, secret="whsec_someone_else")[1]
    elif header == "stale":  # a replay of a real signature from long ago
        timestamp = int(timezone.now().timestamp()) - 3600
        import stripe

        mac = stripe.WebhookSignature._compute_signature(f"{timestamp}.{payload.decode()}",
                                                        "whsec_payments_tests")  # fmt: skip
        signature = f"t={timestamp},v1={mac}"
    else:
        signature = header
    response = client.post(
        "/payments/stripe/webhook", payload, content_type="application/json",
        headers={"Stripe-Signature": signature} if signature else {},
    )  # fmt: skip
    assert response.status_code == 400
    assert not StripeEvent.objects.exists() and not Order.objects.exists()
    assert payment_of(hold).status == "pending" and sold(ga) == (0, 2)


def test_the_payment_page_speaks_the_fans_language(client, stripe_keys):
    _, _, hold = a_hold()
    client.post(f"/pay/{hold.token}/start", {"name": "Ada", "email": "a@example.com", "lang": "de"})
    page = client.get(f"/pay/{hold.token}/").content.decode()
    assert "Mit Karte bezahlen" in page and "50,00" in page


def test_the_minutely_sweep_closes_lapsed_payments(stripe_keys):
    from ticketing.payments.handlers import sweep_payments

    _, ga, hold = a_hold(quantity=2)
    start(Client(), hold)
    assert sweep_payments({}, None) == {"closed": 0, "refunds": 0}
    lapse(hold)
    assert sweep_payments({}, None) == {"closed": 1, "refunds": 0}
    assert payment_of(hold).status == "canceled" and sold(ga) == (0, 0)


def test_a_card_that_asks_for_3d_secure_pays_once_the_fan_authenticates(stripe_webhooks):
    import json
    import urllib.request

    client = Client()
    _, ga, hold = a_hold(quantity=1)
    start(client, hold)
    answer = pay(client, hold, "4000002500003155")  # localstripe: needs authentication
    assert answer.status_code == 200
    assert answer.json()["intent_status"] == "requires_action"
    assert sold(ga) == (0, 1)
    # What Stripe.js's confirmCardPayment does in the browser when the fan completes 3-D Secure.
    payment = payment_of(hold)
    body = json.dumps(
        {"key": fixtures.PUBLISHABLE, "client_secret": answer.json()["client_secret"]}
    )
    request = urllib.request.Request(  # noqa: S310 (localstripe on 127.0.0.1)
        f"{stripe_webhooks_base()}/v1/payment_intents/{payment.intent_id}/_authenticate?success=true",
        data=body.encode(), method="POST", headers={"Content-Type": "application/json"},
    )  # fmt: skip
    urllib.request.urlopen(request, timeout=5).close()  # noqa: S310
    wait_for(lambda: payment_of(hold).status == "succeeded")
    assert Order.objects.get(hold=hold).payment_status == "paid" and sold(ga) == (1, 0)


def stripe_webhooks_base():
    from django.conf import settings

    return settings.STRIPE_API_BASE


def test_a_cancelled_intent_releases_the_seats_unless_it_was_a_declined_cards(stripe_keys):
    client = Client()
    _, ga, hold = a_hold(quantity=2)
    start(client, hold)
    declined_intent = payment_of(hold).intent_id
    assert pay(client, hold, DECLINED_CARD).status_code == 402
    # We cancelled the declined card's intent; Stripe tells us so: the payment stays open.
    event = intent_event(declined_intent, "payment_intent.canceled")
    assert deliver(client, event).status_code == 200
    assert payment_of(hold).status == "pending" and sold(ga) == (0, 2)

    # The current intent cancelled (in Stripe's dashboard): the seats go back, the fan is told.
    current = payment_of(hold).intent_id
    stripe_provider.cancel_intent(current)
    assert deliver(client, intent_event(current, "payment_intent.canceled")).status_code == 200
    assert payment_of(hold).status == "canceled" and sold(ga) == (0, 0)
    assert Email.objects.filter(kind=emails.PAYMENT_RELEASED).count() == 1


def test_the_back_office_shows_each_promoter_its_own_payments(stripe_keys, promoter_a, manager_a):
    ours = promoter_a["events"][0]
    ours_hold = orders.create_hold([{"ticket_type": ours.ticket_types.get().pk, "quantity": 1}])
    _, _, theirs = a_hold("bravo")
    start(Client(), ours_hold)
    start(Client(), theirs)
    staff = Client()
    staff.force_login(manager_a)
    listing = staff.get("/admin/payments/payment/").content.decode()
    assert payment_of(ours_hold).intent_id in listing and "25.00 EUR" in listing
    assert payment_of(theirs).intent_id not in listing
