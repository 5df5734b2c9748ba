"""Build the Lambda package offline: `scripts/package <stage>`.

1. A build venv with only the runtime requirements (requirements.txt), made with the Python of the
   Lambda runtime; binary wheels are re-fetched for the runtime's platform (python3.11 runs on
   Amazon Linux 2, glibc 2.26) when pip picked one built for a newer glibc.
2. `zappa package <stage>`: Zappa's own zip, with the `exclude` / `exclude_glob` of
   zappa_settings.json (boto3 and friends come with the Lambda runtime). No AWS call is made.
3. The zip made fast to start: Zappa ships `__pycache__` files that are stale against the sources
   it re-stamps, so every cold start would compile all of Django again (and /var/task is
   read-only, so nothing is cached). We drop them, trim what the handler never reads, add the
   static files manifest, and compile everything with `--invalidation-mode unchecked-hash`: the
   interpreter then loads each .pyc without looking at its source.

The venv is kept in the build directory and reused while requirements.txt and the Python are the
same. Standard library only: this runs before any venv exists.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNTIME_PYTHON = "3.11"  # zappa_settings.json: "runtime": "python3.11"
# Lambda's python3.11 runtime is Amazon Linux 2: binary wheels must be manylinux with glibc <= 2.26.
RUNTIME_PLATFORM = "manylinux_2_26_x86_64"
RUNTIME_GLIBC = (2, 26)
LAMBDA_TASK_ROOT = "/var/task"  # where tracebacks on Lambda should point

# What the handler never reads, removed from the package (paths relative to its root).
TRIM_GLOBS = [
    "django/contrib/gis",  # not installed as an app
    "django/conf/app_template",
    "django/conf/project_template",
    "django/contrib/admin/static",  # served from S3 through CloudFront, never by the function
    "rest_framework/static",
    "drf_spectacular/static",
    "drf_spectacular_sidecar/static",
    "**/*.pyi",
    "**/py.typed",
    "**/*.po",
    "icalendar/tests",
]
# settings.LANGUAGES: the fan pages' languages (Django's own translations of them included, for
# its template filters); the ~90 other translations are ~8 MB the site never shows.
KEEP_LOCALES = {"en", "de", "fr", "es"}
# Babel's CLDR data (35 MB for 1,100 locales): only the fan pages' locales
# (ticketing/fans/formats.py, CLDR_LOCALES) and the parents CLDR inherits them from.
BABEL_LOCALE_DATA = "babel/locale-data"
KEEP_CLDR_LOCALES = {"root", "en", "en_001", "en_GB", "de", "fr", "es"}


def log(message: str) -> None:
    print(f"package: {message}", file=sys.stderr, flush=True)


def run(*command: str | Path, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(part) for part in command], check=True, **kwargs)


# --- 1. build venv --------------------------------------------------------------------------


def find_python(version: str = RUNTIME_PYTHON) -> Path:
    """The interpreter of the Lambda runtime's version: `pythonX.Y` on PATH, else pyenv's."""
    candidates = [shutil.which(f"python{version}")]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += sorted(pyenv_root.glob(f"versions/{version}.*/bin/python{version}"), reverse=True)
    if sys.version_info[:2] == tuple(map(int, version.split("."))):
        candidates.insert(0, sys.executable)
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return Path(candidate)
    raise SystemExit(f"package: Python {version} (the Lambda runtime's) is not installed")


def build_venv(build_dir: Path, python: Path) -> Path:
    requirements = (ROOT / "requirements.txt").read_bytes()
    version = run(python, "-c", "import sys; print(sys.version)", capture_output=True, text=True)
    stamp = hashlib.sha256(requirements + version.stdout.encode()).hexdigest()
    venv = build_dir / "venv"
    stamp_file = venv / "requirements.sha256"
    if stamp_file.exists() and stamp_file.read_text() == stamp:
        return venv
    log(f"creating the build venv in {venv}")
    shutil.rmtree(venv, ignore_errors=True)
    run(python, "-m", "venv", venv)
    pip = [venv / "bin" / "python", "-m", "pip", "--disable-pip-version-check", "--quiet"]
    run(*pip, "install", "-r", ROOT / "requirements.txt")
    pin_binary_wheels_to_runtime(venv, pip)
    stamp_file.write_text(stamp)
    return venv


def site_packages(venv: Path) -> Path:
    return venv / "lib" / f"python{RUNTIME_PYTHON}" / "site-packages"


def glibc_of(tag: str) -> tuple[int, int] | None:
    """(2, 17) for manylinux_2_17_x86_64 and manylinux2014_x86_64, None if not a manylinux tag."""
    platform = tag.rsplit("-", 1)[-1]
    legacy = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}
    for name, glibc in legacy.items():
        if platform.startswith(name + "_"):
            return glibc
    if platform.startswith("manylinux_"):
        major, minor = platform.split("_")[1:3]
        return int(major), int(minor)
    return None


def pin_binary_wheels_to_runtime(venv: Path, pip: list) -> None:
    """Reinstall, for the runtime's glibc, a binary wheel pip chose for this machine's newer one."""
    for wheel_file in site_packages(venv).glob("*.dist-info/WHEEL"):
        lines = wheel_file.read_text().splitlines()
        fields = [tuple(line.split(": ", 1)) for line in lines if ": " in line]
        if ("Root-Is-Purelib", "true") in fields:
            continue
        glibcs = [glibc_of(value) for key, value in fields if key == "Tag"]
        if any(glibc and glibc <= RUNTIME_GLIBC for glibc in glibcs):
            continue
        name, version = wheel_file.parent.name.removesuffix(".dist-info").rsplit("-", 1)
        log(f"re-fetching {name} {version} for {RUNTIME_PLATFORM}")
        run(*pip, "install", "--no-deps", "--upgrade", "--only-binary=:all:",
            *runtime_platform_options(), "--implementation", "cp",
            "--python-version", RUNTIME_PYTHON, "--target", site_packages(venv),
            f"{name}=={version}")  # fmt: skip


def runtime_platform_options() -> list[str]:
    """`--platform` for every manylinux tag the runtime's glibc runs, newest first: pip does not
    widen manylinux_2_26 to older glibcs by itself, and some wheels (cryptography's) come only
    as manylinux_2_17 for those."""
    arch = RUNTIME_PLATFORM.split("_", 3)[-1]
    major, newest = RUNTIME_GLIBC
    tags = [f"manylinux_{major}_{minor}_{arch}" for minor in range(newest, 4, -1)]
    return [option for tag in tags for option in ("--platform", tag)]


# --- 2. Zappa's package ----------------------------------------------------------------------


def zappa_package(venv: Path, stage: str, output: Path, project: Path = ROOT) -> Path:
    """`zappa package <stage>` of `project` from the build venv: exactly what `zappa deploy`
    would upload."""
    env = {**os.environ, "VIRTUAL_ENV": str(venv), "PATH": f"{venv / 'bin'}:{os.environ['PATH']}"}
    for name in ("PYTHONPATH", "PYTHONHOME"):
        env.pop(name, None)
    output.unlink(missing_ok=True)
    run(venv / "bin" / "zappa", "package", stage, "--output", output, cwd=project, env=env,
        stdout=subprocess.DEVNULL)  # fmt: skip
    return output


def static_manifest(venv: Path) -> Path:
    """collectstatic with the production storage, offline: the manifest maps each static file to its
    hashed name. The files themselves go to S3 (`STATIC_BUCKET=... manage.py collectstatic`,
    which hashes the same bytes to the same names); the function only needs the manifest."""
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "STATIC_BUCKET"}}
    env.update(SECRET_KEY="unused-by-collectstatic", DATABASE_URL="sqlite:///:memory:")  # noqa: S106
    run(venv / "bin" / "python", "manage.py", "collectstatic", "--noinput", cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL)  # fmt: skip
    return ROOT / "staticfiles" / "staticfiles.json"


# --- 3. the optimised package ----------------------------------------------------------------


def extract(zip_path: Path, target: Path) -> None:
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(target)


def trim(root: Path) -> None:
    for pattern in TRIM_GLOBS:
        for path in list(root.glob(pattern)):
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    for locale_dir in [p for p in root.glob("**/locale") if p.is_dir()]:
        for language in locale_dir.iterdir():
            if language.is_dir() and language.name not in KEEP_LOCALES:
                # django/conf/locale/<lang>/ also holds formats.py: a package without its
                # translations still imports, so keep it only where Python code lives.
                if any(language.glob("*.py")):
                    for catalog in language.glob("LC_MESSAGES"):
                        shutil.rmtree(catalog)
                else:
                    shutil.rmtree(language)
    for data in (root / BABEL_LOCALE_DATA).glob("*.dat"):
        if data.stem not in KEEP_CLDR_LOCALES:
            data.unlink()
    for cache in list(root.glob("**/__pycache__")):
        shutil.rmtree(cache)
    for stray in root.glob("**/*.py[co]"):
        stray.unlink()


def compile_unchecked(python: Path, root: Path) -> None:
    """Bytecode the interpreter trusts without stat-ing or hashing the source (PEP 552), with
    tracebacks pointing at /var/task where Lambda unpacks the package."""
    env = {**os.environ, "PYTHONNODEBUGRANGES": "1"}  # smaller .pyc files: less to unmarshal
    run(python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash",
        "-s", root, "-p", LAMBDA_TASK_ROOT, root, env=env, stdout=subprocess.DEVNULL)  # fmt: skip


def write_zip(root: Path, output: Path) -> None:
    """Deterministic zip: sorted entries, fixed timestamps, Lambda's expected permissions."""
    output.unlink(missing_ok=True)
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(str(path.relative_to(root)), date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = 0o100755 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())


def optimise(zappa_zip: Path, manifest: Path | None, python: Path, output: Path) -> Path:
    with tempfile.TemporaryDirectory(prefix="lambda-package-") as tmp:
        root = Path(tmp)
        extract(zappa_zip, root)
        trim(root)
        if manifest:
            (root / "staticfiles").mkdir(exist_ok=True)
            shutil.copy(manifest, root / "staticfiles" / "staticfiles.json")
        compile_unchecked(python, root)
        write_zip(root, output)
    return output


# --- the command -----------------------------------------------------------------------------


def build(stage: str, build_dir: Path, output: Path | None = None) -> dict[str, Path]:
    """Both packages of `stage`: Zappa's own (`zappa`) and ours (`package`), plus the venv."""
    build_dir.mkdir(parents=True, exist_ok=True)
    python = find_python()
    venv = build_venv(build_dir, python)
    output = output or build_dir / f"ticketing-{stage}.zip"
    zappa_zip = zappa_package(venv, stage, output.parent / f"zappa-default-{stage}.zip")
    manifest = static_manifest(venv)
    ours = optimise(zappa_zip, manifest, venv / "bin" / "python", output)
    return {"package": ours, "zappa": zappa_zip, "venv": venv}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stage", nargs="?", default="production")
    parser.add_argument("--build-dir", type=Path, default=ROOT / "build")
    parser.add_argument("--output", type=Path, help="default: build/ticketing-<stage>.zip")
    args = parser.parse_args(argv)
    stages = json.loads((ROOT / "zappa_settings.json").read_text())
    if args.stage not in stages or args.stage == "base":
        parser.error(f"unknown stage {args.stage!r}; zappa_settings.json has dev and production")
    built = build(args.stage, args.build_dir.resolve(), args.output)
    size = built["package"].stat().st_size / 2**20
    print(f"{built['package']} ({size:.1f} MiB; Zappa's own: {built['zappa']})")


if __name__ == "__main__":
    main()
