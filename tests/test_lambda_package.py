"""The Lambda package, built offline and called as Lambda calls it.

Built once per session (`infra.package.build`, the code behind `scripts/package`), unpacked, and
called in fresh `python -I -S -B` processes that see only the package and what the Lambda runtime
provides (`infra.invoke`), against a migrated, seeded database of their own.
"""

import base64
import json
import re
import subprocess
import uuid
import zipfile

import boto3
import pytest
from zappa.core import Zappa

from infra.invoke import (
    api_gateway_event,
    invoke,
    kinesis_event,
    lambda_runtime,
    runtime_python,
    scheduled_event,
    unpack,
)
from infra.package import ROOT, build
from tests.seeded import manage, seeded_database

CDN_HOST = "tickets.example.com"  # production's public host in zappa_settings.json
STAGE = "production"
MAX_ZIP_BYTES = 25 * 2**20


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """The production package, Zappa's own zip beside it, unpacked as on Lambda."""
    tmp = tmp_path_factory.mktemp("lambda")
    result = build(STAGE, ROOT / "build", output=tmp / "ticketing-production.zip")
    return {
        "zip": result["package"],
        "zappa_zip": result["zappa"],
        "task": unpack(result["package"], tmp / "task"),
        "runtime": lambda_runtime(result["venv"], ROOT / "build" / "lambda-runtime"),
        "python": runtime_python(result["venv"]),
    }


@pytest.fixture(scope="session")
def package_database(tmp_path_factory):
    """A database for the packaged process, migrated and seeded with the demo catalogue."""
    with seeded_database("lambda_package", tmp_path_factory.mktemp("lambda-db")) as database:
        yield database


@pytest.fixture(scope="session")
def invocations(built, package_database):
    """Run events through one cold container, as Lambda calls the stage's `lambda_handler`."""

    def invocations(*events, aws_endpoint=None):
        env = {"DATABASE_URL": package_database["url"], "SECRET_KEY": "s" * 50}
        if aws_endpoint:  # the `aws` fixture's moto server, as Lambda's role would reach AWS
            env.update(AWS_ENDPOINT_URL=aws_endpoint, AWS_ACCESS_KEY_ID="testing",
                       AWS_SECRET_ACCESS_KEY="testing")  # fmt: skip
        return invoke(built["task"], built["runtime"], built["python"], list(events), env)

    return invocations


@pytest.fixture(scope="session")
def call(invocations):
    """Run events through one cold container; returns the responses."""

    def call(*events, aws_endpoint=None):
        return [result.response for result in invocations(*events, aws_endpoint=aws_endpoint)]

    return call


def headers(response, name):
    """Every value of a response header, as API Gateway reads them: from `headers` and
    `multiValueHeaders`, the latter winning for a name in both."""
    single = {k.lower(): [v] for k, v in (response.get("headers") or {}).items()}
    multi = {k.lower(): v for k, v in (response.get("multiValueHeaders") or {}).items()}
    return {**single, **multi}.get(name.lower(), [])


def header(response, name):
    values = headers(response, name)
    return values[-1] if values else None


# --- the zip ------------------------------------------------------------------------------------


def test_zip_is_small_and_holds_what_lambda_runs(built):
    size = built["zip"].stat().st_size
    assert size <= MAX_ZIP_BYTES, f"{size / 2**20:.1f} MiB"
    names = set(zipfile.ZipFile(built["zip"]).namelist())
    assert {"handler.py", "zappa_settings.py", "ticketing/deploy/wsgi.py",
            "staticfiles/staticfiles.json"} <= names  # fmt: skip
    # The Lambda runtime provides these; the build and test tools are not shipped.
    for absent in ("boto3/", "botocore/", "s3transfer/", "pip/", "pytest/", "moto/", "tests/",
                   "bench/", "infra/", "troposphere/"):  # fmt: skip
        assert not any(name.startswith(absent) for name in names), absent
    # Translations and CLDR data of the fan pages' languages only (settings.LANGUAGES).
    assert "locale/de/LC_MESSAGES/django.mo" in names
    assert "django/conf/locale/fr/LC_MESSAGES/django.mo" in names
    assert not any("/locale/it/LC_MESSAGES/" in name for name in names)
    cldr = {
        name.rsplit("/", 1)[1]
        for name in names
        if name.startswith("babel/locale-data/") and name.endswith(".dat")
    }
    assert cldr == {"root.dat", "en.dat", "en_001.dat", "en_GB.dat", "de.dat", "fr.dat", "es.dat"}


