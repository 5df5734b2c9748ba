"""The Kinesis trigger of the tracking consumer, made the way Zappa cannot.

Zappa >= 0.61 creates a Kinesis event source mapping without `StartingPosition` (AWS refuses it
and Zappa only logs the error) and cannot set bisecting, retries or partial batch responses. The
Kinesis entries of a stage's `events` in zappa_settings.json stay where Zappa users look for them
(Zappa also needs them to route the records to the function); these functions read the settings
Zappa ignores and create or update the mapping so that it matches them, idempotently.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The consumer reports the records it could not handle (`{"batchItemFailures": [...]}`); only those
# are retried, not the whole batch.
FUNCTION_RESPONSE_TYPES = ["ReportBatchItemFailures"]
ZAPPA_ONLY_SETTINGS = {"arn", "enabled"}  # read by Zappa itself (`zappa schedule`, `unschedule`)


@dataclass(frozen=True)
class KinesisTrigger:
    """A Kinesis entry of zappa_settings.json `events`, with the mapping settings it asks for."""

    function: str  # the dotted path Zappa's handler routes the records to
    stream_arn: str
    starting_position: str = "LATEST"  # fixed when the mapping is created: AWS cannot change it
    batch_size: int = 100
    batch_window: int = 0  # seconds to gather records before invoking
    bisect_batch_on_function_error: bool = True
    maximum_retry_attempts: int = 3
    maximum_record_age_in_seconds: int = 3600
    parallelization_factor: int = 1
    on_failure: str | None = None  # SQS queue or SNS topic ARN for records given up on

    @classmethod
    def from_zappa_event(cls, event: dict[str, Any]) -> KinesisTrigger:
        source = event["event_source"]
        known = set(cls.__dataclass_fields__) - {"function", "stream_arn"}
        unknown = set(source) - known - ZAPPA_ONLY_SETTINGS
        if unknown:
            raise ValueError(f"unknown Kinesis event source settings: {', '.join(sorted(unknown))}")
        options = {name: source[name] for name in known if name in source}
        return cls(function=event["function"], stream_arn=source["arn"], **options)

    def mapping_settings(self) -> dict[str, Any]:
        """The parameters of the mapping that can be set on creation and changed later."""
        settings = {
            "BatchSize": self.batch_size,
            "MaximumBatchingWindowInSeconds": self.batch_window,
            "BisectBatchOnFunctionError": self.bisect_batch_on_function_error,
            "MaximumRetryAttempts": self.maximum_retry_attempts,
            "MaximumRecordAgeInSeconds": self.maximum_record_age_in_seconds,
            "ParallelizationFactor": self.parallelization_factor,
            "FunctionResponseTypes": FUNCTION_RESPONSE_TYPES,
        }
        if self.on_failure:
            settings["DestinationConfig"] = {"OnFailure": {"Destination": self.on_failure}}
        return settings


def kinesis_triggers(events: list[dict[str, Any]]) -> list[KinesisTrigger]:
    return [
        KinesisTrigger.from_zappa_event(event)
        for event in events
        if event.get("event_source", {}).get("arn", "").startswith("arn:aws:kinesis:")
    ]


@dataclass(frozen=True)
class MappingResult:
    action: str  # "created", "updated" or "unchanged"
    mapping: dict[str, Any]
    changed: dict[str, Any]  # setting -> value applied (everything when created)
    notes: list[str]


def ensure_kinesis_mapping(
    lambda_client, function_name: str, trigger: KinesisTrigger
) -> MappingResult:
    """Create the mapping from `trigger.stream_arn` to the function, or bring it in line."""
    function_arn = lambda_client.get_function(FunctionName=function_name)["Configuration"][
        "FunctionArn"
    ]
    wanted = trigger.mapping_settings()
    existing = find_mapping(lambda_client, function_arn, trigger.stream_arn)
    if existing is None:
        mapping = lambda_client.create_event_source_mapping(
            FunctionName=function_arn,
            EventSourceArn=trigger.stream_arn,
            StartingPosition=trigger.starting_position,
            **wanted,
        )
        return MappingResult("created", mapping, wanted, [])

    notes = []
    if existing.get("StartingPosition") not in (None, trigger.starting_position):
        notes.append(
            f"StartingPosition is {existing['StartingPosition']}, not {trigger.starting_position}:"
            " AWS fixes it at creation; delete the mapping to change it"
        )
    changed = {name: value for name, value in wanted.items() if not matches(existing, name, value)}
    if not changed:
        return MappingResult("unchanged", existing, {}, notes)
    mapping = lambda_client.update_event_source_mapping(UUID=existing["UUID"], **wanted)
    return MappingResult("updated", mapping, changed, notes)


def find_mapping(lambda_client, function_arn: str, stream_arn: str) -> dict[str, Any] | None:
    """The mapping from the stream to the function, whatever name or qualifier it was made with."""
    paginator = lambda_client.get_paginator("list_event_source_mappings")
    for page in paginator.paginate(EventSourceArn=stream_arn):
        for mapping in page["EventSourceMappings"]:
            if unqualified(mapping["FunctionArn"]) == unqualified(function_arn):
                return mapping
    return None


def unqualified(function_arn: str) -> str:
    """arn:aws:lambda:region:account:function:name[:alias] without the alias or version."""
    return ":".join(function_arn.split(":")[:7])


def matches(mapping: dict[str, Any], name: str, value: Any) -> bool:
    return mapping.get(name) == value
