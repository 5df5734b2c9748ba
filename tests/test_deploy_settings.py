"""Settings of the Lambda stages: production checks clean, and static files published to S3 get
the same hashed names as the manifest shipped in the package."""

import json
from pathlib import Path

import boto3

from tests.test_settings import run_manage

ROOT = Path(__file__).resolve().parent.parent


def lambda_environment(stage="production", **extra):
    """The function's environment: zappa_settings.json variables plus the stage secret's."""
    zappa = json.loads((ROOT / "zappa_settings.json").read_text())[stage]
    secrets = {
        "SECRET_KEY": "p" * 64 + "-from-the-stage-secret",
        "DATABASE_URL": "sqlite://",
        "TICKET_SIGNING_KEYS": "k2:" + "B" * 43 + ",k1:" + "A" * 43,
        "EMAIL_HOST_USER": "AKIAEXAMPLE",
        "EMAIL_HOST_PASSWORD": "smtp-password-from-the-stage-secret",
    }
    return {**zappa["environment_variables"], **secrets, **extra}


def test_production_stage_passes_check_deploy():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=lambda_environment())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_stage_trusts_cloudfront_host_and_stays_https():
    code = (
        "from django.conf import settings as s; "
        "print(s.USE_X_FORWARDED_HOST, s.SECURE_SSL_REDIRECT, s.DEBUG, s.STATIC_URL, "
        "s.ALLOWED_HOSTS)"
    )
    result = run_manage("shell", "--no-imports", "-c", code, env=lambda_environment())
    assert result.stdout.split(" ", 4) == [
        "True", "True", "False", "https://tickets.example.com/static/",
        "['tickets.example.com', '.cloudfront.net', '.execute-api.eu-central-1.amazonaws.com']\n",
    ], result.stderr  # fmt: skip


def test_collectstatic_to_s3_matches_the_packaged_manifest(aws):
    """`STATIC_BUCKET=... manage.py collectstatic` (deploy time) and the offline build must hash the
    same files to the same names, or pages would link to files that are not in the bucket."""
    s3 = boto3.client("s3", region_name="eu-central-1")
    s3.create_bucket(
        Bucket="ticketing-static-test",
        CreateBucketConfiguration={"LocationConstraint": "eu-central-1"},
    )
    published = run_manage("collectstatic", "--noinput",
                       env=lambda_environment(STATIC_BUCKET="ticketing-static-test"))  # fmt: skip
    assert published.returncode == 0, published.stderr
    built = run_manage("collectstatic", "--noinput", env=lambda_environment())
    assert built.returncode == 0, built.stderr

    local = json.loads((ROOT / "staticfiles" / "staticfiles.json").read_text())["paths"]
    remote_manifest = s3.get_object(Bucket="ticketing-static-test", Key="static/staticfiles.json")
    remote = json.loads(remote_manifest["Body"].read())["paths"]
    assert remote == local
    hashed = local["admin/css/base.css"]
    assert hashed != "admin/css/base.css"
    head = s3.head_object(Bucket="ticketing-static-test", Key=f"static/{hashed}")
    assert head["CacheControl"] == "public, max-age=31536000, immutable"
    assert head["ContentType"] == "text/css"


def _no_duplicate_keys(pairs):
    keys = [key for key, _ in pairs]
    duplicated = sorted({key for key in keys if keys.count(key) > 1})
    assert not duplicated, f"zappa_settings.json repeats {duplicated} in one object"
    return dict(pairs)


# What runs on a schedule in every stage: a key written twice in one event would silently drop
# one of them (JSON keeps the last), as it once dropped the notify-me schedule.
SCHEDULED = {
    "ticketing.orders.handlers.expire_holds",
    "ticketing.notify.handlers.notify_subscribers",
    "ticketing.outbox.handlers.send_outbox",
    "ticketing.refunds.handlers.resume_refund_jobs",
    "ticketing.payments.handlers.sweep_payments",
    "ticketing.refunds.handlers.reconcile_payments",
}


def test_every_stage_schedules_each_periodic_job_once_and_each_exists():
    from django.utils.module_loading import import_string

    stages = json.loads(
        (ROOT / "zappa_settings.json").read_text(), object_pairs_hook=_no_duplicate_keys
    )
    for stage in ("dev", "production"):
        scheduled = [
            event["function"] for event in stages[stage]["events"] if "expression" in event
        ]
        assert sorted(scheduled) == sorted(SCHEDULED), stage
        for function in scheduled:
            assert callable(import_string(function))