# Top-level modules of requirements.txt and their dependencies, except the Zappa CLI's own.
RUNTIME_MODULES = """
import importlib.metadata as md, json, re
from packaging.requirements import Requirement

def name(text):
    return re.sub(r"[-_.]+", "-", text).lower()

def closure(roots):
    seen, todo = set(), list(roots)
    while todo:
        dist = name(todo.pop())
        if dist not in seen:
            seen.add(dist)
            for spec in md.distribution(dist).requires or []:
                requirement = Requirement(spec)
                if not requirement.marker or requirement.marker.evaluate({"extra": ""}):
                    todo.append(requirement.name)
    return seen

lines = [line.split("#")[0].strip() for line in open("requirements.txt")]
roots = {name(Requirement(line).name) for line in lines if line}
runtime = closure(roots - {"zappa"}) | {"psycopg-binary"}
modules = {module for module, dists in md.packages_distributions().items()
           if runtime & {name(dist) for dist in dists} and module.isidentifier()}
print(json.dumps({"modules": sorted(modules), "distributions": sorted(runtime)}))
"""


def test_every_runtime_dependency_imports_from_the_package(built):
    """Zappa's `exclude` drops its own CLI dependencies and what the Lambda runtime provides;
    nothing the application can import may go with them (drf-spectacular needs PyYAML, say), nor
    the metadata some read their version from (psycopg, which Django checks)."""
    venv_python = built["python"]
    runtime = json.loads(
        subprocess.run([venv_python, "-c", RUNTIME_MODULES], cwd=ROOT, check=True,
                       capture_output=True, text=True).stdout
    )  # fmt: skip
    assert {"django", "psycopg", "whitenoise", "yaml", "boto3"} <= set(runtime["modules"])
    code = (
        "import importlib, importlib.metadata, json, sys; "
        "sys.path.insert(0, sys.argv[1]); sys.path.append(sys.argv[2]); "
        "names = json.loads(sys.argv[3]); "
        "[importlib.import_module(m) for m in names['modules']]; "
        "[importlib.metadata.version(d) for d in names['distributions']]; "
        "import psycopg; assert psycopg.__version__ != '0.0.0.0', psycopg.__version__"
    )
    result = subprocess.run(
        [venv_python, "-I", "-S", "-B", "-c", code, built["task"], built["runtime"],
         json.dumps(runtime)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]


def test_every_module_has_bytecode_that_never_checks_its_source(built):
    """PEP 552 flags 0b01: hash-based and unchecked, so no stale-.pyc recompiling on Lambda."""
    task = built["task"]
    sources = list(task.rglob("*.py"))
    missing, checked = [], []
    for source in sources:
        pyc = source.parent / "__pycache__" / f"{source.stem}.cpython-311.pyc"
        if not pyc.exists():
            missing.append(source)
        elif int.from_bytes(pyc.read_bytes()[4:8], "little") != 0b01:
            checked.append(pyc)
    assert not missing[:5] and not checked[:5]
    assert len(sources) > 1000


def test_lambda_calls_the_projects_handler():
    stages = json.loads((ROOT / "zappa_settings.json").read_text())
    assert stages["base"]["lambda_handler"] == "ticketing.deploy.handler.lambda_handler"
    assert all(stages[stage]["extends"] == "base" for stage in ("dev", STAGE))
    assert not any("lambda_handler" in stages[stage] for stage in ("dev", STAGE))


def test_zappa_settings_in_the_package_are_production(built):
    settings = (built["task"] / "zappa_settings.py").read_text()
    assert "API_STAGE='production'" in settings
    assert "DEBUG=False" in settings and "LOG_LEVEL='INFO'" in settings
    assert "BINARY_SUPPORT=True" in settings  # /t.gif; API Gateway takes */* as binary
    assert "APP_MODULE='ticketing.deploy.wsgi'" in settings
    assert "DJANGO_SETTINGS='ticketing.settings'" in settings
    assert "SECRET_KEY" not in settings and "DATABASE_URL" not in settings


# --- HTTP through API Gateway ------------------------------------------------------------------


def test_health_check_answers_json(call):
    (response,) = call(api_gateway_event("/healthz"))
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"ok": True}
    assert header(response, "Content-Type") == "application/json"


