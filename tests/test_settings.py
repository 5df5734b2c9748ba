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


def run_manage(*args, env):
    # Drop what the test run sets for itself (pyproject's pytest env) so the child sees only `env`.
    test_only = {"SECRET_KEY", "DEBUG", "SECURE_SSL_REDIRECT", "DJANGO_ALLOW_ASYNC_UNSAFE",
                 "SITE_URL", "OUTBOX_PROMPT"}  # fmt: skip
    clean = {k: v for k, v in os.environ.items() if k not in test_only}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_refuses_to_start_without_secret_key_when_debug_is_off():
    result = run_manage("check", env={"ALLOWED_HOSTS": "x"})
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
        "django.db.backends.postgresql", "tickets", "db.internal", "60",
    ], result.stderr  # fmt: skip
