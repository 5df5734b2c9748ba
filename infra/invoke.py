"""Call a built Lambda package the way Lambda does, on this machine: the package tests and
bench/coldstart.py use it.

The package runs in a fresh `python -I -S -B` process whose import path is the unpacked package
(/var/task on Lambda) followed by a copy of what the Lambda Python runtime provides (boto3,
botocore and their dependencies, compiled as AWS ships them): nothing from the build or test
venv. `-B` because /var/task is read-only on Lambda: no bytecode cache gets written, so a package
whose .pyc files are stale compiles its sources again on every cold start, as it would there.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

from infra.package import ROOT, RUNTIME_PYTHON, compile_unchecked, site_packages

ACCOUNT = "123456789012"
REGION = "eu-central-1"
API_ID = "a1b2c3d4e5"
API_HOST = f"{API_ID}.execute-api.{REGION}.amazonaws.com"

# What the python3.11 Lambda runtime has on its path besides the standard library.
RUNTIME_PROVIDED = ["boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six.py", "urllib3"]


def unpack(zip_path: Path, target: Path) -> Path:
    """Unzip like Lambda: every file keeps the timestamp recorded in the zip."""
    with zipfile.ZipFile(zip_path) as archive:
        for info in archive.infolist():
            path = Path(archive.extract(info, target))
            stamp = time.mktime((*info.date_time, 0, 0, -1))
            os.utime(path, (stamp, stamp))
    return target


def lambda_runtime(venv: Path, target: Path) -> Path:
    """boto3 and friends as the Lambda runtime has them (in /var/runtime), from the build venv."""
    if (target / "boto3").exists():
        return target
    tmp = Path(tempfile.mkdtemp(prefix="runtime-", dir=target.parent))
    for name in RUNTIME_PROVIDED:
        source = site_packages(venv) / name
        if source.is_dir():
            shutil.copytree(source, tmp / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, tmp / name)
    compile_unchecked(venv / "bin" / "python", tmp)
    tmp.rename(target)
    return target


# --- events, shaped as Lambda delivers them -----------------------------------------------------


def api_gateway_event(
    path: str,
    *,
    method: str = "GET",
    stage: str = "production",
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    body: str | None = None,
    via_cloudfront_host: str | None = None,
) -> dict:
    """An API Gateway REST API proxy event (payload format 1.0) for `path` on `stage`.

    With `via_cloudfront_host`, the request came through the stack's CloudFront distribution:
    API Gateway still sees its own host name, plus CloudFront's headers and the viewer's host in
    X-Forwarded-Host (set by the distribution's CloudFront Function).
    """
    all_headers = {
        "Host": API_HOST,
        "Accept": "*/*",
        "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0",
        "X-Forwarded-For": "203.0.113.7, 130.176.0.1",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
        "X-Amzn-Trace-Id": "Root=1-6741a2b3-0123456789abcdef01234567",
    }
    if via_cloudfront_host:
        all_headers.update({
            "X-Forwarded-Host": via_cloudfront_host,
            "Via": "2.0 0123456789abcdef.cloudfront.net (CloudFront)",
            "X-Amz-Cf-Id": "Xz9-example-cloudfront-request-id==",
            "CloudFront-Forwarded-Proto": "https",
            "CloudFront-Viewer-Country": "DE",
        })  # fmt: skip
    all_headers.update(headers or {})
    request_id = str(uuid.uuid4())
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {name: [value] for name, value in all_headers.items()},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourceId": "abc123",
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "extendedRequestId": "BQGojGRnFiAFTaw=",
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
            "path": f"/{stage}{path}",
            "accountId": ACCOUNT,
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": API_ID,
            "requestTimeEpoch": int(time.time() * 1000),
            "requestId": request_id,
            "identity": {"sourceIp": "203.0.113.7", "userAgent": all_headers["User-Agent"]},
            "domainName": API_HOST,
            "apiId": API_ID,
        },
        # The API's binary media type is */* (Zappa's binary_support), so API Gateway hands every
        # request body over base64-encoded.
        "body": base64.b64encode(body.encode()).decode() if body is not None else None,
        "isBase64Encoded": body is not None,
    }


def kinesis_event(stream_arn: str, payloads: list[bytes]) -> dict:
    """A Kinesis event source batch: one record per payload, base64 as Lambda delivers it."""
    shard = "shardId-000000000000"
    records = []
    for n, payload in enumerate(payloads):
        sequence = f"4963{n:052d}"
        records.append({
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": str(uuid.uuid4()),
                "sequenceNumber": sequence,
                "data": base64.b64encode(payload).decode(),
                "approximateArrivalTimestamp": time.time(),
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": f"{shard}:{sequence}",
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": f"arn:aws:iam::{ACCOUNT}:role/ticketing-production-ZappaRole",
            "awsRegion": REGION,
            "eventSourceARN": stream_arn,
        })  # fmt: skip
    return {"Records": records}


def scheduled_event(rule_name: str) -> dict:
    """An EventBridge schedule; Zappa finds the function at the end of the rule's name."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{rule_name}"],
        "detail": {},
    }


