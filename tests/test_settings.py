"""Settings come from the environment and refuse an insecure production start."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "SECRET_KEY": "x" * 64 + "-production-like-secret-from-the-environment",
    "ALLOWED_HOSTS": "tickets.example.com",
    "DATABASE_URL": "sqlite:///:memory:",
    "SITE_URL": "https://tickets.example.com",
    "TICKET_SIGNING_KEYS": "k1:" + "A" * 43,  # 32 zero bytes, base64url
    "EMAIL_HOST": "smtp.example.com",
}


# What the test run sets for itself (pyproject's pytest env), kept from child processes so that
# they see only the environment a test gives them.
TEST_ONLY = {
    "SECRET_KEY",
    "DEBUG",
    "DJANGO_ENV",
    "SECURE_SSL_REDIRECT",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "SITE_URL",
    "OUTBOX_PROMPT",
}


def clean_environment(env, without=()) -> dict:
    dropped = TEST_ONLY | set(without)
    return {**{k: v for k, v in os.environ.items() if k not in dropped}, **env}


def run_manage(*args, env, without=()):
    return run_python("manage.py", *args, env=env, without=without)


def run_python(*args, env, without=()):
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=clean_environment(env, without),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


SETTINGS_IN_USE = (
    "from django.conf import settings as s; print(s.DJANGO_ENV, s.DEBUG, s.ALLOWED_HOSTS, "
    "s.DATABASES['default']['ENGINE'])"
)


def test_manage_py_with_no_environment_uses_the_development_settings_and_says_so():
    # A newcomer's shell: nothing set, not even the DATABASE_URL of a PostgreSQL test run.
    result = run_manage("check", env={}, without={"DATABASE_URL"})
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
    assert "using the local development settings" in result.stderr

    result = run_manage("shell", "--no-imports", "-c", SETTINGS_IN_USE, env={},
                        without={"DATABASE_URL"})  # fmt: skip
    assert result.stdout.split(" ", 2) == [
        "development", "True", "['localhost', '127.0.0.1', '[::1]'] django.db.backends.sqlite3\n",
    ], result.stderr  # fmt: skip
    assert result.stderr.count("using the local development settings") == 1


def test_manage_py_runs_what_the_environment_names():
    result = run_manage("shell", "--no-imports", "-c", SETTINGS_IN_USE, env=PRODUCTION_ENV)
    assert result.stdout.startswith("production False ['tickets.example.com']"), result.stderr
    assert "development settings" not in result.stderr


def test_production_refuses_to_start_without_secret_key():
    # An operator's manage.py run, and what gunicorn and Lambda import: the WSGI application.
    for result in (
        run_manage("migrate", "--plan", env={"DJANGO_ENV": "production"}),
        run_manage("check", env={"DJANGO_ENV": "production", "DEBUG": "1"}),
        run_python("-c", "import ticketing.wsgi", env={}),
        run_python("-c", "import ticketing.deploy.wsgi", env={"ALLOWED_HOSTS": "x"}),
    ):
        assert result.returncode != 0
        assert "SECRET_KEY must be set" in result.stderr


def test_debug_is_off_unless_asked_for():
    code = "from django.conf import settings; print(settings.DEBUG)"
    result = run_manage("shell", "--no-imports", "-c", code, env=PRODUCTION_ENV)
    assert result.stdout.strip() == "False", result.stderr
    result = run_manage("shell", "--no-imports", "-c", code, env={"DEBUG": "1"})
    assert result.stdout.strip() == "True", result.stderr


def test_check_deploy_is_clean_with_production_variables():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_database_url_selects_postgres():
    code = (
        "from django.conf import settings; d = settings.DATABASES['default']; "
        "print(d['ENGINE'], d['NAME'], d['HOST'], d['CONN_MAX_AGE'])"
    )
    env = {**PRODUCTION_ENV, "DATABASE_URL": "postgres://u@db.internal:5432/tickets",
           "CONN_MAX_AGE": "60"}  # fmt: skip
    result = run_manage("shell", "--no-imports", "-c", code, env=env)
    assert result.stdout.split() == [
        # Django's PostgreSQL backend with a round-trip-free health check (ticketing/db/).
        "ticketing.db.postgresql", "tickets", "db.internal", "60",
    ], result.stderr  # fmt: skip