def test_event_page_behind_cloudfront(call, package_database):
    event = package_database["event"]
    path = f"/e/{event['slug']}/"
    (response,) = call(api_gateway_event(path, query={"lang": "en"}, via_cloudfront_host=CDN_HOST))
    assert response["statusCode"] == 200, response.get("body", "")[:2000]
    assert event["artist"] in response["body"]
    assert header(response, "Content-Type").startswith("text/html")
    assert "/production/" not in response["body"]


def test_event_page_in_each_language_from_the_package(call, package_database):
    """The trimmed package still has each language's translations and CLDR data: German text,
    "39,50 €" (the demo's Berlin price) and "Di., 8. Dez."-style dates; a fan arriving without a
    language is sent to the one their browser prefers."""
    path = f"/e/{package_database['event']['slug']}/"
    negotiated, *pages = call(
        api_gateway_event(path, via_cloudfront_host=CDN_HOST,
                          headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}),
        *(api_gateway_event(path, query={"lang": lang}, via_cloudfront_host=CDN_HOST)
          for lang in ("de", "fr", "es", "en")),
    )  # fmt: skip
    assert negotiated["statusCode"] == 302
    assert header(negotiated, "Location") == f"{path}?lang=de"
    de, fr, es, en = (page["body"] for page in pages)
    assert "Tickets kaufen" in de and "39,50\xa0€" in de
    assert "Acheter des billets" in fr and "39,50\xa0€" in fr
    assert "Comprar entradas" in es and "39,50\xa0€" in es
    assert "Buy tickets" in en and "€39.50" in en
    assert re.search(r"(Mo|Di|Mi|Do|Fr|Sa|So)\., \d{1,2}\. \w+\.? \d{4}, 20:00", de)


def test_admin_behind_cloudfront_has_no_stage_prefix(call):
    redirect, login = call(
        api_gateway_event("/admin/", via_cloudfront_host=CDN_HOST),
        api_gateway_event("/admin/login/", via_cloudfront_host=CDN_HOST),
    )
    assert redirect["statusCode"] == 302
    assert header(redirect, "Location") == "/admin/login/?next=/admin/"
    assert login["statusCode"] == 200
    body = login["body"]
    assert 'action="/admin/login/"' in body
    assert "/production/" not in body
    # Static files: hashed names on the CDN, from the manifest shipped in the package.
    stylesheet = re.search(r'href="([^"]+/admin/css/base[^"]*\.css)"', body).group(1)
    hashed = rf"https://{CDN_HOST}/static/admin/css/base\.[0-9a-f]{{12}}\.css"
    assert re.fullmatch(hashed, stylesheet)
    # The session and CSRF cookies are for the public host, over HTTPS only.
    assert "Secure" in header(login, "Set-Cookie")


def test_staff_signs_in_behind_cloudfront(call):
    """CSRF's origin check and the redirect both go by the public host, over HTTPS."""
    secret = "a" * 32  # Django accepts its unmasked CSRF secret as the form token
    body = f"csrfmiddlewaretoken={secret}&username=demo&password=demo&next=/admin/"
    (response,) = call(
        api_gateway_event("/admin/login/", method="POST", body=body,
                          via_cloudfront_host=CDN_HOST, headers={
                              "Content-Type": "application/x-www-form-urlencoded",
                              "Cookie": f"csrftoken={secret}",
                              "Origin": f"https://{CDN_HOST}",
                              "Referer": f"https://{CDN_HOST}/admin/login/",
                          }),
    )  # fmt: skip
    assert response["statusCode"] == 302, response.get("body", "")[:1000]
    assert header(response, "Location") == "/admin/"
    cookies = headers(response, "Set-Cookie")
    session = next(cookie for cookie in cookies if cookie.strip().startswith("sessionid="))
    assert "Secure" in session and "HttpOnly" in session


