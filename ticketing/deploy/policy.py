"""The function's IAM policy for one stage.

`infra/lambda-policy.json` (`attach_policy` in zappa_settings.json) names each stream, queue and
log group with `${Region}`, `${Account}` and `${Stage}`; Zappa's `settings` callback
(ticketing/deploy/callbacks.py) fills them in for the stage being deployed, so a stage's
function reaches its own resources in its own account and region, and nothing of another
stage. The region is the stage's `aws_region`, the account the one of its Kinesis stream (the
event source ARN). `*` stays only for actions that have no resource-level permissions (the VPC
network interfaces, kinesis:ListStreams).

To read the policy a stage gets: python -m ticketing.deploy policy production
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .event_sources import kinesis_triggers

TEMPLATE = Path(__file__).resolve().parents[2] / "infra" / "lambda-policy.json"


def stage_policy(stage: str, stage_config: dict[str, Any], template: Path = TEMPLATE) -> dict:
    region = stage_config["aws_region"]
    accounts = {_arn_part(t.stream_arn, 4) for t in kinesis_triggers(stage_config["events"])}
    regions = {_arn_part(t.stream_arn, 3) for t in kinesis_triggers(stage_config["events"])}
    if len(accounts) != 1 or regions != {region}:
        raise ValueError(
            f"stage {stage}: its Kinesis event sources must name one account and {region}"
        )
    text = template.read_text()
    for name, value in {"Region": region, "Account": accounts.pop(), "Stage": stage}.items():
        text = text.replace("${%s}" % name, value)  # noqa: UP031 (the braces are the template's)
    return json.loads(text)


def _arn_part(arn: str, index: int) -> str:
    return arn.split(":")[index]
