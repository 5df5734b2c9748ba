"""The outbox: emails stored with the change that causes them, sent after commit through a real
SMTP server, retried with backoff, given up on visibly, resent from the back office, and never
sent twice by concurrent senders."""

import datetime as dt
import json
import time

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from ticketing.events.models import Membership
from ticketing.orders.models import Order
from ticketing.outbox import handlers, prompt, services
from ticketing.outbox.models import Email

from .checkout import event_on_sale, post_hold, post_order, run_concurrently
from .conftest import make_staff
from .outbox_helpers import message, use_smtp
from .servers import AWSProxy, free_port

CHANGELIST = reverse("admin:outbox_email_changelist")


def enqueue(promoter_id=None, **fields):
    return services.enqueue_email(
        message(**fields), kind="test", promoter_id=promoter_id, reference="REF1"
    )


# --- Writing with the change, sending after commit --------------------------------------------


@pytest.mark.django_db
def test_an_email_exists_only_if_its_transaction_commits(django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks(execute=True)
    with capture, pytest.raises(RuntimeError), transaction.atomic():
        enqueue()
        raise RuntimeError("the change failed")
    assert not Email.objects.exists() and mail.outbox == []

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        email = enqueue(subject="Kept")
        assert mail.outbox == []  # nothing leaves before COMMIT
    (sent,) = mail.outbox
    assert sent.subject == "Kept" and sent.alternatives[0] == ("<p>Hi Ada</p>", "text/html")
    email.refresh_from_db()
    assert (email.state, email.attempts) == ("sent", 1) and email.sent_at is not None
    assert sent.extra_headers["Message-ID"] == email.message["headers"]["Message-ID"]


@pytest.mark.django_db
def test_the_order_confirmation_goes_through_the_outbox(client, django_capture_on_commit_callbacks):
    _, (ga,), catalogue = event_on_sale("alpha", capacities=(10,))
    token = post_hold(client, (ga, 2)).json()["token"]
    with django_capture_on_commit_callbacks(execute=True):
        assert post_order(client, token, key="k").status_code == 201
    order = Order.objects.get()
    email = Email.objects.get()
    assert (email.kind, email.reference, email.promoter_id, email.to) == (
        "order_confirmation", order.code, catalogue["promoter"].pk, ["ada@example.com"]
    )  # fmt: skip
    assert email.state == "sent"
    (sent,) = mail.outbox
    assert order.code in sent.subject and order.get_absolute_url() in sent.body


# --- A hung mail server --------------------------------------------------------------------

ORDER_BUDGET_SECONDS = 2.0  # what placing an order may take here (~0.1 s idle; 5 s timeout)


@pytest.mark.django_db(transaction=True)
def test_a_mail_server_that_never_answers_never_holds_up_an_order(
    client, settings, smtp_server, silent_smtp_server
):
    """The SMTP server accepts the connection and never says a word. The order is placed and
    answered at once; the email is tried off the request path, waits, and goes out once the
    mail server works again, once."""
    use_smtp(settings, silent_smtp_server.port, timeout=5)
    settings.OUTBOX_PROMPT = "thread"  # a long-running server's way (Lambda's is tested below)
    _, (ga,), _ = event_on_sale("alpha", capacities=(10,))
    token = post_hold(client, (ga, 2)).json()["token"]

    started = time.monotonic()
    response = post_order(client, token)
    took = time.monotonic() - started
    assert response.status_code == 201 and took < ORDER_BUDGET_SECONDS, took
    order = Order.objects.get(code=response.json()["code"])

    assert prompt.sender().wait_until_idle(timeout=10)  # the attempt timed out, in the background
    email = Email.objects.get()
    assert silent_smtp_server.connections
    assert (email.reference, email.state, email.attempts) == (order.code, "pending", 1)
    assert "timed out" in email.last_error

    use_smtp(settings, smtp_server.port)  # the mail server works again
    assert services.send_due().sent == 0  # not before its backoff
    assert services.send_due(now=email.next_attempt_at).sent == 1
    (received,) = smtp_server.messages
    assert order.code in received["message"]["Subject"] and received["to"] == ["ada@example.com"]
    assert services.send_due(now=email.next_attempt_at + dt.timedelta(hours=1)).sent == 0
    assert len(smtp_server.messages) == 1 and Email.objects.get().state == "sent"


# --- Retries -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_retries_back_off_then_give_up_and_resend_starts_over(
    settings, no_smtp_server, django_capture_on_commit_callbacks
):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    with django_capture_on_commit_callbacks(execute=True):
        email = enqueue()  # the prompt attempt runs after commit, and fails
    email.refresh_from_db()
    assert (email.state, email.attempts) == ("pending", 1)
    assert "ConnectionRefusedError" in email.last_error
    first_delay = (email.next_attempt_at - timezone.now()).total_seconds()
    assert 20 < first_delay <= 36  # 30 s ± 20%

    assert services.send_due().retrying == 0  # not due yet: nothing is tried
    later = email.next_attempt_at
    assert services.send_due(now=later).retrying == 1
    email.refresh_from_db()
    assert email.attempts == 2
    assert 48 <= (email.next_attempt_at - later).total_seconds() <= 72  # doubled

    assert services.send_due(now=email.next_attempt_at).failed == 1
    email.refresh_from_db()
    assert (email.state, email.attempts) == ("failed", 3)
    assert services.send_due(now=later + dt.timedelta(days=1)) == services.Delivery()

    old_message_id = email.message["headers"]["Message-ID"]
    with django_capture_on_commit_callbacks(execute=True):
        assert services.resend(Email.objects.filter(pk=email.pk)) == 1
    email.refresh_from_db()
    assert (email.state, email.attempts) == ("pending", 1)  # and tried again at once
    assert email.message["headers"]["Message-ID"] != old_message_id


