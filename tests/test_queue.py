"""The waiting room: the draw, FIFO after the opening, the status document, and passes."""

import datetime as dt
import hashlib
import random
from collections import Counter

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from ticketing.queue import admission, draw, pow, selectors, services, tokens
from ticketing.queue.models import WaitingRoom

from .queue_helpers import ask_pass, event_with_room, join


@pytest.fixture(autouse=True)
def _fresh_cache(settings):
    settings.QUEUE_POW_DIFFICULTY = 8
    cache.clear()
    yield
    cache.clear()


# --- The draw ---------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 2, 3, 5, 16, 17, 100, 1000, 4097])
def test_the_draw_is_a_permutation_of_the_arrivals(count):
    seed = bytes.fromhex("ab" * 32)
    positions = [draw.position(seed, count, index) for index in range(count)]
    assert sorted(positions) == list(range(count))


def test_the_draw_is_reproducible_from_the_published_seed_and_depends_on_it():
    seed, other = bytes(range(32)), bytes(range(1, 33))
    assert draw.order(seed, 500) == draw.order(bytes(range(32)), 500)
    assert draw.order(seed, 500) != draw.order(other, 500)
    # The order is the inverse of the positions: arrival order[p] stands at p.
    order = draw.order(seed, 500)
    assert all(draw.position(seed, 500, order[p]) == p for p in range(500))


def test_the_draw_is_not_the_arrival_order():
    # Early arrivals gain nothing: the first tenth of arrivals lands all over the queue.
    seed = random.Random(7).randbytes(32)
    first_tenth = [draw.position(seed, 1000, index) for index in range(100)]
    assert max(first_tenth) > 800
    assert sum(first_tenth) / 100 == pytest.approx(500, abs=100)


def test_every_place_in_the_draw_is_as_likely_for_the_first_arrival():
    # Over 5,000 seeds (fixed, so the test is stable), the first of 10 pre-queue arrivals lands
    # on each of the 10 places about 500 times: chi-square with 9 degrees of freedom below its
    # 0.1 % critical value (27.88).
    places = Counter(
        draw.position(hashlib.sha256(str(i).encode()).digest(), 10, 0) for i in range(5000)
    )
    chi_square = sum((places[p] - 500) ** 2 / 500 for p in range(10))
    assert chi_square < 27.88, places


# --- Joining, the draw at the opening, FIFO after it ------------------------------------------


@pytest.mark.django_db
def test_pre_queue_arrivals_are_drawn_and_later_ones_are_fifo():
    event, _, room = event_with_room(on_sale_in=dt.timedelta(minutes=5))
    status = Client().get(f"/q/{event.pk}/status").json()
    assert status["state"] == "pre_queue"
    assert status["commitment"] == draw.commitment(bytes.fromhex(room.seed))
    assert status["seed"] is None

    early = [join(event.pk).json() for _ in range(6)]
    assert {fan["kind"] for fan in early} == {"pre"}
    assert [fan["number"] for fan in early] == [1, 2, 3, 4, 5, 6]
    assert all(fan["position"] is None for fan in early)

    # Nothing was written per fan: the room row is as it was.
    assert WaitingRoom.objects.get(pk=event.pk).updated_at == room.updated_at

    # The opening: the seed is published, and every pre-queue fan can place themselves.
    WaitingRoom.objects.filter(pk=event.pk).update()
    type(event).objects.filter(pk=event.pk).update(
        on_sale_at=timezone.now() - dt.timedelta(seconds=1)
    )
    selectors.forget_room(event.pk)
    cache.delete(f"queue:status:{event.pk}")
    status = Client().get(f"/q/{event.pk}/status").json()
    assert (status["state"], status["pre_queue_count"], status["joined"]) == ("open", 6, 6)
    assert draw.commitment(bytes.fromhex(status["seed"])) == status["commitment"]
    seed = bytes.fromhex(status["seed"])
    places = sorted(draw.position(seed, 6, fan["number"] - 1) for fan in early)
    assert places == list(range(6))


