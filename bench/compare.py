"""Two code trees side by side on a busy machine: the same scenario, runs alternating.

    flock /tmp/bench.lock .venv/bin/python -m bench.compare widget /path/to/main,. [--runs 3]
    flock /tmp/bench.lock .venv/bin/python -m bench.compare holds /path/to/main,. [--runs 3]

(A tree other than this one: `git archive main | tar -x -C /tmp/main-tree`.) Each tree gets its
own gunicorn (2 workers, production settings, `CONN_MAX_AGE=60`) and its own seeded database;
each scenario run follows a floor run on the same server. Besides req/s, every run is charged
the CPU time its server spent (gunicorn workers and their PostgreSQL backends, from /proc): on a
machine shared with other work, throughput follows the load, while CPU per request moves much
less, so the CPU ratio (floor's CPU per request / the scenario's) is the figure to compare.

- `widget`: the widget API with the origin cache off (`WIDGET_ORIGIN_CACHE_SECONDS=0`);
- `holds`: POST /api/v1/holds of 2 seats of a ticket type with seats for the whole run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
from pathlib import Path

from bench.harness import (
    POSTGRES_SERVER,
    PYTHON,
    bench_database,
    bench_port,
    production_env,
    wait_until_ready,
    wrk,
)

TICK = os.sysconf("SC_CLK_TCK")
WIDGET_API = "/widget/v1/artists/demo-artist/events"


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def server_processes(master: int, database: str) -> list[int]:
    """gunicorn's workers and the PostgreSQL backends connected to `database`."""
    import psycopg

    workers = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [database])
        backends = [pid for (pid,) in rows]
    return [int(pid) for pid in workers] + backends


class Tree:
    def __init__(self, path: Path, n: int, scenario: str):
        self.path = path
        url = bench_database(f"compare{n}")
        self.database = url.rsplit("/", 1)[1]
        self.target, self.script = WIDGET_API, None
        if scenario == "holds":
            self.target, self.script = "/api/v1/holds", hold_script(url)
        env = production_env(DATABASE_URL=url, CONN_MAX_AGE="60", WIDGET_ORIGIN_CACHE_SECONDS="0")
        self.url = f"http://127.0.0.1:{bench_port(n)}"
        self.process = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "ticketing.wsgi", "--workers", "2",
             "--bind", self.url.removeprefix("http://"), "--log-level", "warning"],
            cwd=path, env=env,
        )  # fmt: skip
        wait_until_ready(self.url + "/healthz", self.process)

    def run(self, path: str, script=None):
        """(wrk result, server CPU seconds per request)."""
        before = {p: cpu_seconds(p) for p in server_processes(self.process.pid, self.database)}
        result = wrk(self.url + path, seconds=8, script=script)
        after = {p: cpu_seconds(p) for p in server_processes(self.process.pid, self.database)}
        used = sum(after[p] - before.get(p, 0.0) for p in after)
        return result, used / result.requests


def hold_script(database_url: str) -> Path:
    """A wrk script POSTing holds for a demo ticket type given seats for the whole run."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        (ticket_type,) = conn.execute(
            "UPDATE events_tickettype SET capacity = 100000000, max_per_order = 10 WHERE id = "
            "(SELECT t.id FROM events_tickettype t JOIN events_event e ON e.id = t.event_id "
            "WHERE e.is_published AND e.status = 'scheduled' AND e.on_sale_at < now() "
            "AND coalesce(e.off_sale_at, e.starts_at) > now() + interval '1 hour' "
            "ORDER BY t.id LIMIT 1) RETURNING id"
        ).fetchone()
    body = json.dumps({"items": [{"ticket_type": ticket_type, "quantity": 2}]})
    script = Path(tempfile.mkdtemp(prefix="bench-compare-"), "hold.lua")
    script.write_text(
        f'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = '{body}'\n"
    )
    return script


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", choices=["widget", "holds"])
    parser.add_argument("trees", help="comma-separated paths of the code trees, e.g. /tmp/main,.")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    paths = [Path(p).resolve() for p in args.trees.split(",")]
    trees = [Tree(path, n, args.scenario) for n, path in enumerate(paths)]
    ratios: dict[Path, dict[str, list[float]]] = {t.path: {"req/s": [], "CPU": []} for t in trees}
    try:
        for run in range(args.runs):
            for tree in trees:
                floor, floor_cpu = tree.run("/healthz")
                result, cpu = tree.run(tree.target, tree.script)
                assert result.non_2xx == 0, result
                ratios[tree.path]["req/s"].append(result.rps / floor.rps)
                ratios[tree.path]["CPU"].append(floor_cpu / cpu)
                print(
                    f"run {run + 1} {tree.path}: floor {floor.rps:,.0f} req/s, "
                    f"{floor_cpu * 1000:.2f} ms CPU a request; {args.scenario} "
                    f"{result.rps:,.0f} req/s, {cpu * 1000:.2f} ms CPU a request",
                    flush=True,
                )
    finally:
        for tree in trees:
            tree.process.terminate()
            tree.process.wait(timeout=10)
    print(f"\n| tree | {args.scenario}: req/s to floor | CPU a request, floor's to it |")
    print("| --- | ---: | ---: |")
    for path, kinds in ratios.items():
        cells = " | ".join(
            f"{statistics.median(v):.1%} ({min(v):.1%}–{max(v):.1%})" for v in kinds.values()
        )
        print(f"| {path} | {cells} |")


if __name__ == "__main__":
    main()
