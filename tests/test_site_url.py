"""Absolute links in API answers, emails and embed snippets come from SITE_URL, whatever Host,
X-Forwarded-Host or stage prefix the request came with; `check --deploy` insists on SITE_URL."""

import pytest
from django.core import checks, mail
from django.urls import reverse

from ticketing.events.models import Membership
from ticketing.orders.models import Order
from ticketing.site import public_url

from .checkout import event_on_sale
from .conftest import make_staff

pytestmark = pytest.mark.django_db

SITE = "https://tickets.example.com"
RAW_API = "abc123.execute-api.eu-central-1.amazonaws.com"


@pytest.fixture
def public_site(settings):
    settings.SITE_URL = SITE
    settings.ALLOWED_HOSTS = ["tickets.example.com", ".execute-api.eu-central-1.amazonaws.com"]
    settings.USE_X_FORWARDED_HOST = True


@pytest.mark.parametrize(
    "request_headers",
    [
        {"Host": RAW_API},  # the raw API Gateway URL
        {"X-Forwarded-Host": RAW_API, "X-Forwarded-Proto": "http"},  # a forwarded name
    ],
)
def test_api_and_email_links_are_on_site_url(
    client, public_site, django_capture_on_commit_callbacks, request_headers
):
    _, (ga,), _ = event_on_sale("alpha", capacities=(10,))
    hold = client.post(
        "/api/v1/holds", {"items": [{"ticket_type": ga.pk, "quantity": 1}]},
        content_type="application/json", headers=request_headers,
    ).json()  # fmt: skip
    assert hold["url"] == f"{SITE}/holds/{hold['token']}/"

    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(
            f"/api/v1/holds/{hold['token']}/order", {"name": "Ada", "email": "ada@example.com"},
            content_type="application/json", headers=request_headers,
        ).json()  # fmt: skip
    order = Order.objects.get()
    assert answer["url"] == f"{SITE}{order.get_absolute_url()}"
    (email,) = mail.outbox
    html = email.alternatives[0][0]
    for text in (email.body, html):
        assert f"{SITE}{order.get_absolute_url()}" in text
        assert f"{SITE}/orders/lookup/" in text
        assert RAW_API not in text


def test_a_stage_prefix_of_the_request_stays_out_of_links(client, public_site):
    """On the raw execute-api URL, Zappa sets SCRIPT_NAME=/production: the request's own links
    carry it, the public origin's do not."""
    _, (ga,), _ = event_on_sale("alpha", capacities=(10,))
    response = client.post(
        "/api/v1/holds", {"items": [{"ticket_type": ga.pk, "quantity": 1}]},
        content_type="application/json", SCRIPT_NAME="/production", HTTP_HOST=RAW_API,
    )  # fmt: skip
    assert response.status_code == 201
    assert response.json()["url"] == f"{SITE}/holds/{response.json()['token']}/"


def test_public_url_keeps_absolute_urls_and_joins_a_site_with_a_path(settings):
    settings.SITE_URL = "https://example.com/tickets/"
    assert public_url("/e/show/") == "https://example.com/tickets/e/show/"
    for elsewhere in ("https://cdn.example.com/static/a.js", "//cdn.example.com/static/a.js"):
        assert public_url(elsewhere) == elsewhere


def test_embed_snippets_in_the_back_office_are_on_site_url(client, public_site, promoter_a):
    client.force_login(make_staff("viewer", promoter_a["promoter"], Membership.Role.VIEWER))
    url = reverse("admin:events_artist_change", args=[promoter_a["artist"].pk])
    response = client.get(url, headers={"Host": RAW_API})
    snippet = dict(response.context["embed_snippets"])["Without affiliate"]
    assert f'<script async src="{SITE}/widget/v1/loader.js"></script>' in snippet
    assert RAW_API not in snippet


def deploy_issues() -> dict[str, str]:
    found = checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.security])
    return {issue.id: issue.msg for issue in found if issue.id.startswith("orders.")}


@pytest.mark.parametrize(
    "site_url, allowed_hosts, expected",
    [
        ("", ["tickets.example.com"], {"orders.E002"}),
        ("tickets.example.com", ["tickets.example.com"], {"orders.E001"}),
        ("https://tickets.example.com?x=1", ["tickets.example.com"], {"orders.E001"}),
        ("http://tickets.example.com", ["tickets.example.com"], {"orders.W001"}),
        ("https://elsewhere.example.com", ["tickets.example.com"], {"orders.W002"}),
        ("https://tickets.example.com", [".example.com"], set()),
    ],
)
def test_check_deploy_wants_a_site_url_the_site_answers_to(
    settings, site_url, allowed_hosts, expected
):
    settings.SITE_URL = site_url
    settings.ALLOWED_HOSTS = allowed_hosts
    settings.TICKET_SIGNING_KEYS = ["k1:" + "A" * 43]
    assert set(deploy_issues()) == expected