def test_tracking_pixel_is_binary(aws, call, package_database):
    """GET /t.gif answers a GIF: API Gateway needs binary bodies base64-encoded (binary_support)."""
    boto3.client("kinesis", region_name="eu-central-1").create_stream(
        StreamName="ticketing-tracking-production", ShardCount=1
    )
    query = {"id": str(uuid.uuid4()), "type": "view",
             "artist": package_database["event"]["artist_slug"]}  # fmt: skip
    (response,) = call(
        api_gateway_event("/t.gif", query=query, via_cloudfront_host=CDN_HOST), aws_endpoint=aws
    )
    assert response["statusCode"] == 200, response.get("body")
    assert header(response, "Content-Type") == "image/gif"
    assert response["isBase64Encoded"] is True
    assert base64.b64decode(response["body"]).startswith(b"GIF89a")


def test_raw_execute_api_url_keeps_the_stage_prefix(call):
    redirect, login = call(api_gateway_event("/admin/"), api_gateway_event("/admin/login/"))
    assert redirect["statusCode"] == 302
    assert header(redirect, "Location") == "/production/admin/login/?next=/production/admin/"
    assert 'action="/production/admin/login/"' in login["body"]


def test_unknown_forwarded_host_is_refused(call):
    (response,) = call(api_gateway_event("/healthz", via_cloudfront_host="evil.example"))
    assert response["statusCode"] == 400


# --- the handler's split: HTTP straight to Django, everything else to Zappa's handler ----------

# Imported by Zappa's handler (boto3, werkzeug), the checkout API and its docs (DRF views,
# drf-spectacular), the back office (the apps' admin modules), calendar files (icalendar) and
# card payments (stripe, the payment and refund services): never for the hot paths.
NOT_FOR_HOT_PATHS = ["handler", "boto3", "werkzeug", "rest_framework.views",
                     "drf_spectacular.views", "ticketing.events.admin", "icalendar", "stripe",
                     "ticketing.payments.services", "ticketing.refunds.services"]  # fmt: skip


def loaded(invocation, modules=NOT_FOR_HOT_PATHS):
    return [name for name in modules if name in invocation.modules]


def test_http_events_load_only_what_their_urls_need(invocations, package_database):
    slug = package_database["event"]["artist_slug"]
    health, widget, beacon, new_hold, hold, admin = invocations(
        api_gateway_event("/healthz", via_cloudfront_host=CDN_HOST),
        api_gateway_event(f"/widget/v1/artists/{slug}/events", via_cloudfront_host=CDN_HOST),
        api_gateway_event("/t.gif", query={"id": str(uuid.uuid4()), "type": "view",
                                           "artist": slug}, via_cloudfront_host=CDN_HOST),
        api_gateway_event("/api/v1/holds", method="POST", via_cloudfront_host=CDN_HOST,
                          headers={"Content-Type": "application/json"},
                          body='{"items": [{"ticket_type": 999999, "quantity": 1}]}'),
        api_gateway_event("/api/v1/holds/no-such-token", via_cloudfront_host=CDN_HOST),
        api_gateway_event("/admin/login/", via_cloudfront_host=CDN_HOST),
    )  # fmt: skip
    answers = (health, widget, beacon, new_hold, hold, admin)
    assert [i.response["statusCode"] for i in answers] == [200, 200, 200, 400, 404, 200]
    assert json.loads(new_hold.response["body"])["unknown_ticket_types"] == [999999]
    assert loaded(health) == loaded(widget) == []
    assert loaded(beacon) == loaded(new_hold) == ["boto3"]  # the Kinesis sink's client
    assert loaded(hold) == ["boto3", "rest_framework.views"]
    # The back office is no hot path: it may load the rest (refunds reach stripe, for one).
    assert {"boto3", "rest_framework.views", "ticketing.events.admin"} <= set(loaded(admin))