@pytest.mark.django_db
def test_the_opening_draws_the_pre_queue_and_fifo_follows_the_server_clock():
    event, _, room = event_with_room(on_sale_in=dt.timedelta(minutes=5), rate_per_minute=60)
    tickets = [join(event.pk).json() for _ in range(6)]
    on_sale = event.on_sale_at

    # The opening, as the status of the first request after it sees it.
    room = services.advance(selectors.room(event.pk), on_sale + dt.timedelta(seconds=1))
    assert room.pre_queue_count == 6
    seed = bytes.fromhex(room.seed)
    placed = [selectors.position(room, tokens.read_ticket(t["ticket"])) for t in tickets]
    assert placed == [draw.position(seed, 6, t["number"] - 1) for t in tickets]
    assert sorted(placed) == list(range(6))

    # After the opening: first come, first served, behind the pre-queue.
    later = [
        services.join(event.pk, *_solved(event.pk), now=on_sale + dt.timedelta(seconds=s))
        for s in (2, 3, 4)
    ]
    assert [fan["kind"] for fan in later] == ["fifo"] * 3
    assert [fan["position"] for fan in later] == [6, 7, 8]
    assert [fan["issued_at"] for fan in later] == sorted(fan["issued_at"] for fan in later)


def _solved(event_id):
    import time

    challenge = pow.challenge(event_id, time.time())
    return challenge, pow.solve(challenge, pow.difficulty())


# --- Proof of work ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_joining_needs_a_fresh_solved_challenge_used_once():
    event, _, _ = event_with_room()
    client = Client()
    url = f"/q/{event.pk}/join"
    challenge, nonce = _solved(event.pk)
    unsolved = next(str(n) for n in range(10_000) if not pow.solved(challenge, str(n), 8))
    for body, code in [
        ({"challenge": challenge, "nonce": unsolved}, "pow_invalid"),
        ({"challenge": f"{event.pk}.1.abc", "nonce": nonce}, "pow_invalid"),
        ({"challenge": challenge.replace(f"{event.pk}.", "999.", 1), "nonce": nonce},
         "pow_invalid"),
        ({}, "pow_invalid"),
    ]:  # fmt: skip
        response = client.post(url, body, content_type="application/json")
        assert (response.status_code, response.json()["error"]) == (400, code)
    body = {"challenge": challenge, "nonce": nonce}
    assert client.post(url, body, content_type="application/json").status_code == 201
    again = client.post(url, body, content_type="application/json")
    assert (again.status_code, again.json()["error"]) == (409, "pow_reused")
    assert client.post(url, "not json", content_type="application/json").status_code == 400


# --- The status document ----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_status_is_one_public_document_without_cookies():
    event, _, _ = event_with_room(on_sale_in=-dt.timedelta(minutes=1), rate_per_minute=30)
    first = Client().get(f"/q/{event.pk}/status")
    second = Client().get(f"/q/{event.pk}/status")
    assert first.content == second.content
    assert first["Cache-Control"] == "public, max-age=2, s-maxage=2"
    assert "Set-Cookie" not in first and "Vary" not in first
    status = first.json()
    assert status["state"] == "open"
    assert status["rate_per_minute"] == 30 and status["rate_mode"] == "fixed"
    assert status["sold_out"] is False
    assert status["pow"]["algorithm"] == "sha256-leading-zero-bits"
    assert Client().get("/q/999999/status").json()["state"] == "off"


@pytest.mark.django_db
def test_before_the_pre_queue_the_room_is_scheduled_and_refuses_joins():
    event, _, _ = event_with_room(on_sale_in=dt.timedelta(hours=3), pre_queue_minutes=30)
    status = Client().get(f"/q/{event.pk}/status").json()
    assert (status["state"], status["commitment"]) == ("scheduled", None)
    response = join(event.pk)
    assert (response.status_code, response.json()["error"]) == (409, "queue_not_open")


# --- Admission -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_passes_follow_the_rate_and_lapse_with_the_window():
    event, _, _ = event_with_room(
        on_sale_in=-dt.timedelta(seconds=1), rate_per_minute=60, admission_window_minutes=10
    )
    start = timezone.now()
    fans = [services.join(event.pk, *_solved(event.pk), now=start) for _ in range(5)]
    # At 60 a minute, position p is admitted p+1 seconds after the opening mark.
    room = selectors.room(event.pk)
    opened = room.schedule[0][0]
    for fan in fans:
        moment = admission.admitted_at(room.schedule, fan["position"], fan["issued_at"])
        assert moment == max(opened + (fan["position"] + 1) * 1000, fan["issued_at"])
    last = fans[-1]
    with pytest.raises(services.QueueError) as refused:
        services.admission_pass(event.pk, last["ticket"], now=start)
    assert refused.value.code == "not_admitted_yet"
    later = start + dt.timedelta(seconds=30)
    granted = services.admission_pass(event.pk, last["ticket"], now=later)
    assert tokens.read_pass(granted["pass"]).event_id == event.pk
    # The same ticket asked again gets the same window; after it, the turn is gone.
    again = services.admission_pass(event.pk, last["ticket"], now=later + dt.timedelta(minutes=1))
    assert again["expires_at"] == granted["expires_at"]
    with pytest.raises(services.QueueError) as lapsed:
        services.admission_pass(event.pk, last["ticket"], now=later + dt.timedelta(minutes=11))
    assert lapsed.value.code == "turn_lapsed"


