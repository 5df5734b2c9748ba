"""Cold start of the Lambda package against Django's own floor and Zappa's default, in one run.

    flock /tmp/bench.lock .venv/bin/python -m bench.coldstart [--runs 9]

Three packages, all built by `infra.package` from the same build venv:

- **the floor**: a minimal Django project (no apps, no middleware, one JSON view) with a handler
  like ours (apig-wsgi), packaged exactly like ours: `zappa package`, trimmed, compiled with
  unchecked-hash bytecode;
- **ours**: `scripts/package production`, called through its `lambda_handler`
  (`ticketing.deploy.handler`);
- **Zappa's default**: Zappa's own zip of the project (with the stale .pyc files it ships),
  called through Zappa's handler.

Each run is a fresh `python -I -S -B` process, as a cold Lambda container: the package on the
path, then what the Lambda runtime provides, no bytecode written (/var/task is read-only). A run
measures the import of the handler plus the first request through API Gateway and CloudFront:
`/healthz`, and the widget API against PostgreSQL seeded with the demo data (the floor's one
URL is its JSON view). The packages alternate within each run, so that all see the same machine
noise, and each ratio is the median of the per-run ratios (min–max beside it).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

from bench.harness import ROOT, bench_database
from infra.invoke import api_gateway_event, invoke, lambda_runtime, runtime_python, unpack
from infra.package import build, optimise, zappa_package

CDN_HOST = "tickets.example.com"
WIDGET_API = "/widget/v1/artists/demo-artist/events"
TARGET_TO_FLOOR = 1.5
TARGET_TO_ZAPPA = 0.2

FLOOR_FILES = {
    "floor/__init__.py": "",
    "floor/settings.py": """
SECRET_KEY = "floor-only-" + "k" * 50
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "floor.urls"
INSTALLED_APPS = []
MIDDLEWARE = []
DATABASES = {}
USE_TZ = True
""",
    "floor/urls.py": """
from django.http import JsonResponse
from django.urls import path


def healthz(request):
    return JsonResponse({"ok": True})


urlpatterns = [path("healthz", healthz)]
""",
    "floor/handler.py": """
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "floor.settings")

from apig_wsgi import make_lambda_handler
from django.core.wsgi import get_wsgi_application

lambda_handler = make_lambda_handler(get_wsgi_application(), binary_support=True)
""",
}


def build_floor(venv: Path, build_dir: Path) -> Path:
    """The floor's zip, from the same venv and Zappa settings as ours (its own project)."""
    ours = json.loads((ROOT / "zappa_settings.json").read_text())["base"]
    settings = {
        key: ours[key]
        for key in ("runtime", "architecture", "aws_region", "exclude", "exclude_glob")
    }
    settings.update(
        project_name="floor",
        django_settings="floor.settings",
        lambda_handler="floor.handler.lambda_handler",
        s3_bucket="floor-unused",
    )
    with tempfile.TemporaryDirectory(prefix="coldstart-floor-") as tmp:
        project = Path(tmp)
        for name, text in FLOOR_FILES.items():
            (project / name).parent.mkdir(parents=True, exist_ok=True)
            (project / name).write_text(text.lstrip())
        (project / "zappa_settings.json").write_text(json.dumps({"floor": settings}))
        zappa_zip = zappa_package(venv, "floor", build_dir / "floor-zappa.zip", project=project)
    return optimise(zappa_zip, None, venv / "bin" / "python", build_dir / "floor.zip")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()

    database_url = bench_database("coldstart")
    built = build("production", ROOT / "build")
    floor_zip = build_floor(built["venv"], ROOT / "build")
    runtime = lambda_runtime(built["venv"], ROOT / "build" / "lambda-runtime")
    python = runtime_python(built["venv"])
    env = {"SECRET_KEY": "bench-" + "k" * 50, "DATABASE_URL": database_url}
    # (name, zip, handler Lambda calls, first requests)
    packages = [
        ("floor: minimal Django project", floor_zip, "floor.handler.lambda_handler",
         ["/healthz"]),
        ("ours (scripts/package)", built["package"], "ticketing.deploy.handler.lambda_handler",
         ["/healthz", WIDGET_API]),
        ("Zappa's default", built["zappa"], "handler.lambda_handler", ["/healthz", WIDGET_API]),
    ]  # fmt: skip
    wall: dict[tuple[str, str], list[float]] = {}
    cpu: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="coldstart-") as tmp:
        tasks = {name: unpack(zip_path, Path(tmp) / str(n))
                 for n, (name, zip_path, _, _) in enumerate(packages)}  # fmt: skip
        for _ in range(args.runs):
            for name, _, handler, paths in packages:
                for path in paths:
                    event = api_gateway_event(path, via_cloudfront_host=CDN_HOST)
                    (first,) = invoke(tasks[name], runtime, python, [event], env, handler=handler)
                    assert first.response["statusCode"] == 200, first.response
                    wall.setdefault((name, path), []).append(first.since_start_ms)
                    cpu.setdefault((name, path), []).append(first.cpu_since_start_ms)
    report(packages, wall, cpu, args.runs)


