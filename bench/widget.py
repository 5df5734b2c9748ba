"""The widget API: uncached, with the origin's own cache, and behind a CDN stand-in.

    flock /tmp/bench.lock .venv/bin/python -m bench.widget

Scenarios, each the median of 3 wrk runs with its ratio to the floor: a bare Django view on the
same gunicorn, measured in runs alternating with the scenario's, so that both see the same load
on a shared machine:

- the API with the origin cache off (`WIDGET_ORIGIN_CACHE_SECONDS=0`): one query per request;
- the API with the origin's in-process cache (the production setting);
- the API through nginx's `proxy_cache` honouring `s-maxage`, with `proxy_cache_use_stale updating`
  and `proxy_cache_background_update on` (what CloudFront does for us), for 30 seconds a run from
  a cold cache; the requests that reach the origin are counted in gunicorn's access log;
- revalidations, as a CDN sends them, against the 2 workers of the origin-cache scenario: how
  many of 100 get a 304 (every worker must give the same ETag for the same data).

Database connections are kept (`CONN_MAX_AGE=60`), as a warm Lambda container keeps its own.
"""

import os
import pwd
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench.harness import (
    Gunicorn,
    bench_database,
    bench_port,
    print_table,
    wait_until_ready,
    wrk,
)

PORT_UNCACHED, PORT_CACHED, PORT_ORIGIN, PORT_CDN = (bench_port(n) for n in (1, 2, 3, 4))
API_PATH = "/widget/v1/artists/demo-artist/events"
CDN_SECONDS = 30

NGINX_CONF = """
{user}
worker_processes auto;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    proxy_cache_path {dir}/cache levels=1:2 keys_zone=widget:10m max_size=64m inactive=10m
                     use_temp_path=off;
    upstream origin {{ server 127.0.0.1:{origin_port}; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://origin;
            proxy_set_header Host $http_host;
            proxy_cache widget;
            # Freshness comes from the origin's Cache-Control (s-maxage); nothing set here.
            proxy_cache_lock on;
            proxy_cache_use_stale updating error timeout;
            proxy_cache_background_update on;
            proxy_cache_revalidate on;
            add_header X-Cache-Status $upstream_cache_status always;
        }}
    }}
}}
"""


class Nginx:
    """nginx as a caching reverse proxy in front of `origin_port`, from a cold cache."""

    def __init__(self, port: int, origin_port: int):
        self.port = port
        self.origin_port = origin_port
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Nginx":
        self.dir = tempfile.TemporaryDirectory(prefix="bench-nginx-")
        root = os.geteuid() == 0  # workers would drop to `nobody`, who cannot write the cache
        user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if root else ""
        conf = Path(self.dir.name, "nginx.conf")
        conf.write_text(NGINX_CONF.format(user=user, dir=self.dir.name, port=self.port,
                                          origin_port=self.origin_port))  # fmt: skip
        self.process = subprocess.Popen(
            ["nginx", "-p", self.dir.name, "-c", str(conf), "-g", "daemon off;"]
        )
        wait_until_ready(self.url + "/healthz", self.process)
        return self

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        self.dir.cleanup()


def check(url: str) -> None:
    """The scenario serves the demo artist's list, so that wrk measures the real thing."""
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback)
        assert response.status == 200, response.status
        assert b'"events":[{' in response.read()


def revalidations(url: str, times: int = 100) -> int:
    """How many of `times` revalidations (If-None-Match with the ETag of a first answer, each on
    a new connection, so that every worker answers some) get a 304, as a CDN's would."""
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback)
        etag = response.headers["ETag"]
    not_modified = 0
    for _ in range(times):
        request = urllib.request.Request(url, headers={"If-None-Match": etag})  # noqa: S310
        try:
            urllib.request.urlopen(request, timeout=5).close()  # noqa: S310 (loopback)
        except urllib.error.HTTPError as answer:  # urllib raises on 304
            not_modified += answer.code == 304
        time.sleep(0.01)
    return not_modified


def api_requests(log: Path) -> int:
    return sum(API_PATH in line for line in log.read_text().splitlines()) if log.exists() else 0


def interleaved(base_url: str, scenario, runs: int = 3):
    """(floor, scenario), each the median of `runs`, alternating so both see the same load."""
    floors, results = [], []
    for _ in range(runs):
        floors.append(wrk(base_url + "/healthz"))
        results.append(scenario())
    by_rps = lambda result: result.rps  # noqa: E731
    return sorted(floors, key=by_rps)[runs // 2], sorted(results, key=by_rps)[runs // 2]


def main() -> None:
    database = {"DATABASE_URL": bench_database("widget"), "CONN_MAX_AGE": "60"}
    tables = []

    uncached_env = {**database, "WIDGET_ORIGIN_CACHE_SECONDS": "0"}
    with Gunicorn(uncached_env, port=PORT_UNCACHED) as server:
        check(server.url + API_PATH)
        base, result = interleaved(server.url, lambda: wrk(server.url + API_PATH))
        tables.append((base, "widget API, uncached (1 prepared query)", result))

    with Gunicorn(database, port=PORT_CACHED) as server:
        check(server.url + API_PATH)
        base, result = interleaved(server.url, lambda: wrk(server.url + API_PATH))
        tables.append((base, "widget API, origin cache", result))
        not_modified = revalidations(server.url + API_PATH)

    origin_counts = []
    with tempfile.TemporaryDirectory(prefix="bench-widget-") as tmp:
        log = Path(tmp, "access.log")
        with Gunicorn(database, port=PORT_ORIGIN, log_path=log) as origin:

            def through_cdn():
                with Nginx(PORT_CDN, origin.port) as cdn:  # a cold cache every run
                    before = api_requests(log)
                    result = wrk(cdn.url + API_PATH, seconds=CDN_SECONDS)
                    time.sleep(0.5)  # let the last background update land in the log
                    origin_counts.append(api_requests(log) - before)
                return result

            check(origin.url + API_PATH)
            base, result = interleaved(origin.url, through_cdn)
            name = f"widget API via nginx proxy_cache ({CDN_SECONDS} s from cold)"
            tables.append((base, name, result))

    for base, name, result in tables:
        print()
        print_table([(name, result)], base)
    print(
        f"\nrequests reaching the origin through nginx, per {CDN_SECONDS}-second run: "
        f"{', '.join(map(str, origin_counts))}"
    )
    print(f"revalidations answered 304 by 2 workers (origin cache on): {not_modified} of 100")


if __name__ == "__main__":
    main()
