"""The post-deploy step against moto: the Kinesis trigger Zappa cannot make, and the secrets
copied into the function's environment. Real boto3 clients over HTTP; nothing patched."""

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import boto3
import pytest

from ticketing.deploy.environment import SecretFormatError, sync_secret_environment
from ticketing.deploy.event_sources import KinesisTrigger, ensure_kinesis_mapping, kinesis_triggers
from ticketing.deploy.post_deploy import load_stage, post_deploy

ROOT = Path(__file__).resolve().parent.parent
REGION = "eu-central-1"
FUNCTION = "ticketing-production"
# moto's account is 123456789012, the placeholder in zappa_settings.json: its ARNs work as they are.
STREAM = "ticketing-tracking-production"
FAILED_QUEUE = "ticketing-tracking-production-failed"


def lambda_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def lambda_handler(event, context):\n    return event\n")
    return buffer.getvalue()


@pytest.fixture
def session(aws):
    return boto3.Session(region_name=REGION)


@pytest.fixture
def function(session):
    """The deployed function as `zappa deploy` leaves it: Zappa's variables, no secrets yet."""
    role = session.client("iam").create_role(
        RoleName="ticketing-production-ZappaLambdaExecutionRole",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    return session.client("lambda").create_function(
        FunctionName=FUNCTION, Runtime="python3.11", Role=role, Handler="handler.lambda_handler",
        Code={"ZipFile": lambda_zip()}, Environment={"Variables": {"STAGE_NOTE": "from zappa"}},
    )  # fmt: skip


@pytest.fixture
def stream(session):
    kinesis = session.client("kinesis")
    kinesis.create_stream(StreamName=STREAM, ShardCount=1)
    return kinesis.describe_stream_summary(StreamName=STREAM)["StreamDescriptionSummary"]


@pytest.fixture
def failed_queue(session):
    sqs = session.client("sqs")
    url = sqs.create_queue(QueueName=FAILED_QUEUE)["QueueUrl"]
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]


@pytest.fixture
def secret(session):
    values = {"SECRET_KEY": "k" * 60, "DATABASE_URL": "postgres://app:pw@db.internal:5432/tickets"}
    session.client("secretsmanager").create_secret(
        Name="ticketing/production", SecretString=json.dumps(values)
    )
    return values


def mappings(session):
    return session.client("lambda").list_event_source_mappings()["EventSourceMappings"]


def production_trigger():
    _, config = load_stage("production")
    (trigger,) = kinesis_triggers(config["events"])
    return trigger


