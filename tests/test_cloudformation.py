"""infra/cloudformation.yml: clean under cfn-lint, and agreeing with zappa_settings.json and the
settings the application relies on."""

import json
import subprocess
import sys
from fnmatch import fnmatch
from pathlib import Path

import pytest
from cfnlint.decode import decode

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "infra" / "cloudformation.yml"


@pytest.fixture(scope="module")
def template():
    parsed, errors = decode(str(TEMPLATE))
    assert not errors
    return parsed


@pytest.fixture(scope="module")
def distribution(template):
    return template["Resources"]["Distribution"]["Properties"]["DistributionConfig"]


def behaviour(distribution, path):
    return next(b for b in distribution["CacheBehaviors"] if b["PathPattern"] == path)


def resolve_sub(value, stage):
    return value["Fn::Sub"].replace("${Stage}", stage)


def test_cfn_lint_is_clean():
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run([cfn_lint, str(TEMPLATE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_widget_api_is_cached_by_path_and_allow_listed_parameters_only(template, distribution):
    widget = behaviour(distribution, "/widget/v1/*")
    assert widget["CachePolicyId"] == {"Ref": "WidgetCachePolicy"}
    config = template["Resources"]["WidgetCachePolicy"]["Properties"]["CachePolicyConfig"]
    assert config["DefaultTTL"] == 0  # the origin's Cache-Control decides, nothing else
    key = config["ParametersInCacheKeyAndForwardedToOrigin"]
    assert key["CookiesConfig"] == {"CookieBehavior": "none"}
    assert key["HeadersConfig"] == {"HeaderBehavior": "none"}
    assert key["QueryStringsConfig"]["QueryStringBehavior"] == "whitelist"
    assert sorted(key["QueryStringsConfig"]["QueryStrings"]) == ["affiliate", "limit"]
    assert widget["Compress"] is True


def test_api_origin_maps_the_stage_away_and_gets_the_public_host(template, distribution):
    (api,) = [o for o in distribution["Origins"] if o["Id"] == "api"]
    assert api["OriginPath"] == {"Fn::Sub": "/${Stage}"}
    code = template["Resources"]["ForwardHostFunction"]["Properties"]["FunctionCode"]
    # ticketing/deploy/wsgi.py and USE_X_FORWARDED_HOST read this header.
    assert "request.headers['x-forwarded-host'] = {value: request.headers.host.value}" in code
    for cached_or_not in (distribution["DefaultCacheBehavior"],
                          behaviour(distribution, "/widget/v1/*")):  # fmt: skip
        (association,) = cached_or_not["FunctionAssociations"]
        assert association["EventType"] == "viewer-request"
        assert cached_or_not["ViewerProtocolPolicy"] == "redirect-to-https"


def test_everything_else_is_never_cached(template, distribution):
    default = distribution["DefaultCacheBehavior"]
    caching_disabled = template["Mappings"]["ManagedPolicy"]["CachingDisabled"]["Id"]
    assert default["CachePolicyId"] == {"Fn::FindInMap": ["ManagedPolicy", "CachingDisabled", "Id"]}
    assert caching_disabled == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
    assert "POST" in default["AllowedMethods"]
    paths = {b["PathPattern"] for b in distribution["CacheBehaviors"]}
    assert paths == {"/widget/v1/*", "/static/*"}


def test_static_files_come_from_the_private_bucket(template, distribution):
    static = behaviour(distribution, "/static/*")
    assert static["TargetOriginId"] == "static"
    bucket = template["Resources"]["StaticBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    (origin,) = [o for o in distribution["Origins"] if o["Id"] == "static"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["StaticOriginAccessControl", "Id"]}


@pytest.mark.parametrize("stage", ["dev", "production"])
def test_stack_names_match_zappa_settings(template, stage):
    zappa = json.loads((ROOT / "zappa_settings.json").read_text())[stage]
    resources = template["Resources"]
    stream = resolve_sub(resources["TrackingStream"]["Properties"]["Name"], stage)
    assert zappa["environment_variables"]["TRACKING_STREAM"] == stream
    (kinesis,) = [e["event_source"] for e in zappa["events"] if "event_source" in e]
    assert kinesis["arn"].endswith(f":stream/{stream}")
    assert zappa["environment_secret"] == resolve_sub(
        resources["StageSecret"]["Properties"]["Name"], stage
    )
    if "on_failure" in kinesis:
        queue = resolve_sub(resources["TrackingFailedQueue"]["Properties"]["QueueName"], stage)
        assert kinesis["on_failure"].endswith(f":{queue}")


def test_function_policy_reaches_the_stack_resources_and_no_more(template):
    """infra/lambda-policy.json (zappa_settings.json `attach_policy`) replaces Zappa's default,
    which allows s3:*, dynamodb:*, route53:*, sns:* and more on every resource."""
    zappa = json.loads((ROOT / "zappa_settings.json").read_text())["base"]
    policy = json.loads((ROOT / zappa["attach_policy"]).read_text())
    allowed = {
        action: statement["Resource"]
        for statement in policy["Statement"]
        for action in statement["Action"]
    }
    assert not [action for action in allowed if action.endswith(":*")]
    resources = template["Resources"]
    for stage in ("dev", "production"):
        stream = resolve_sub(resources["TrackingStream"]["Properties"]["Name"], stage)
        stream_arn = f"arn:aws:kinesis:eu-central-1:123456789012:stream/{stream}"
        for action in ("kinesis:PutRecords", "kinesis:GetRecords", "kinesis:GetShardIterator"):
            assert fnmatch(stream_arn, allowed[action]), action
        queue = resolve_sub(resources["TrackingFailedQueue"]["Properties"]["QueueName"], stage)
        assert fnmatch(f"arn:aws:sqs:eu-central-1:123456789012:{queue}", allowed["sqs:SendMessage"])
        # The outbox's prompt invokes the stage's own function (Zappa names it project-stage).
        function_arn = f"arn:aws:lambda:eu-central-1:123456789012:function:ticketing-{stage}"
        assert fnmatch(function_arn, allowed["lambda:InvokeFunction"])