# --- the process ---------------------------------------------------------------------------


def lambda_handler_name(stage: str, settings_file: Path = ROOT / "zappa_settings.json") -> str:
    """The function Lambda calls for `stage`: `lambda_handler` in zappa_settings.json (`extends`
    followed), else Zappa's own."""
    stages = json.loads(settings_file.read_text())
    config = stages[stage]
    while "lambda_handler" not in config and "extends" in config:
        config = stages[config["extends"]]
    return config.get("lambda_handler", "handler.lambda_handler")


# Runs inside the fresh interpreter. Times the import of the handler and each invocation.
CHILD = """
import importlib, json, os, sys, time
started = time.perf_counter()
cpu_started = time.process_time()
package, runtime, events_path, results_path, handler_name = sys.argv[1:6]
sys.path.insert(0, package)
sys.path.append(runtime)
os.chdir(package)

class Context:
    function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e812345678"
    memory_limit_in_mb = 1024
    def get_remaining_time_in_millis(self):
        return 30000

module, function = handler_name.rsplit(".", 1)
lambda_handler = getattr(importlib.import_module(module), function)
results = []
with open(events_path) as f:
    events = json.load(f)
for event in events:
    before = time.perf_counter()
    response = lambda_handler(event, Context())
    now = time.perf_counter()
    results.append({"response": response, "ms": (now - before) * 1000,
                    "since_start_ms": (now - started) * 1000,
                    "cpu_since_start_ms": (time.process_time() - cpu_started) * 1000,
                    "modules": sorted(sys.modules)})
with open(results_path, "w") as f:
    json.dump(results, f, default=repr)
"""


@dataclass(frozen=True)
class Invocation:
    response: object
    ms: float  # this invocation alone
    since_start_ms: float  # import of the handler plus every invocation up to this one
    cpu_since_start_ms: float
    modules: list[str]  # every module imported by then


def invoke(
    package_dir: Path,
    runtime_dir: Path,
    python: Path,
    events: list[dict],
    env: dict[str, str],
    stage: str = "production",
    timeout: float = 120,
    handler: str | None = None,
) -> list[Invocation]:
    """Run `events` through the stage's handler (`lambda_handler_name`, unless `handler` names
    another) in one fresh process (one cold container)."""
    handler = handler or lambda_handler_name(stage)
    package_dir, runtime_dir = package_dir.resolve(), runtime_dir.resolve()
    with tempfile.TemporaryDirectory(prefix="invoke-") as tmp:
        events_path, results_path = Path(tmp) / "events.json", Path(tmp) / "results.json"
        events_path.write_text(json.dumps(events))
        child_env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "TZ": ":UTC",
            "AWS_LAMBDA_FUNCTION_NAME": f"ticketing-{stage}",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "LAMBDA_TASK_ROOT": str(package_dir),
            **env,
        }
        process = subprocess.run(
            [str(python), "-I", "-S", "-B", "-c", CHILD,
             str(package_dir), str(runtime_dir), str(events_path), str(results_path), handler],
            env=child_env, capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip
        if process.returncode != 0 or not results_path.exists():
            raise RuntimeError(
                f"the packaged handler failed ({process.returncode}):\n"
                f"{process.stdout[-3000:]}\n{process.stderr[-3000:]}"
            )
        return [Invocation(**result) for result in json.loads(results_path.read_text())]


def runtime_python(venv: Path) -> Path:
    """The build venv's interpreter: with -I -S it sees only the standard library."""
    python = venv / "bin" / f"python{RUNTIME_PYTHON}"
    return python if python.exists() else venv / "bin" / "python"