def test_production_stage_asks_for_a_safe_consumer():
    trigger = production_trigger()
    assert trigger.function == "ticketing.tracking.consumer.handle_kinesis_batch"
    assert trigger.stream_arn.endswith(f":stream/{STREAM}")
    assert trigger.bisect_batch_on_function_error is True
    assert 0 < trigger.maximum_retry_attempts < 10
    assert trigger.mapping_settings()["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_creates_the_mapping_zappa_cannot(session, function, stream, failed_queue):
    result = ensure_kinesis_mapping(session.client("lambda"), FUNCTION, production_trigger())
    assert result.action == "created"
    (mapping,) = mappings(session)
    assert mapping["EventSourceArn"] == stream["StreamARN"]
    assert mapping["FunctionArn"] == function["FunctionArn"]
    assert mapping["StartingPosition"] == "LATEST"
    assert mapping["BatchSize"] == 500
    assert mapping["MaximumBatchingWindowInSeconds"] == 1
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["MaximumRetryAttempts"] == 5
    assert mapping["MaximumRecordAgeInSeconds"] == 21600
    assert mapping["ParallelizationFactor"] == 2
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["DestinationConfig"] == {"OnFailure": {"Destination": failed_queue}}


def test_running_again_changes_nothing(session, function, stream, failed_queue):
    lambda_client = session.client("lambda")
    first = ensure_kinesis_mapping(lambda_client, FUNCTION, production_trigger())
    again = ensure_kinesis_mapping(lambda_client, FUNCTION, production_trigger())
    assert again.action == "unchanged"
    assert [m["UUID"] for m in mappings(session)] == [first.mapping["UUID"]]


def test_brings_an_existing_mapping_in_line(session, function, stream):
    """A mapping made by hand (or updated by Zappa, which only knows BatchSize) is updated in
    place; the starting position, which AWS fixes at creation, is reported, not hidden."""
    lambda_client = session.client("lambda")
    existing = lambda_client.create_event_source_mapping(
        FunctionName=FUNCTION, EventSourceArn=stream["StreamARN"],
        StartingPosition="TRIM_HORIZON", BatchSize=100,
    )  # fmt: skip
    trigger = KinesisTrigger(function="x.y", stream_arn=stream["StreamARN"], batch_size=250)
    result = ensure_kinesis_mapping(lambda_client, f"{function['FunctionArn']}", trigger)
    assert result.action == "updated"
    assert result.changed["BatchSize"] == 250
    (mapping,) = mappings(session)
    assert mapping["UUID"] == existing["UUID"]
    assert mapping["BatchSize"] == 250
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert "StartingPosition is TRIM_HORIZON" in result.notes[0]


def test_unknown_setting_in_zappa_settings_is_an_error_not_ignored():
    event = {"function": "f.g", "event_source": {"arn": "arn:aws:kinesis:x", "bisect": True}}
    with pytest.raises(ValueError, match="unknown Kinesis event source settings: bisect"):
        kinesis_triggers([event])


def test_secret_variables_join_the_function_environment(session, function, secret):
    lambda_client, secrets = session.client("lambda"), session.client("secretsmanager")
    changed = sync_secret_environment(lambda_client, secrets, FUNCTION, "ticketing/production")
    assert changed == ["DATABASE_URL", "SECRET_KEY"]
    variables = lambda_client.get_function_configuration(FunctionName=FUNCTION)["Environment"][
        "Variables"
    ]
    assert variables == {**secret, "STAGE_NOTE": "from zappa"}
    assert sync_secret_environment(lambda_client, secrets, FUNCTION, "ticketing/production") == []


def test_a_secret_that_is_not_a_json_object_is_refused(session, function):
    secrets = session.client("secretsmanager")
    secrets.create_secret(Name="broken", SecretString="SECRET_KEY=abc")
    with pytest.raises(SecretFormatError, match="secret broken is not JSON"):
        sync_secret_environment(session.client("lambda"), secrets, FUNCTION, "broken")
    variables = session.client("lambda").get_function_configuration(FunctionName=FUNCTION)
    assert variables["Environment"]["Variables"] == {"STAGE_NOTE": "from zappa"}


def test_zappa_runs_the_post_deploy_callback(session, function, stream, failed_queue, secret):
    """Through Zappa's own callback loader, as after `zappa update production`."""
    from zappa.cli import ZappaCLI

    cli = ZappaCLI()
    cli.api_stage = "production"
    cli.load_settings(str(ROOT / "zappa_settings.json"), session=session)
    cli.callback("post")
    (mapping,) = mappings(session)
    assert mapping["BatchSize"] == 500 and mapping["BisectBatchOnFunctionError"] is True
    config = session.client("lambda").get_function_configuration(FunctionName=FUNCTION)
    assert config["Environment"]["Variables"]["SECRET_KEY"] == secret["SECRET_KEY"]


def test_post_deploy_by_hand(aws, session, function, stream, failed_queue, secret):
    command = [sys.executable, "-m", "ticketing.deploy", "post-deploy", "production"]
    output = subprocess.run(
        command, cwd=ROOT, env=os.environ, capture_output=True, text=True, check=True
    ).stdout
    assert "environment from ticketing/production: DATABASE_URL, SECRET_KEY" in output
    assert f"Kinesis {stream['StreamARN']} -> ticketing.tracking.consumer" in output
    assert "created" in output and "BisectBatchOnFunctionError=True" in output
    again = subprocess.run(command, cwd=ROOT, env=os.environ, capture_output=True, text=True)
    assert "up to date" in again.stdout and ": unchanged" in again.stdout


def test_post_deploy_reports_each_step(session, function, stream, failed_queue, secret):
    lines = []
    _, config = load_stage("production")
    post_deploy(session, FUNCTION, config, report=lines.append)
    assert lines[0] == "environment from ticketing/production: DATABASE_URL, SECRET_KEY"
    assert lines[1].startswith(f"Kinesis {stream['StreamARN']} -> ") and "created" in lines[1]