@pytest.mark.django_db
def test_set_rate_changes_the_mark_from_now_on_and_auto_stops_at_sell_out():
    event, ticket_types, _ = event_with_room(on_sale_in=-dt.timedelta(seconds=1),
                                             rate_per_minute=60, capacities=(20,))  # fmt: skip
    now = timezone.now()
    for _ in range(50):
        services.join(event.pk, *_solved(event.pk), now=now)
    room = services.set_rate(event.pk, rate_per_minute=600, now=now)
    mark = admission.mark_at(room.schedule, selectors.ms(now))
    assert admission.mark_at(room.schedule, selectors.ms(now) + 1000) == mark + 10
    room = services.set_rate(event.pk, auto=True, now=now)
    # Auto: 20 seats left over a 10-minute window is 2 fans a minute.
    assert (room.rate_mode, selectors.current_rate(room)) == ("auto", 2)
    ticket_types[0].__class__.inventory.filter(pk=ticket_types[0].pk).update(sold=20)
    room = services.advance(selectors.room(event.pk), now + dt.timedelta(seconds=5))
    assert selectors.current_rate(room) == 0
    status = selectors.status_document(room, event.pk, now + dt.timedelta(seconds=5))
    assert status["sold_out"] is True and status["rate_per_minute"] == 0
    with pytest.raises(ValueError):
        services.set_rate(event.pk, rate_per_minute=-1)


@pytest.mark.django_db
def test_a_ticket_for_another_event_or_forged_gets_no_pass():
    event, _, _ = event_with_room(on_sale_in=-dt.timedelta(minutes=1))
    other, _, _ = event_with_room("other", on_sale_in=-dt.timedelta(minutes=1))
    ticket = join(event.pk).json()["ticket"]
    for bad in (ticket + "x", "", None):
        response = ask_pass(event.pk, bad)
        assert (response.status_code, response.json()["error"]) == (400, "invalid_ticket")
    response = ask_pass(other.pk, ticket)
    assert (response.status_code, response.json()["error"]) == (400, "invalid_ticket")


# --- The promoter's side ----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_live_figures_count_the_queue_beside_the_inventory():
    event, _, _ = event_with_room(on_sale_in=-dt.timedelta(minutes=1), rate_per_minute=6)
    now = timezone.now()
    for _ in range(10):
        services.join(event.pk, *_solved(event.pk), now=now)
    services.advance(selectors.room(event.pk), now)
    figures = selectors.live_figures(event, now)
    assert figures["joined"] == 10
    assert figures["admitted"] + figures["waiting"] == 10
    assert figures["rate_per_minute"] == 6 and figures["rate_mode"] == "fixed"
    assert (figures["seats_left"], figures["holds_active"], figures["sold_out"]) == (50, 0, False)


@pytest.mark.django_db
def test_the_waiting_rooms_admin_is_promoter_scoped(client, promoter_a, manager_a):
    from .conftest import make_catalogue

    mine = WaitingRoom.objects.create(event=promoter_a["events"][0])
    theirs = WaitingRoom.objects.create(event=make_catalogue("beta")["events"][0])
    client.force_login(manager_a)
    listing = client.get("/admin/queue/waitingroom/")
    assert listing.status_code == 200
    assert str(mine.event) in listing.content.decode()
    assert str(theirs.event) not in listing.content.decode()
    assert client.get(f"/admin/queue/waitingroom/{theirs.pk}/change/").status_code == 404
    page = client.get(f"/admin/queue/waitingroom/{mine.pk}/change/")
    assert mine.commitment in page.content.decode()
    response = client.post(
        f"/admin/queue/waitingroom/{mine.pk}/change/",
        {"enabled": "on", "pre_queue_minutes": "45", "rate_mode": "auto",
         "rate_per_minute": "100", "admission_window_minutes": "5"},
    )  # fmt: skip
    assert response.status_code == 302
    mine.refresh_from_db()
    assert (mine.pre_queue_minutes, mine.rate_mode) == (45, "auto")
    assert mine.admission_window_minutes == 5


# --- The mark over time -----------------------------------------------------------------------


