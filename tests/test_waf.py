"""infra/waf.yml: the CloudFront web ACL's rate-based rules, read as WAF would apply them to the
requests of each path, and wired into the distribution of infra/cloudformation.yml."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cfnlint.decode import decode

from ticketing import settings as project_settings  # the limits as deployed, not as tests set them

ROOT = Path(__file__).resolve().parent.parent
WAF = ROOT / "infra" / "waf.yml"


@pytest.fixture(scope="module")
def web_acl():
    parsed, errors = decode(str(WAF))
    assert not errors
    return parsed["Resources"]["WebAcl"]["Properties"]


def matches(statement: dict, method: str, path: str) -> bool:
    """WAF's reading of the statements these rules use (byte matches, and, or)."""
    if "AndStatement" in statement:
        return all(matches(s, method, path) for s in statement["AndStatement"]["Statements"])
    if "OrStatement" in statement:
        return any(matches(s, method, path) for s in statement["OrStatement"]["Statements"])
    match = statement["ByteMatchStatement"]
    assert match["TextTransformations"] == [{"Priority": 0, "Type": "NONE"}]
    (field,) = match["FieldToMatch"]
    value = {"Method": method, "UriPath": path}[field]
    search, constraint = match["SearchString"], match["PositionalConstraint"]
    return {
        "EXACTLY": value == search,
        "STARTS_WITH": value.startswith(search),
        "ENDS_WITH": value.endswith(search),
    }[constraint]


def rules_for(web_acl, method, path):
    return [
        rule["Name"]
        for rule in web_acl["Rules"]
        if matches(rule["Statement"]["RateBasedStatement"]["ScopeDownStatement"], method, path)
    ]


def test_cfn_lint_is_clean():
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run([cfn_lint, str(WAF)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "method, path, rule",
    [
        ("POST", "/api/v1/holds", "api-holds"),
        ("POST", "/e/demo-artist-berlin-2027-03-01/hold", "hold-form"),
        ("POST", "/orders/lookup/", "order-lookup-form"),
        ("GET", "/api/v1/orders/K7QX2M", "api-order-lookup"),
        ("POST", "/e/demo-artist-berlin-2027-03-01/notify", "notify"),
        ("POST", "/admin/login/", "admin-login"),
    ],
)
def test_each_limited_path_has_one_rate_rule_answering_429_with_retry_after(
    web_acl, method, path, rule
):
    assert rules_for(web_acl, method, path) == [rule]
    (found,) = [r for r in web_acl["Rules"] if r["Name"] == rule]
    rate = found["Statement"]["RateBasedStatement"]
    assert rate["AggregateKeyType"] == "IP"  # a CloudFront web ACL sees the viewer's address
    response = found["Action"]["Block"]["CustomResponse"]
    assert response["ResponseCode"] == 429
    assert response["ResponseHeaders"] == [
        {"Name": "Retry-After", "Value": str(rate["EvaluationWindowSec"])}
    ]
    body = web_acl["CustomResponseBodies"][response["CustomResponseBodyKey"]]
    if path.startswith("/api/"):
        assert body["ContentType"] == "APPLICATION_JSON"
        assert json.loads(body["Content"])["error"] == "rate_limited"
    else:
        assert body["ContentType"] == "TEXT_HTML"
        assert "Too many requests from your connection." in body["Content"]


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/widget/v1/artists/demo-artist/events"),
        ("GET", "/widget/v1/loader.js"),
        ("POST", "/t"),
        ("GET", "/t.gif"),
        ("GET", "/static/orders/event.js"),
        ("GET", "/e/demo-artist-berlin-2027-03-01/"),
        ("GET", "/api/v1/time"),
        ("POST", "/holds/abc/order"),
        ("GET", "/admin/login/"),
    ],
)
def test_the_cached_and_hot_paths_meet_no_rule(web_acl, method, path):
    assert rules_for(web_acl, method, path) == []


def test_the_rules_are_looser_than_the_applications_own(web_acl):
    rate = {r["Name"]: r["Statement"]["RateBasedStatement"] for r in web_acl["Rules"]}
    limits = {
        "api-holds": "holds",
        "hold-form": "holds",
        "order-lookup-form": "order_lookup",
        "api-order-lookup": "order_lookup",
        "notify": "notify",
    }
    assert set(limits) | {"admin-login"} == set(rate)
    for rule, scope in limits.items():
        requests, seconds = project_settings.RATE_LIMITS[scope]
        waf_per_second = rate[rule]["Limit"] / rate[rule]["EvaluationWindowSec"]
        assert waf_per_second > requests / seconds  # the fan meets the readable 429 first
    assert web_acl["Scope"] == "CLOUDFRONT" and web_acl["DefaultAction"] == {"Allow": {}}


def test_the_distribution_takes_the_web_acl():
    template, errors = decode(str(ROOT / "infra" / "cloudformation.yml"))
    assert not errors
    config = template["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    assert config["WebACLId"] == {
        "Fn::If": ["HasWebAcl", {"Ref": "WebAclArn"}, {"Ref": "AWS::NoValue"}]
    }
    waf, _ = decode(str(WAF))
    assert waf["Outputs"]["WebAclArn"]["Value"] == {"Fn::GetAtt": ["WebAcl", "Arn"]}