def test_other_events_go_to_zappas_handler(invocations):
    keep_warm = scheduled_event(Zappa.get_event_name("ticketing-production",
                                                     "handler.keep_warm_callback"))  # fmt: skip
    health, warm, manage, command = invocations(
        api_gateway_event("/healthz"),
        keep_warm,
        {"manage": "migrate --check"},  # `zappa manage production "migrate --check"`
        {"command": "ticketing.orders.handlers.expire_holds"},  # `zappa invoke production ...`
    )
    assert "handler" not in health.modules
    assert warm.response is None and "handler" in warm.modules
    assert manage.response == {}  # migrate --check exits non-zero when migrations are missing
    assert set(command.response) == {"released"}


# --- the widget API, the tracking pipeline, hold expiry ----------------------------------------


def test_widget_api_through_cloudfront_is_cacheable(call, package_database):
    path = f"/widget/v1/artists/{package_database['event']['artist_slug']}/events"
    (first,) = call(api_gateway_event(path, via_cloudfront_host=CDN_HOST, query={"limit": "5"}))
    assert first["statusCode"] == 200, first.get("body", "")[:2000]
    assert header(first, "Content-Type").startswith("application/json")
    assert header(first, "Cache-Control").startswith("public, max-age=10, s-maxage=10")
    assert header(first, "Access-Control-Allow-Origin") == "*"
    assert header(first, "ETag").startswith('"')
    assert header(first, "Set-Cookie") is None
    assert "cookie" not in (header(first, "Vary") or "").lower()
    # Absolute links name the public host, without the API Gateway stage.
    urls = [event["tickets_url"] for event in json.loads(first["body"])["events"]]
    assert urls
    assert 0 < len(urls) <= 5
    assert all(url.startswith(f"https://{CDN_HOST}/e/") for url in urls), urls[:3]


def stream_records(kinesis, stream_name):
    shard = kinesis.list_shards(StreamName=stream_name)["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(
        StreamName=stream_name, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    return kinesis.get_records(ShardIterator=iterator)["Records"]


def hit_counts(database_url, artist_slug):
    code = (
        "import json; from django.db.models import Sum; "
        "from ticketing.tracking.models import HitCounter; "
        f"q = HitCounter.objects.filter(artist__slug={artist_slug!r}); "
        "print(json.dumps({k: q.filter(kind=k).aggregate(n=Sum('count'))['n'] or 0 "
        "for k in ('view', 'click')}))"
    )
    return json.loads(manage("shell", "--no-imports", "-c", code, database_url=database_url))


def test_tracking_hits_reach_the_counters_through_kinesis(aws, call, package_database):
    """The beacon writes to the stream; the stream's batch, delivered as the event source mapping
    delivers it, is counted: both through the packaged handler, Kinesis being moto."""
    stream = "ticketing-tracking-production"  # TRACKING_STREAM of the production stage
    kinesis = boto3.client("kinesis", region_name="eu-central-1")
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    stream_arn = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"][
        "StreamARN"
    ]
    artist = package_database["event"]["artist_slug"]
    before = hit_counts(package_database["url"], artist)
    hits = [
        {"id": str(uuid.uuid4()), "type": "view", "artist": artist, "ts": 1_700_000_000_000}
        for _ in range(3)
    ]
    (beacon,) = call(
        api_gateway_event("/t", method="POST", body=json.dumps(hits), via_cloudfront_host=CDN_HOST,
                          headers={"Content-Type": "text/plain;charset=UTF-8",
                                   "Referer": "https://artist.example/tour"}),
        aws_endpoint=aws,
    )  # fmt: skip
    assert beacon["statusCode"] == 204, beacon.get("body")
    records = stream_records(kinesis, stream)
    assert records, "the beacon wrote nothing to the stream"

    event = kinesis_event(stream_arn, [record["Data"] for record in records])
    (result,) = call(event, aws_endpoint=aws)
    assert result == {"batchItemFailures": []}
    after = hit_counts(package_database["url"], artist)
    assert after["view"] == before["view"] + 3
    # At-least-once delivery: the same batch again counts nothing twice.
    (again,) = call(event, aws_endpoint=aws)
    assert again == {"batchItemFailures": []}
    assert hit_counts(package_database["url"], artist) == after