@pytest.mark.django_db
def test_a_retry_sends_the_same_message_id(settings, smtp_server):
    settings.OUTBOX_PROMPT = "off"
    settings.EMAIL_PORT = free_port()  # nothing listens there: the first attempt fails
    email = enqueue()
    assert services.send_due().retrying == 1
    email.refresh_from_db()
    assert email.attempts == 1 and email.state == "pending"

    settings.EMAIL_PORT = smtp_server.port
    assert services.send_due(now=email.next_attempt_at).sent == 1
    (received,) = smtp_server.messages
    assert received["message"]["Message-ID"] == email.message["headers"]["Message-ID"]
    assert received["to"] == ["ada@example.com"] and received["message"]["Subject"] == "Hello"


@pytest.mark.django_db
def test_a_refused_recipient_fails_at_once_and_the_rest_still_go(
    smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        refused = enqueue(to="nobody@example.com")
        accepted = enqueue(to="ada@example.com")
    refused.refresh_from_db()
    accepted.refresh_from_db()
    assert (refused.state, refused.attempts) == ("failed", 1)
    assert "No such mailbox" in refused.last_error
    assert accepted.state == "sent"
    assert [m["to"] for m in smtp_server.messages] == [["ada@example.com"]]


@pytest.mark.django_db
def test_a_drain_stops_at_the_first_batch_when_the_server_is_unreachable(settings, no_smtp_server):
    settings.OUTBOX_PROMPT = "off"
    for n in range(services.BATCH_SIZE + 10):
        enqueue(subject=f"n{n}")
    delivery = services.send_due()
    assert (delivery.retrying, delivery.stopped) == (services.BATCH_SIZE, True)
    assert Email.objects.filter(attempts=0).count() == 10  # not even tried: no hammering


@pytest.mark.django_db
def test_send_outbox_command_sends_what_is_due(settings, smtp_server, capsys):
    settings.OUTBOX_PROMPT = "off"
    enqueue()
    enqueue(to="bea@example.com")
    call_command("send_outbox")
    assert "sent 2, to retry 0, failed 0" in capsys.readouterr().out
    received = sorted(m["to"][0] for m in smtp_server.messages)
    assert received == ["ada@example.com", "bea@example.com"]
    call_command("send_outbox")
    assert len(smtp_server.messages) == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_drains_send_every_email_exactly_once(settings, smtp_server):
    settings.OUTBOX_PROMPT = "off"
    for n in range(120):
        enqueue(to=f"fan{n}@example.com")
    results = run_concurrently([services.send_due for _ in range(6)], max_connections=6)
    assert sum(result.sent for result in results) == 120, results
    assert sorted(m["to"][0] for m in smtp_server.messages) == sorted(
        f"fan{n}@example.com" for n in range(120)
    )
    assert set(Email.objects.values_list("state", "attempts")) == {("sent", 1)}


# --- On Lambda: an asynchronous invocation, bounded, with the drain behind it ---------------


@pytest.fixture
def lambda_function(aws, monkeypatch, settings):
    """This function as moto knows it, reached through a proxy that can slow Lambda down."""
    import io
    import urllib.request
    import zipfile

    import boto3

    config = urllib.request.Request(  # noqa: S310 (loopback)
        f"{aws}/moto-api/config", data=json.dumps({"lambda": {"use_docker": False}}).encode(),
        method="POST",
    )  # fmt: skip
    urllib.request.urlopen(config, timeout=10).close()  # noqa: S310
    role = boto3.client("iam").create_role(
        RoleName="ticketing-production", AssumeRolePolicyDocument="{}"
    )["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def lambda_handler(event, context): pass\n")
    boto3.client("lambda").create_function(
        FunctionName="ticketing-production", Runtime="python3.11", Role=role,
        Handler="handler.lambda_handler", Code={"ZipFile": code.getvalue()},
    )  # fmt: skip
    proxy = AWSProxy(aws)
    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "ticketing-production")
    settings.OUTBOX_PROMPT = "auto"
    prompt.lambda_client.cache_clear()
    prompt.lambda_client()  # a warm container's (a cold one makes it on its first order, once)
    yield proxy
    prompt.lambda_client.cache_clear()
    proxy.stop()


