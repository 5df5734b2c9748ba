"""Shared benchmark harness: a seeded PostgreSQL database, gunicorn with production settings, wrk.

Absolute numbers drift on a shared machine, so every scenario is reported with its ratio to the
floor: a bare Django view (`/healthz`) served by the same gunicorn in the same run.

    with Gunicorn({"DATABASE_URL": bench_database("widget")}, port=bench_port(1)) as server:
        base = floor(server.url)
        api = median_run(lambda: wrk(server.url + "/widget/v1/artists/demo-artist/events"))
        print_table([("widget API", api)], base)
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
T = TypeVar("T")

POSTGRES_SERVER = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
# On a machine shared with other runs, give each its own databases and ports: e.g.
# BENCH_DB_PREFIX=wd_bench_ BENCH_PORT_BASE=8240 (the scripts use 8 ports from the base up).
DATABASE_PREFIX = os.environ.get("BENCH_DB_PREFIX", "bench_")
PORT_BASE = int(os.environ.get("BENCH_PORT_BASE", "8090"))


def bench_port(offset: int) -> int:
    """The port of one server of a benchmark: BENCH_PORT_BASE + `offset` (0 to 7)."""
    return PORT_BASE + offset


def production_env(**extra: str) -> dict[str, str]:
    """The environment of a production-like process: DEBUG off, a secret key, plain HTTP."""
    env = {k: v for k, v in os.environ.items() if k != "DEBUG"}
    env.update(
        SECRET_KEY="bench-only-" + "k" * 50,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


def manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=production_env(**env), check=True,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip


def bench_database(name: str) -> str:
    """A fresh PostgreSQL database `<BENCH_DB_PREFIX><name>`, migrated and seeded with the demo
    data."""
    import psycopg

    database = f"{DATABASE_PREFIX}{name}"
    with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')
    url = f"{POSTGRES_SERVER}/{database}"
    manage("migrate", "--noinput", env={"DATABASE_URL": url})
    manage("seed_demo", env={"DATABASE_URL": url})
    # Always: a manifest left from an older checkout would make pages 500 under DEBUG off, and
    # collectstatic copies only what changed.
    manage("collectstatic", "--noinput", env={"DATABASE_URL": url})
    return url


class Gunicorn:
    """gunicorn serving `ticketing.wsgi` with production settings, for the life of a `with`."""

    def __init__(
        self,
        env: dict[str, str],
        port: int,
        workers: int = 2,
        extra_args: Sequence[str] = (),
        log_path: Path | None = None,
    ):
        self.env = env
        self.port = port
        self.workers = workers
        self.extra_args = list(extra_args)
        self.log_path = log_path
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Gunicorn:
        command = [
            PYTHON, "-m", "gunicorn", "ticketing.wsgi",
            "--workers", str(self.workers), "--bind", f"127.0.0.1:{self.port}",
            "--log-level", "warning", *self.extra_args,
        ]  # fmt: skip
        if self.log_path:
            command += ["--access-logfile", str(self.log_path)]
        self.process = subprocess.Popen(command, cwd=ROOT, env=production_env(**self.env))
        wait_until_ready(self.url + "/healthz", self.process)
        return self

    def __exit__(self, *exc) -> None:
        if self.process:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def wait_until_ready(url: str, process: subprocess.Popen | None = None, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


@dataclass(frozen=True)
class WrkResult:
    rps: float
    latency_p50_ms: float
    latency_p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * _UNITS_MS[unit]


def parse_wrk(output: str) -> WrkResult:
    percentiles = dict(re.findall(r"^\s+(50|99)(?:\.0+)?%\s+(\S+)", output, re.M))
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return WrkResult(
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        latency_p50_ms=_ms(percentiles["50"]),
        latency_p99_ms=_ms(percentiles["99"]),
        requests=int(re.search(r"(\d+) requests in", output).group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in errors.groups()) if errors else 0,
    )


def wrk(
    url: str,
    seconds: int = 10,
    connections: int = 64,
    threads: int = 2,
    script: str | Path | None = None,
    headers: dict[str, str] | None = None,
) -> WrkResult:
    """One wrk run against `url`; `script` is a Lua file for methods, bodies and checks."""
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    command = ["wrk", "--latency", f"-t{threads}", f"-c{connections}", f"-d{seconds}s"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script:
        command += ["-s", str(script)]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    return parse_wrk(output)


def median_run(fn: Callable[[], T], runs: int = 3, key: Callable[[T], float] | None = None) -> T:
    """Run `fn` `runs` times and return the median result (by rps unless `key` says otherwise)."""
    key = key or (lambda result: result.rps)
    results = sorted((fn() for _ in range(runs)), key=key)
    return results[len(results) // 2]


def floor(base_url: str, runs: int = 3, **wrk_options) -> WrkResult:
    """The reference every ratio is taken against: a bare Django view on the same server."""
    return median_run(lambda: wrk(base_url + "/healthz", **wrk_options), runs)


def print_table(rows: Sequence[tuple[str, WrkResult]], reference: WrkResult) -> str:
    """Print (and return, for docs/benchmarks.md) a Markdown table with ratios to the floor."""
    lines = [
        "| scenario | req/s | p50 ms | p99 ms | non-2xx | errors | ratio to floor |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, result in [("floor: bare Django view (/healthz)", reference), *rows]:
        lines.append(
            f"| {name} | {result.rps:,.0f} | {result.latency_p50_ms:.2f} | "
            f"{result.latency_p99_ms:.2f} | {result.non_2xx} | {result.socket_errors} | "
            f"{result.rps / reference.rps:.0%} |"
        )
    table = "\n".join(lines)
    print(table)
    return table


def median(values: Sequence[float]) -> float:
    return statistics.median(values)