def test_the_mark_follows_rate_changes_and_admission_moments_are_recomputable():
    # Opened at t=0 at 60 a minute; from t=10 s at 600 a minute; paused at t=20 s.
    schedule = [[0, 0, 60], [10_000, 10, 600], [20_000, 110, 0]]
    assert [admission.mark_at(schedule, t) for t in (-1, 0, 999, 1000, 10_000, 15_000, 60_000)] == [
        0, 0, 0, 1, 10, 60, 110,
    ]  # fmt: skip
    assert admission.admitted_at(schedule, 0, since_ms=-5000) == 1000
    assert admission.admitted_at(schedule, 10, since_ms=0) == 10_100  # the 11th, at 600/min
    assert admission.admitted_at(schedule, 109, since_ms=0) == 20_000
    assert admission.admitted_at(schedule, 110, since_ms=0) is None  # paused
    # A fan who joins after their position was passed is admitted on arrival.
    assert admission.admitted_at(schedule, 5, since_ms=30_000) == 30_000


def test_pruning_keeps_what_the_window_needs():
    schedule = [[0, 0, 60], [10_000, 10, 600], [20_000, 110, 0]]
    pruned = admission.with_checkpoint(schedule, 700_000, 110, 60, keep_after_ms=15_000)
    assert pruned == [[10_000, 10, 600], [20_000, 110, 0], [700_000, 110, 60]]
    assert admission.mark_at(pruned, 760_000) == 170


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path, body",
    [
        ("join", "[]"),
        ("join", '"text"'),
        ("join", '{"challenge": 5, "nonce": 7}'),
        ("join", '{"challenge": "x.y.z", "nonce": "' + "9" * 5000 + '"}'),
        ("join", "\u00ff\u00fe"),
        ("pass", '{"ticket": 5}'),
        ("pass", '{"ticket": "' + "a" * 10_000 + '"}'),
        ("pass", "{"),
    ],
)
def test_bad_input_is_a_4xx_with_a_message(path, body):
    event, _, _ = event_with_room(on_sale_in=-dt.timedelta(minutes=1))
    response = Client().post(f"/q/{event.pk}/{path}", body, content_type="application/json")
    assert 400 <= response.status_code < 500
    assert response.json()["detail"]


@pytest.mark.django_db
def test_the_endpoints_take_only_their_method():
    event, _, _ = event_with_room()
    assert Client().get(f"/q/{event.pk}/join").status_code == 405
    assert Client().post(f"/q/{event.pk}/status").status_code == 405
    assert Client().get("/q/not-a-number/status").status_code == 404


@pytest.mark.django_db
def test_auto_admits_for_seats_about_to_come_back():
    from ticketing.orders import services as orders

    event, (ga,), room = event_with_room(on_sale_in=-dt.timedelta(minutes=30), capacities=(20,))
    room.enabled = False
    room.save()
    now = timezone.now()
    hold_life = dt.timedelta(minutes=event.hold_minutes)
    # Two fans hold 10 seats each: one hold lapses in 30 s, the other in several minutes.
    orders.create_hold(
        [{"ticket_type": ga.pk, "quantity": 6}], now=now - hold_life + dt.timedelta(seconds=30)
    )
    orders.create_hold([{"ticket_type": ga.pk, "quantity": 6}], now=now)
    room.enabled = True
    room.save()
    services.advance(selectors.room(event.pk), now)  # the draw
    room = services.set_rate(event.pk, auto=True, now=now)
    # 8 seats left and 6 coming back within the minute, over a 10-minute window: 2 a minute.
    assert selectors.current_rate(room) == 2
    assert selectors.status_document(room, event.pk, now)["sold_out"] is False


def test_anyone_can_verify_the_draw_from_the_published_values():
    from io import StringIO

    from django.core.management import CommandError, call_command

    seed = "c0ffee" * 10 + "abcd"
    commitment = draw.commitment(bytes.fromhex(seed))
    out = StringIO()
    call_command("queue_verify", seed=seed, commitment=commitment, count=5, stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "The seed matches the commitment."
    order = draw.order(bytes.fromhex(seed), 5)
    assert lines[1:] == [f"{place}\t{index + 1}" for place, index in enumerate(order)]
    out = StringIO()
    call_command("queue_verify", seed=seed, count=5, number=order[3] + 1, stdout=out)
    assert out.getvalue().strip() == f"Arrival {order[3] + 1} stands at position 3 (0-based)."
    with pytest.raises(CommandError, match="does NOT match"):
        call_command("queue_verify", seed=seed, commitment="00" * 32, count=5)