def invocations(proxy) -> list[dict]:
    return [
        {"type": request["headers"].get("X-Amz-Invocation-Type"),
         "payload": json.loads(request["body"])}
        for request in proxy.requests
        if request["path"].endswith("/functions/ticketing-production/invocations")
    ]  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_on_lambda_an_order_hands_its_email_to_an_async_invocation(client, lambda_function):
    _, (ga,), _ = event_on_sale("alpha", capacities=(10,))
    token = post_hold(client, (ga, 1)).json()["token"]
    assert post_order(client, token).status_code == 201

    email = Email.objects.get()
    (invocation,) = invocations(lambda_function)
    assert invocation == {
        "type": "Event",
        "payload": {"command": "ticketing.outbox.handlers.send_emails", "emails": [email.pk]},
    }
    assert email.state == "pending" and mail.outbox == []  # the invocation sends it
    # What Zappa's handler does with that payload in the invoked function:
    assert handlers.send_emails(invocation["payload"], None)["sent"] == 1
    assert Email.objects.get().state == "sent" and len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_on_lambda_a_slow_lambda_api_costs_the_order_little_and_the_drain_sends(
    client, lambda_function, caplog
):
    lambda_function.delay = 10  # the Invoke call hangs
    _, (ga,), _ = event_on_sale("alpha", capacities=(10,))
    token = post_hold(client, (ga, 1)).json()["token"]
    started = timezone.now()
    response = post_order(client, token)
    took = (timezone.now() - started).total_seconds()
    assert response.status_code == 201
    assert took < 2  # the invoke gave up after its timeouts (0.25 s each), not after 10 s
    assert "could not invoke the sender" in caplog.text

    email = Email.objects.get()
    assert (email.state, email.attempts) == ("pending", 0)
    assert handlers.send_outbox({"detail-type": "Scheduled Event"}, None)["sent"] == 1
    assert Email.objects.get().state == "sent" and len(mail.outbox) == 1


# --- The back office -------------------------------------------------------------------------


@pytest.fixture
def two_promoters_emails(settings):
    settings.OUTBOX_PROMPT = "off"
    _, _, a = event_on_sale("alpha")
    _, _, b = event_on_sale("bravo")
    return {
        "a": enqueue(promoter_id=a["promoter"].pk, to="ada@example.com"),
        "b": enqueue(promoter_id=b["promoter"].pk, to="bea@example.com"),
        "platform": enqueue(to="ops@example.com"),
        "promoter_a": a["promoter"],
    }


@pytest.mark.django_db
def test_staff_see_their_promoters_emails_only(client, two_promoters_emails):
    emails = two_promoters_emails
    client.force_login(make_staff("v", emails["promoter_a"], Membership.Role.VIEWER))
    page = client.get(CHANGELIST).content.decode()
    assert "ada@example.com" in page
    assert "bea@example.com" not in page and "ops@example.com" not in page
    detail = client.get(reverse("admin:outbox_email_change", args=[emails["a"].pk]))
    assert detail.status_code == 200 and "Hi Ada" in detail.content.decode()
    for other in ("b", "platform"):
        url = reverse("admin:outbox_email_change", args=[emails[other].pk])
        assert client.get(url).status_code == 404
    assert client.get(f"{CHANGELIST}?state=pending").status_code == 200


@pytest.mark.django_db
def test_managers_resend_their_emails_and_viewers_cannot(client, two_promoters_emails):
    emails = two_promoters_emails
    Email.objects.update(state="failed", attempts=10)
    selection = {"action": "resend", "_selected_action": [emails["a"].pk, emails["b"].pk]}

    client.force_login(make_staff("v", emails["promoter_a"], Membership.Role.VIEWER))
    assert 'value="resend"' not in client.get(CHANGELIST).content.decode()
    client.post(CHANGELIST, selection)
    assert set(Email.objects.values_list("state", flat=True)) == {"failed"}

    client.force_login(make_staff("m", emails["promoter_a"], Membership.Role.MANAGER))
    assert 'value="resend"' in client.get(CHANGELIST).content.decode()
    response = client.post(CHANGELIST, selection, follow=True)
    assert "1 email(s) will be sent again." in response.content.decode()
    assert Email.objects.get(pk=emails["a"].pk).state == "pending"
    assert Email.objects.get(pk=emails["b"].pk).state == "failed"  # not theirs


@pytest.mark.django_db
def test_superusers_see_the_platform_emails_too(admin_client, two_promoters_emails):
    page = admin_client.get(CHANGELIST).content.decode()
    assert all(a in page for a in ("ada@example.com", "bea@example.com", "ops@example.com"))
