"""The widget's endpoints. The API, the loader and the tour page are fetched by fans' browsers from
artists' and affiliates' sites through the CDN: they read nothing of the session, the user or the
CSRF token (see widget/http.py)."""

import json

from django.conf import settings
from django.http import Http404
from django.shortcuts import render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.http import require_safe

from ticketing.events.models import AFFILIATE_KEY, ARTIST_SLUG, Event
from ticketing.fans import structured_data
from ticketing.fans.languages import (
    LANGUAGE_PARAM,
    content_language,
    from_param,
    language_redirect,
    with_language,
)
from ticketing.site import public_url

from . import payload, selectors, snippets
from .cache import origin_cache
from .http import api_cache_control, cacheable, error_cache_control, json_error


class BadParameter(ValueError):
    pass


def parse_limit(raw: str | None) -> int:
    """`limit`: a positive whole number, capped at WIDGET_MAX_EVENTS; all events if absent."""
    most = settings.WIDGET_MAX_EVENTS
    if raw is None:
        return most
    digits = raw.lstrip("0")
    if not (raw.isascii() and raw.isdigit() and digits):
        raise BadParameter(f"limit must be a whole number from 1 to {most}, not “{raw[:20]}”.")
    return most if len(digits) > 6 else min(int(digits), most)


def parse_affiliate(raw: str | None) -> str | None:
    """`affiliate`: a public key; one that cannot be a key is ignored like an unknown one."""
    return raw if raw and AFFILIATE_KEY.fullmatch(raw) else None


@require_safe
def artist_events(request, slug):
    """GET /widget/v1/artists/<slug>/events: the artist's published upcoming events."""
    try:
        limit = parse_limit(request.GET.get("limit"))
    except BadParameter as error:
        return json_error(request, 400, "bad_parameter", str(error))
    affiliate = parse_affiliate(request.GET.get("affiliate"))
    key = (slug, affiliate, limit)  # everything the body depends on (its links: SITE_URL)
    entry = origin_cache.fresh(key) or _build(key, slug, affiliate, limit)
    return cacheable(
        request,
        entry.body,
        etag=entry.etag,
        status=entry.status,
        content_type="application/json",
        cache_control=api_cache_control() if entry.status == 200 else error_cache_control(),
    )


def _build(key, slug: str, affiliate: str | None, limit: int):
    now = timezone.now()
    tour = None
    if ARTIST_SLUG.fullmatch(slug):
        tour = selectors.artist_tour(slug, affiliate_key=affiliate, limit=limit, now=now)
    if tour is None:
        content = payload.error_content("not_found", f"No artist “{slug[:60]}”.")
        return origin_cache.keep(key, 404, content, render=bytes)
    tickets_url = payload.tickets_url_builder(tour.affiliate_key)
    content = payload.tour_content(tour, tickets_url)
    return origin_cache.keep(key, 200, content, lambda c: payload.with_generated_at(c, now))


@require_safe
def loader(request):
    """GET /widget/v1/loader.js: tiny and short-cached; it loads the content-hashed bundle,
    which whitenoise (or the CDN in front of S3) serves with a one-year immutable cache."""
    bundle_url = public_url(static("widget/tour-widget.js"))
    api_url = public_url("/").rstrip("/")
    body = render_to_string(
        "widget/loader.js", {"bundle_url": json.dumps(bundle_url), "api_url": json.dumps(api_url)}
    ).encode()
    return cacheable(
        request,
        body,
        content_type="text/javascript; charset=utf-8",
        cache_control=f"public, max-age={settings.WIDGET_LOADER_MAX_AGE}",
    )


@require_safe
def tour_page(request, slug):
    """The `<noscript>` fallback: the same list as plain HTML, with links to the checkout."""
    if not ARTIST_SLUG.fullmatch(slug):
        raise Http404("No such artist.")
    if redirected := language_redirect(request):
        return redirected
    affiliate = parse_affiliate(request.GET.get("affiliate"))
    now = timezone.now()
    tour = selectors.artist_tour(
        slug, affiliate_key=affiliate, limit=settings.WIDGET_MAX_EVENTS, now=now
    )
    if tour is None:
        raise Http404("No such artist.")
    language = from_param(request.GET[LANGUAGE_PARAM])
    tickets_url = payload.tickets_url_builder(tour.affiliate_key)
    with translation.override(language):
        context = {
            "tour": tour,
            "events": [
                (event, with_language(tickets_url(event.slug), language)) for event in tour.events
            ],
            "structured_data": tour_structured_data(tour, language, now),
        }
        body = render_to_string("widget/tour_page.html", context, request=request).encode()
    response = cacheable(
        request, body, content_type="text/html; charset=utf-8", cache_control=api_cache_control()
    )
    return content_language(response, language)


def tour_structured_data(tour, language: str, now) -> str:
    """The tour's shows as schema.org MusicEvents, built as the event page builds its own (a few
    queries more than the list: this page is cached like the API, and is no hot path)."""
    events = (
        Event.objects.filter(pk__in=[event.id for event in tour.events])
        .select_related("artist__promoter", "venue")
        .prefetch_related("ticket_types")
        .order_by("starts_at", "pk")
    )
    return structured_data.as_script([
        structured_data.music_event(
            event,
            public_url(with_language(reverse("orders:event", args=[event.slug]), language)),
            now,
        )
        for event in events
    ])  # fmt: skip


def demo(request):
    """/widget/demo/: the snippet to copy and the live widget, with a few options to try."""
    # Imported here: the demo module seeds through the order services (emails, calendars), which
    # a cold container serving the widget API should not import.
    from ticketing.events.demo import DEMO_ARTIST_SLUG

    options = snippets.WidgetOptions.from_query(request.GET, default_artist=DEMO_ARTIST_SLUG)
    context = {
        "options": options,
        "snippet": snippets.embed_snippet(options),
        "tour_page_url": snippets.tour_page_url(options),
        "themes": snippets.THEMES,
        "languages": snippets.LANGUAGES,
        "api_url": public_url(reverse("widget:artist-events", args=[options.artist])),
    }
    return render(request, "widget/demo.html", context)