def test_scheduled_expiry_releases_lapsed_holds(call, package_database):
    url, slug = package_database["url"], package_database["event"]["slug"]
    hold = json.loads(manage("shell", "--no-imports", "-c", (
        "import datetime, json; from django.utils import timezone; "
        "from ticketing.events.models import TicketType; "
        "from ticketing.orders.services import create_hold; "
        f"tt = TicketType.objects.filter(event__slug={slug!r}).first(); "
        "h = create_hold([{'ticket_type': tt.pk, 'quantity': 2}], "
        "now=timezone.now() - datetime.timedelta(hours=2)); "
        "tt.refresh_from_db(); print(json.dumps({'hold': h.pk, 'type': tt.pk, 'held': tt.held}))"
    ), database_url=url))  # fmt: skip
    rule = Zappa.get_event_name("ticketing-production", "ticketing.orders.handlers.expire_holds")
    (result,) = call(scheduled_event(rule))
    assert result["released"] >= 1
    after = json.loads(manage("shell", "--no-imports", "-c", (
        "import json; from ticketing.orders.models import Hold; "
        "from ticketing.events.models import TicketType; "
        f"print(json.dumps({{'state': Hold.objects.get(pk={hold['hold']}).state, "
        f"'held': TicketType.objects.get(pk={hold['type']}).held}}))"
    ), database_url=url))  # fmt: skip
    assert after == {"state": "expired", "held": hold["held"] - 2}


def test_scheduled_notify_tells_waiting_fans(call, package_database):
    """notify_subscribers is scheduled like expire_holds (zappa_settings.json `events`): a fan
    confirmed while the show was sold out is told once it sells again."""
    url, slug = package_database["url"], package_database["event"]["slug"]
    subscription = manage("shell", "--no-imports", "-c", (
        "from django.utils import timezone; from ticketing.events.models import Event; "
        "from ticketing.notify.models import Subscription; "
        f"e = Event.objects.get(slug={slug!r}); "
        "s = Subscription.objects.create(event=e, email='fan@example.com', state='active', "
        "confirmed_at=timezone.now()); print(s.pk)"
    ), database_url=url).strip()  # fmt: skip
    rule = Zappa.get_event_name(
        "ticketing-production", "ticketing.notify.handlers.notify_subscribers"
    )
    (result,) = call(scheduled_event(rule))
    assert result["notified"] >= 1
    state = manage("shell", "--no-imports", "-c", (
        "from ticketing.notify.models import Subscription; "
        f"print(Subscription.objects.get(pk={subscription}).state)"
    ), database_url=url).strip()  # fmt: skip
    assert state == "notified"


def test_outbox_drain_and_prompt_run_in_the_package(call, package_database):
    """The minutely drain (a Zappa schedule) and the prompt's asynchronous invocation (a Zappa
    `command` event) reach the outbox in the package, which mails through the stage's SMTP
    settings: unreachable offline, so the attempt is recorded for a retry, nothing lost."""
    url = package_database["url"]
    email_id = int(manage("shell", "--no-imports", "-c", (
        "from django.core.mail import EmailMessage; from ticketing.outbox.models import Email; "
        "e = Email.from_message(EmailMessage('Hi', 'Hello', 'tickets@example.com', "
        "['ada@example.com']), kind='test'); e.save(); print(e.pk)"
    ), database_url=url))  # fmt: skip

    (prompted,) = call({"command": "ticketing.outbox.handlers.send_emails", "emails": [email_id]})
    assert prompted == {"sent": 0, "retrying": 1, "failed": 0, "released": 0, "stopped": True}
    state = manage("shell", "--no-imports", "-c", (
        "from ticketing.outbox.models import Email; "
        f"e = Email.objects.get(pk={email_id}); print(e.state, e.attempts, e.last_error)"
    ), database_url=url)  # fmt: skip
    assert state.startswith("pending 1 ") and "email-smtp.eu-central-1.amazonaws.com" not in state

    rule = Zappa.get_event_name("ticketing-production", "ticketing.outbox.handlers.send_outbox")
    (drained,) = call(scheduled_event(rule))
    assert drained["sent"] == 0
    after = manage("shell", "--no-imports", "-c", (
        "from ticketing.outbox.models import Email; "
        f"e = Email.objects.get(pk={email_id}); print(e.state, e.attempts)"
    ), database_url=url)  # fmt: skip
    assert after.split() == ["pending", "1"]  # not due again before its backoff