def ratio(numerators: list[float], denominators: list[float]) -> str:
    """Median of the per-run ratios, with their min–max: the processes of one run saw the
    same noise."""
    ratios = [a / b for a, b in zip(numerators, denominators, strict=True)]
    return f"{statistics.median(ratios):.2f}× ({min(ratios):.2f}–{max(ratios):.2f})"


def report(packages, wall, cpu, runs: int) -> None:
    """Wall time is what a fan waits; CPU time is what the package costs, and on a shared
    machine it moves less with the load (a cold start hardly waits on anything else)."""
    floor_name, ours_name, zappa_name = (name for name, *_ in packages)
    floor = {"wall": wall[floor_name, "/healthz"], "cpu": cpu[floor_name, "/healthz"]}
    print(f"Cold start: import of the handler + first request, {runs} fresh processes each")
    print()
    print("| package | zip MiB | first request | wall ms | CPU ms | to floor, wall | CPU "
          "| to Zappa's default, wall | CPU |")  # fmt: skip
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, zip_path, _, paths in packages:
        for path in paths:
            zappa = {"wall": wall[zappa_name, path], "cpu": cpu[zappa_name, path]}
            times = {"wall": wall[name, path], "cpu": cpu[name, path]}
            to_zappa = " | ".join(ratio(times[k], zappa[k]) for k in ("wall", "cpu"))
            print(
                f"| {name} | {zip_path.stat().st_size / 2**20:.1f} | {path} | "
                f"{statistics.median(times['wall']):.0f} | {statistics.median(times['cpu']):.0f} | "
                f"{ratio(times['wall'], floor['wall'])} | {ratio(times['cpu'], floor['cpu'])} | "
                f"{to_zappa if name != floor_name else '– | –'} |"
            )
    print()
    for path in ("/healthz", WIDGET_API):
        for kind, times in (("wall", wall), ("CPU", cpu)):
            ours = times[ours_name, path]
            to_floor = median_ratio(ours, times[floor_name, "/healthz"])
            to_zappa = median_ratio(ours, times[zappa_name, path])
            met = to_floor <= TARGET_TO_FLOOR and to_zappa <= TARGET_TO_ZAPPA
            print(
                f"{path}, {kind}: {to_floor:.2f}× the floor (target ≤ {TARGET_TO_FLOOR}), "
                f"{to_zappa:.2f}× Zappa's default (target ≤ {TARGET_TO_ZAPPA}): "
                f"{'met' if met else 'MISSED'}"
            )


def median_ratio(numerators: list[float], denominators: list[float]) -> float:
    return statistics.median(a / b for a, b in zip(numerators, denominators, strict=True))


if __name__ == "__main__":
    main()
