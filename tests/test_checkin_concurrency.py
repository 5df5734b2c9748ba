"""One admission per ticket, however many doors scan it at the same moment: proven on
PostgreSQL with real concurrent connections (see tests/checkout.py `run_concurrently`)."""

import functools
from collections import Counter

import pytest

from tests.checkin_helpers import api, door_catalogue, paired_device, sell
from tests.checkout import run_concurrently
from ticketing.checkin.models import CheckIn, Scan

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_20_doors_scanning_one_ticket_at_once_admit_it_exactly_once(db):
    catalogue = door_catalogue("alpha", events=1)
    event = catalogue["events"][0]
    _, (ticket,) = sell(event)
    tokens = [paired_device(catalogue["promoter"], f"Door {n}")[1] for n in range(20)]
    body = {"event": event.pk, "code": ticket.signed_secret}
    calls = [functools.partial(api, "post", "scans", token, body) for token in tokens]

    results = run_concurrently(calls)

    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors[:3]
    assert Counter(status for status, _ in results) == {200: 20}
    assert Counter(body["result"] for _, body in results) == {"valid": 1, "already_checked_in": 19}
    check_in = CheckIn.objects.select_related("device").get()
    winner = next(body for _, body in results if body["result"] == "valid")
    assert {body["checked_in"]["device"] for _, body in results} == {winner["checked_in"]["device"]}
    assert check_in.device.name == winner["checked_in"]["device"]
    assert Scan.objects.count() == 20
