"""System checks of what links and tickets depend on: SITE_URL and the ticket signing keys.
`manage.py check --deploy` fails without either when DEBUG is off."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.http.request import validate_host

from . import ticket_codes


def _is_origin(url: str) -> bool:
    parts = urlsplit(url)
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and not (parts.query or parts.fragment)
    )


@checks.register(checks.Tags.security)
def check_site_url(app_configs, **kwargs):
    url = settings.SITE_URL
    if not url or _is_origin(url):
        return []  # an empty one: the deploy check says what that means
    return [
        checks.Error(
            f"SITE_URL {url!r} is not an origin such as https://tickets.example.com.",
            id="orders.E001",
        )
    ]


@checks.register(checks.Tags.security, deploy=True)
def check_site_url_deploy(app_configs, **kwargs):
    if settings.DEBUG:
        return []
    url = settings.SITE_URL
    if not url:
        return [
            checks.Error(
                "SITE_URL is not set: links in emails and API answers would have no host.",
                hint="Set SITE_URL to the public origin, e.g. https://tickets.example.com.",
                id="orders.E002",
            )
        ]
    if not _is_origin(url):
        return []  # orders.E001 says so
    found = []
    parts = urlsplit(url)
    if parts.scheme != "https":
        found.append(checks.Warning(f"SITE_URL {url!r} is not https.", id="orders.W001"))
    if parts.hostname and not validate_host(parts.hostname, settings.ALLOWED_HOSTS):
        found.append(
            checks.Warning(
                f"SITE_URL's host {parts.hostname!r} is not in ALLOWED_HOSTS: its links would "
                "lead to 400 Bad Request.",
                id="orders.W002",
            )
        )
    return found


@checks.register(checks.Tags.security)
def check_ticket_signing_keys(app_configs, **kwargs):
    try:
        ticket_codes.parse_entries(settings.TICKET_SIGNING_KEYS)
    except ImproperlyConfigured as error:
        return [checks.Error(str(error), id="orders.E003")]
    return []


@checks.register(checks.Tags.security, deploy=True)
def check_ticket_signing_keys_deploy(app_configs, **kwargs):
    if settings.DEBUG or settings.TICKET_SIGNING_KEYS:
        return []
    return [
        checks.Error(
            "TICKET_SIGNING_KEYS is not set: tickets would be signed with a key derived from "
            "SECRET_KEY, and rotating SECRET_KEY would void every ticket sold.",
            hint="`manage.py new_ticket_key` prints a key; put it in the stage's secret "
            "(docs/deploy.md).",
            id="orders.E004",
        )
    ]
