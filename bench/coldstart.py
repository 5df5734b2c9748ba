"""Cold start of the Lambda package: ours against Zappa's default packaging, in the same run.

    flock /tmp/bench.lock .venv/bin/python -m bench.coldstart [--runs 9]

Both zips come from one `infra.package.build("production")`: Zappa's own (`zappa package`, with
the stale .pyc files it ships) and ours (trimmed, compiled with unchecked-hash). Each run is a
fresh `python -I -S -B` process, as a cold Lambda container: the package on the path, then what
the Lambda runtime provides, no bytecode written (/var/task is read-only). A run measures the
import of `handler` plus the first request, through API Gateway and CloudFront; runs of the two
packages alternate so that both see the same machine noise. The floor is Django alone: the same
first request through `ticketing.wsgi` in a fresh process of the build venv (valid bytecode, no
Zappa, no boto3).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path

from bench.harness import ROOT, median
from infra.invoke import api_gateway_event, invoke, lambda_runtime, runtime_python, unpack
from infra.package import build

SCENARIOS = {
    "/healthz": api_gateway_event("/healthz", via_cloudfront_host="tickets.example.com"),
    "/admin/login/": api_gateway_event("/admin/login/", via_cloudfront_host="tickets.example.com"),
}
ENV = {"SECRET_KEY": "bench-" + "k" * 50, "DATABASE_URL": "sqlite:///:memory:"}

DJANGO_ALONE = """
import os, sys, time, io
started = time.perf_counter()
os.environ.update(SECRET_KEY="bench-" + "k" * 50, DATABASE_URL="sqlite:///:memory:",
                  ALLOWED_HOSTS="tickets.example.com", USE_X_FORWARDED_HOST="1",
                  STATIC_URL="https://tickets.example.com/static/")
sys.path.insert(0, os.getcwd())
from ticketing.wsgi import application
environ = {"REQUEST_METHOD": "GET", "PATH_INFO": sys.argv[1], "SERVER_NAME": "x",
           "SERVER_PORT": "443", "HTTP_HOST": "tickets.example.com", "wsgi.url_scheme": "https",
           "HTTP_X_FORWARDED_PROTO": "https", "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr}
status = []
body = b"".join(application(environ, lambda s, h, e=None: status.append(s)))
assert status[0].startswith("200"), status
print((time.perf_counter() - started) * 1000)
"""


def django_alone_ms(venv: Path, path: str) -> float:
    """The floor: the same first request through Django alone, from the build venv."""
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-B", "-c", DJANGO_ALONE, path],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return float(result.stdout.strip().splitlines()[-1])


def cold_start(task: Path, runtime: Path, python: Path, event: dict) -> tuple[float, float]:
    (first,) = invoke(task, runtime, python, [event], ENV)
    assert first.response["statusCode"] == 200, first.response
    return first.since_start_ms, first.cpu_since_start_ms


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()

    built = build("production", ROOT / "build")
    runtime = lambda_runtime(built["venv"], ROOT / "build" / "lambda-runtime")
    python = runtime_python(built["venv"])
    packages = {"ours (scripts/package)": built["package"], "Zappa's default": built["zappa"]}
    with tempfile.TemporaryDirectory(prefix="coldstart-") as tmp:
        tasks = {name: unpack(zip_path, Path(tmp) / str(n))
                 for n, (name, zip_path) in enumerate(packages.items())}  # fmt: skip
        # Zappa's zip has no static files manifest (the admin would answer 500): give it ours.
        zappa_static = tasks["Zappa's default"] / "staticfiles"
        zappa_static.mkdir()
        shutil.copy(ROOT / "staticfiles" / "staticfiles.json", zappa_static)
        wall: dict = {(name, path): [] for name in packages for path in SCENARIOS}
        cpu: dict = {(name, path): [] for name in packages for path in SCENARIOS}
        floor: dict = {path: [] for path in SCENARIOS}
        for _ in range(args.runs):
            for path, event in SCENARIOS.items():
                floor[path].append(django_alone_ms(built["venv"], path))
                for name, task in tasks.items():
                    ms, cpu_ms = cold_start(task, runtime, python, event)
                    wall[name, path].append(ms)
                    cpu[name, path].append(cpu_ms)

    ours = next(iter(packages))
    print(f"Cold start: import of handler + first request, median of {args.runs} fresh processes")
    print()
    print("| package | zip MiB | first request | wall ms | CPU ms | to ours | to floor |")
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: |")
    for path in SCENARIOS:
        base = median(floor[path])
        print(f"| floor: Django alone, valid bytecode | – | {path} | {base:.0f} | – | – | 100% |")
        for name, zip_path in packages.items():
            ms = median(wall[name, path])
            print(
                f"| {name} | {zip_path.stat().st_size / 2**20:.1f} | {path} | {ms:.0f} | "
                f"{median(cpu[name, path]):.0f} | {ms / median(wall[ours, path]):.2f}× | "
                f"{ms / base:.0%} |"
            )


if __name__ == "__main__":
    main()
