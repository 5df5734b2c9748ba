"""Tickets' QR codes: signed with Ed25519 keys of their own, verifiable offline with the public
keys only, valid across a rotation of the signing keys and of SECRET_KEY, and unforgeable."""

import base64
import re

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.core.management import call_command

from ticketing.orders import selectors, services, ticket_codes

from .checkout import event_on_sale
from .test_settings import PRODUCTION_ENV, run_manage

pytestmark = pytest.mark.django_db

OLD = ticket_codes.new_key_entry("2025a")
NEW = ticket_codes.new_key_entry("2026a")
CODE = re.compile(r"T1\.(?P<kid>[\w-]+)\.(?P<event>\d+)\.(?P<secret>[\w-]+)\.(?P<sig>[\w-]{86})")


@pytest.fixture
def ticket():
    _, (ga,), _ = event_on_sale("alpha", capacities=(10,))
    hold = services.create_hold([{"ticket_type": ga.pk, "quantity": 1}])
    order, _ = services.place_order(hold.token, name="Ada", email="ada@example.com")
    return order.tickets.select_related("order").get()


def test_the_code_is_compact_and_says_what_a_scanner_needs(settings, ticket):
    settings.TICKET_SIGNING_KEYS = [OLD]
    code = ticket.signed_secret
    parts = CODE.fullmatch(code)
    assert parts, code
    assert parts["kid"] == "2025a" and int(parts["event"]) == ticket.order.event_id
    assert parts["secret"] == ticket.secret
    assert len(code) <= 140


def test_a_ticket_signed_with_the_old_key_still_verifies_after_rotation(settings, ticket):
    settings.TICKET_SIGNING_KEYS = [OLD]
    printed_before = ticket.signed_secret

    settings.TICKET_SIGNING_KEYS = [NEW, OLD]  # rotation: the new key first, the old kept
    assert selectors.ticket_from_scan(printed_before) == ticket
    shown_now = ticket.signed_secret
    assert CODE.fullmatch(shown_now)["kid"] == "2026a"  # new codes carry the new key
    assert selectors.ticket_from_scan(shown_now) == ticket
    assert set(selectors.ticket_public_keys()) == {"2026a", "2025a"}

    settings.TICKET_SIGNING_KEYS = [NEW]  # the old key's last event is over: it goes
    assert selectors.ticket_from_scan(printed_before) is None
    assert selectors.ticket_from_scan(shown_now) == ticket


def test_rotating_secret_key_leaves_tickets_valid(settings, ticket):
    settings.TICKET_SIGNING_KEYS = [OLD]
    code = ticket.signed_secret
    settings.SECRET_KEY = "a-brand-new-secret-key-" + "x" * 40
    assert selectors.ticket_from_scan(code) == ticket


def test_forged_and_altered_codes_are_refused(settings, ticket):
    settings.TICKET_SIGNING_KEYS = [NEW, OLD]
    code = ticket.signed_secret
    signed, _, signature = code.rpartition(".")
    _, kid, event, secret = signed.split(".")
    attacker_key = ticket_codes.new_key_entry("2026a")  # same key id, another key
    settings.TICKET_SIGNING_KEYS = [attacker_key]
    forged_with_own_key = ticket.signed_secret
    settings.TICKET_SIGNING_KEYS = [NEW, OLD]

    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    for bad in [
        forged_with_own_key,
        f"{signed}.{flipped}",
        f"T1.{kid}.{int(event) + 1}.{secret}.{signature}",  # another event
        f"T1.2025a.{event}.{secret}.{signature}",  # another key id
        f"T2.{kid}.{event}.{secret}.{signature}",  # unknown version
        f"T1.{kid}.{event}.{secret}x.{signature}",
        f"T1.unknown.{event}.{secret}.{signature}",
        ticket.secret,
        f"{ticket.secret}:forged",
        "",
        "T1....",
        "T1.a.b.c.d.e",
        code + "A",
        "\x00" * 300,
        None,
        12,
    ]:
        assert selectors.ticket_from_scan(bad) is None, bad
    assert selectors.ticket_from_scan(code) == ticket


def test_a_scanner_verifies_offline_with_the_public_keys_alone(settings, ticket):
    settings.TICKET_SIGNING_KEYS = [NEW, OLD]
    public = selectors.ticket_public_keys()  # what the door devices download
    code = ticket.signed_secret

    # The scanner's side: no database, no Django, no private key.
    signed, _, signature = code.rpartition(".")
    kid = signed.split(".")[1]
    key = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(public[kid] + "="))
    key.verify(base64.urlsafe_b64decode(signature + "=="), signed.encode())
    with pytest.raises(InvalidSignature):
        key.verify(base64.urlsafe_b64decode(signature + "=="), signed.replace("T1", "T2").encode())


def test_without_keys_a_key_derived_from_secret_key_signs(settings, ticket):
    settings.TICKET_SIGNING_KEYS = []
    code = ticket.signed_secret
    assert CODE.fullmatch(code)["kid"] == "local"
    assert selectors.ticket_from_scan(code) == ticket


def test_new_ticket_key_prints_an_entry_that_works(settings, ticket, capsys):
    call_command("new_ticket_key", "2027a")
    entry = capsys.readouterr().out.strip()
    assert entry.startswith("2027a:")
    settings.TICKET_SIGNING_KEYS = [entry]
    assert selectors.ticket_from_scan(ticket.signed_secret) == ticket


@pytest.mark.parametrize(
    "keys, message",
    [
        ("k1:short", "the key is 32 bytes"),
        ("no-colon", "the key is 32 bytes"),
        ("k.1:" + "A" * 43, "a key id is"),
        (f"k1:{'A' * 43},k1:{'B' * 43}", "twice"),
    ],
)
def test_malformed_keys_fail_the_checks(keys, message):
    result = run_manage("check", env={**PRODUCTION_ENV, "TICKET_SIGNING_KEYS": keys})
    assert result.returncode != 0
    assert "orders.E003" in result.stderr and message in result.stderr


def test_check_deploy_fails_without_ticket_keys_or_site_url():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k not in ("TICKET_SIGNING_KEYS", "SITE_URL")}
    result = run_manage("check", "--deploy", env=env)
    assert result.returncode != 0
    assert "orders.E004" in result.stderr and "TICKET_SIGNING_KEYS is not set" in result.stderr
    assert "orders.E002" in result.stderr and "SITE_URL is not set" in result.stderr
    # Local development needs neither.
    assert run_manage("check", "--deploy", env={"DEBUG": "1"}).returncode == 0
