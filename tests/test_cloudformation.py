"""infra/cloudformation.yml: clean under cfn-lint, and agreeing with zappa_settings.json and the
settings the application relies on."""

import json
import re
import subprocess
import sys
from fnmatch import fnmatch
from pathlib import Path

import pytest
from cfnlint.decode import decode

from ticketing.deploy.policy import stage_policy
from ticketing.deploy.post_deploy import load_stage

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
    # The managed policy that forwards CloudFront-Viewer-Address (the beacon's visitor address)
    # and CloudFront-Viewer-Country with every viewer header but Host.
    all_viewer_except_host = {"Fn::FindInMap": ["ManagedPolicy", "AllViewerExceptHostHeader", "Id"]}
    assert default["OriginRequestPolicyId"] == all_viewer_except_host
    assert template["Mappings"]["ManagedPolicy"]["AllViewerExceptHostHeader"]["Id"] == (
        "b689b0a8-53d0-40ab-baf2-68738e2966ac"
    )
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


NO_RESOURCE_LEVEL_PERMISSIONS = {  # IAM accepts only "*" for these
    "ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses", "kinesis:ListStreams",
}  # fmt: skip


def allowed_resources(policy) -> dict[str, list[str]]:
    allowed = {}
    for statement in policy["Statement"]:
        resources = statement["Resource"]
        for action in statement["Action"]:
            allowed[action] = [resources] if isinstance(resources, str) else resources
    return allowed


@pytest.mark.parametrize(("stage", "other"), [("dev", "production"), ("production", "dev")])
def test_function_policy_reaches_its_stage_resources_and_no_more(template, stage, other):
    """infra/lambda-policy.json (zappa_settings.json `attach_policy`) replaces Zappa's default,
    which allows s3:*, dynamodb:*, route53:*, sns:* and more on every resource; the settings
    callback fills in the stage's region, account and name."""
    _, config = load_stage(stage)
    allowed = allowed_resources(stage_policy(stage, config))
    assert not [action for action in allowed if action.endswith(":*") or action == "*"]
    for action, resources in allowed.items():
        if action in NO_RESOURCE_LEVEL_PERMISSIONS:
            assert resources == ["*"], action
            continue
        for arn in resources:  # arn:aws:<service>:<region>:<account>:<resource>
            _, _, _, region, account, resource = arn.split(":", 5)
            assert (region, account) == ("eu-central-1", "123456789012"), arn
            assert f"-{stage}" in resource and other not in resource, arn
            assert "*" not in resource.removesuffix(":*"), arn

    resources = template["Resources"]
    queue = resolve_sub(resources["TrackingFailedQueue"]["Properties"]["QueueName"], stage)
    for each_stage, reachable in ((stage, True), (other, False)):
        stream = resolve_sub(resources["TrackingStream"]["Properties"]["Name"], each_stage)
        stream_arn = f"arn:aws:kinesis:eu-central-1:123456789012:stream/{stream}"
        for action in ("kinesis:PutRecords", "kinesis:GetRecords", "kinesis:GetShardIterator"):
            assert any(fnmatch(stream_arn, r) for r in allowed[action]) is reachable, action
        log_stream = (f"arn:aws:logs:eu-central-1:123456789012:log-group:"
                      f"/aws/lambda/ticketing-{each_stage}:log-stream:2025/01/01/abc")  # fmt: skip
        assert any(fnmatch(log_stream, r) for r in allowed["logs:PutLogEvents"]) is reachable
    assert allowed["sqs:SendMessage"] == [f"arn:aws:sqs:eu-central-1:123456789012:{queue}"]


def test_zappa_attaches_the_stage_policy_through_its_settings_callback(aws):
    from zappa.cli import ZappaCLI

    cli = ZappaCLI()
    cli.api_stage = "production"
    cli.load_settings(str(ROOT / "zappa_settings.json"))
    assert "${Account}" in cli.zappa.attach_policy  # the template, as Zappa reads the file
    cli.callback("settings")
    assert json.loads(cli.zappa.attach_policy) == stage_policy("production", cli.stage_config)
    assert "${" not in cli.zappa.attach_policy


def test_database_url_templates_require_tls():
    """Every PostgreSQL URL the docs, the stack and the Zappa settings offer to copy, but the
    local ones, asks for TLS."""
    templates = []
    for name in ("README.md", "docs/deploy.md", "infra/cloudformation.yml", "zappa_settings.json"):
        text = (ROOT / name).read_text()
        templates += re.findall(r"postgres(?:ql)?://[^\s\"'`)]+", text)
    remote = [url for url in templates if not re.search(r"@(127\.0\.0\.1|localhost)[:/]", url)]
    assert len(remote) >= 4, templates
    assert [url for url in remote if "sslmode=require" not in url] == []
