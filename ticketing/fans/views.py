"""The public site around checkout: the home page, calendars, robots.txt, the sitemap and the
favicon. Like the event page, nothing here reads a session, a user or a CSRF token: the public
pages are cacheable by the CDN, one copy per language (`?lang=`)."""

from django.conf import settings
from django.contrib.sitemaps.views import sitemap as sitemap_view
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from ticketing.events.selectors import published_event, upcoming_events
from ticketing.orders import selectors as order_selectors

from . import calendar
from .languages import (
    content_language,
    from_param,
    language_redirect,
    request_language,
    with_language,
)
from .sitemaps import SITEMAPS

HOME_PAGE_SIZE = 24
PUBLIC_MAX_AGE = 10  # seconds, as the event page: availability labels must not age much
ROBOTS_MAX_AGE = 3600


def public(response, max_age: int = PUBLIC_MAX_AGE):
    patch_cache_control(response, public=True, max_age=max_age, s_maxage=max_age)
    return response


@require_safe
def home(request):
    """`/`: the published events still ahead, soonest first."""
    if redirected := language_redirect(request):
        return redirected
    language = from_param(request.GET["lang"])
    with translation.override(language):
        events = Paginator(
            upcoming_events().select_related("artist", "venue").prefetch_related("ticket_types"),
            HOME_PAGE_SIZE,
        ).get_page(request.GET.get("page"))
        response = render(request, "fans/home.html", {"page": events})
    return content_language(public(response), language)


@require_safe
def event_calendar(request, slug):
    event = published_event(slug)
    language = from_param(request.GET.get("lang")) or settings.LANGUAGE_CODE
    with translation.override(language):
        url = request.build_absolute_uri(with_language(event_url(event), language))
        body = calendar.event_calendar(event, url)
    return public(_ics(body, event.slug), max_age=300)


@require_safe
def order_calendar(request, code, access_key):
    order = order_selectors.order_by_access_key(code, access_key)
    language = request_language(request, order.language)
    with translation.override(language):
        body = calendar.order_calendar(
            order,
            request.build_absolute_uri(order.get_absolute_url()),
            request.build_absolute_uri(with_language(event_url(order.event), language)),
        )
    response = _ics(body, order.event.slug)
    patch_cache_control(response, private=True, no_store=True)
    return response


def event_url(event) -> str:
    return reverse("orders:event", args=[event.slug])


def _ics(body: bytes, name: str) -> HttpResponse:
    response = HttpResponse(body, content_type=calendar.CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{name}.ics"'
    return response


@require_safe
def robots_txt(request):
    lines = [
        "User-agent: *",
        # Holds and orders are addressed by secrets; the back office and the API are no pages.
        *(f"Disallow: {path}" for path in ("/admin/", "/holds/", "/orders/", "/api/", "/notify/")),
        f"Sitemap: {request.build_absolute_uri(reverse('fans:sitemap'))}",
    ]
    response = HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
    return public(response, max_age=ROBOTS_MAX_AGE)


@require_safe
def sitemap(request):
    return public(sitemap_view(request, SITEMAPS), max_age=ROBOTS_MAX_AGE)


@require_safe
def favicon(request):
    """Browsers ask for /favicon.ico whatever the page says; send them to the static icon."""
    return public(redirect(static("fans/favicon.svg"), permanent=True), max_age=86400)
