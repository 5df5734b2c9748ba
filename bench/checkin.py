"""Doors opening: scans per second through gunicorn (production settings) on PostgreSQL, with wrk.

    flock /tmp/bench.lock .venv/bin/python -m bench.checkin

Two scenarios, each the median of 3 runs, with its ratio to the floor (`/healthz`, same server):

- **a new ticket every scan**: each request scans the next of the event's tickets (valid, one
  `CheckIn` insert); the pool is larger than a run can use, so every answer should be valid;
- **the same ticket at every door**: every request scans one ticket that is already in
  (the unique index refuses the insert; the answer is "already checked in").

After every run the database is checked: no ticket has more than one check-in, and there are
as many check-ins as valid answers (plus those in flight when wrk stopped). A venue letting in
10,000 fans in 30 minutes needs about 6 scans a second.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from decimal import Decimal
from pathlib import Path

from bench.harness import (
    Gunicorn,
    bench_database,
    bench_port,
    floor,
    median_run,
    print_table,
    production_env,
    wrk,
)

PORT = bench_port(6)
SECONDS = 5
CONNECTIONS = 16  # doors and their retries; a big venue has a few dozen
POOL = 4_000  # tickets per run of the first scenario
TICKETS_PER_ORDER = 10
NO_EMAIL = "django.core.mail.backends.dummy.EmailBackend"

LUA = """
-- Scan codes from a file, each thread its own slice, one code per request.
local codes = {}
for line in io.lines("%(codes)s") do table.insert(codes, line) end
local threads, counter = {}, 0
function setup(thread)
  thread:set("id", counter); counter = counter + 1; table.insert(threads, thread)
end
function init(args)
  next_code, valid, already, other = 0, 0, 0, 0
end
function request()
  local index = (next_code * %(threads)d + id) %% #codes + 1
  next_code = next_code + 1
  local body = '{"event": %(event)d, "code": "' .. codes[index] .. '"}'
  return wrk.format("POST", nil, nil, body)
end
function response(status, headers, body)
  if body:find('"result":"valid"', 1, true) then valid = valid + 1
  elseif body:find('"result":"already_checked_in"', 1, true) then already = already + 1
  else other = other + 1 end
end
function done(summary, latency, requests)
  local totals = {valid = 0, already = 0, other = 0}
  for _, thread in ipairs(threads) do
    for name, _ in pairs(totals) do totals[name] = totals[name] + thread:get(name) end
  end
  local out = io.open("%(counts)s", "w")
  out:write(string.format('{"valid": %%d, "already": %%d, "other": %%d}',
    totals.valid, totals.already, totals.other))
  out:close()
end
"""


def setup_django(database_url: str) -> None:
    # The orders made for the run would each print their email: nothing is sent here.
    os.environ.update(production_env(DATABASE_URL=database_url, EMAIL_BACKEND=NO_EMAIL))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ticketing.settings")
    import django

    django.setup()


def door_event(tickets: int, label: str):
    """A demo event with `tickets` sold tickets; (event, their codes)."""
    from django.utils import timezone

    from ticketing.events.models import Artist, Event, TicketType
    from ticketing.orders import services
    from ticketing.orders.models import Ticket

    artist = Artist.objects.get(slug="demo-artist")
    now = timezone.now()
    event = Event.objects.create(
        artist=artist, venue=artist.promoter.venues.first(),
        slug=f"doors-{label}-{now:%H%M%S%f}", starts_at=now + dt.timedelta(hours=2),
        on_sale_at=now - dt.timedelta(days=10), is_published=True,
    )  # fmt: skip
    ticket_type = TicketType.objects.create(
        event=event, name="General admission", price=Decimal("39.50"), capacity=tickets,
        max_per_order=TICKETS_PER_ORDER,
    )  # fmt: skip
    for n in range(tickets // TICKETS_PER_ORDER):
        hold = services.create_hold(
            [{"ticket_type": ticket_type.pk, "quantity": TICKETS_PER_ORDER}]
        )
        services.place_order(hold.token, name=f"Fan {n}", email=f"fan{n}@example.com")
    codes = [
        t.signed_secret for t in Ticket.objects.filter(order__event=event).select_related("order")
    ]
    return event, codes


def check(event, valid: int) -> None:
    from django.db.models import Count

    from ticketing.checkin.models import CheckIn

    rows = CheckIn.objects.filter(event=event)
    doubled = rows.values("ticket").annotate(n=Count("pk")).filter(n__gt=1).count()
    assert doubled == 0, f"{doubled} tickets checked in twice"
    # Requests still in flight when wrk stops are admitted without wrk reading their answer.
    n = rows.count()
    assert valid <= n <= valid + CONNECTIONS, f"{n} check-ins for {valid} valid answers"


def run(server_url: str, token: str, event, codes, workdir: Path) -> tuple:
    codes_file = workdir / f"codes-{event.pk}.txt"
    codes_file.write_text("\n".join(codes) + "\n")
    counts_file = workdir / f"counts-{event.pk}.json"
    script = workdir / f"scan-{event.pk}.lua"
    script.write_text(LUA % {"codes": codes_file, "counts": counts_file, "event": event.pk,
                             "threads": 2})  # fmt: skip
    result = wrk(
        server_url + "/api/v1/checkin/scans", seconds=SECONDS, connections=CONNECTIONS,
        script=script,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )  # fmt: skip
    counts = json.loads(counts_file.read_text())
    return result, counts


def main() -> None:
    database_url = bench_database("checkin")
    setup_django(database_url)
    from ticketing.checkin import services as checkin
    from ticketing.events.models import Promoter

    device = checkin.create_device(Promoter.objects.get(slug="demo-promotions"), "Bench door")
    _, token = checkin.pair(device.pairing_code)
    fresh = [door_event(POOL, f"fresh{n}") for n in range(3)]
    same_event, same_codes = door_event(TICKETS_PER_ORDER, "same")
    rows, notes = [], []
    server_env = {"DATABASE_URL": database_url, "CONN_MAX_AGE": "60"}
    with tempfile.TemporaryDirectory() as tmp, Gunicorn(server_env, PORT) as server:
        base = floor(server.url, connections=CONNECTIONS)
        pools = iter(fresh)

        def fresh_run():
            event, codes = next(pools)
            result, counts = run(server.url, token, event, codes, Path(tmp))
            check(event, counts["valid"])
            notes.append(f"new tickets: {counts}")
            return result

        rows.append(("scan, a new ticket every time (valid)", median_run(fresh_run)))

        def same_run():
            result, counts = run(server.url, token, same_event, same_codes[:1], Path(tmp))
            check(same_event, 1)
            notes.append(f"same ticket: {counts}")
            return result

        rows.append(("scan, the same ticket at every door (already in)", median_run(same_run)))
    print_table(rows, base)
    for note in notes:
        print(note)


if __name__ == "__main__":
    main()
