"""What Zappa cannot do for this project, after every `zappa deploy` and `zappa update`.

Zappa calls `ticketing.deploy.callbacks.post_deploy` (`callbacks.post` in zappa_settings.json);
to run it by hand, e.g. after changing the secret or the Kinesis settings:

    python -m ticketing.deploy post-deploy production

It needs no Django settings, only AWS credentials allowed to read the secret and to manage the
function's configuration and event source mappings (docs/deploy.md has the IAM policy).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from .environment import sync_secret_environment
from .event_sources import ensure_kinesis_mapping, kinesis_triggers

ZAPPA_SETTINGS = Path(__file__).resolve().parents[2] / "zappa_settings.json"


def post_deploy(
    session, function_name: str, stage_config: dict[str, Any], report: Callable = print
) -> None:
    lambda_client = session.client("lambda")
    secret_id = stage_config.get("environment_secret")
    if secret_id:
        secrets_client = session.client("secretsmanager")
        changed = sync_secret_environment(lambda_client, secrets_client, function_name, secret_id)
        report(f"environment from {secret_id}: {', '.join(changed) or 'up to date'}")
    for trigger in kinesis_triggers(stage_config.get("events", [])):
        result = ensure_kinesis_mapping(lambda_client, function_name, trigger)
        settings = ", ".join(f"{k}={v}" for k, v in result.changed.items())
        report(f"Kinesis {trigger.stream_arn} -> {trigger.function}: {result.action} {settings}")
        for note in result.notes:
            report(f"  note: {note}")


def load_stage(stage: str, settings_file: Path = ZAPPA_SETTINGS) -> tuple[str, dict[str, Any]]:
    """(function name, settings) of a stage, `extends` resolved, read the way Zappa reads them."""
    from slugify import slugify
    from zappa.cli import ZappaCLI

    cli = ZappaCLI()
    cli.api_stage = stage
    cli.load_settings_file(str(settings_file))
    if stage not in cli.zappa_settings:
        raise KeyError(f"no stage {stage!r} in {settings_file}")
    config = cli.stage_config
    return slugify(f"{config['project_name']}-{stage}"), config
