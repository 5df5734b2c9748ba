"""Notify-me pages and the subscribe endpoint.

`POST /e/<slug>/notify` answers the event page's form with a page, and the widget (which sends
the same form fields with `Accept: application/json`, cross-origin, without credentials) with
JSON and `Access-Control-Allow-Origin: *`. Nothing here reads a session or sets a cookie; the
forms are CSRF-exempt like the checkout's (see ticketing/orders/views.py): no cookie carries any
authority, the signed link in the URL is the authority.
"""

from django.http import JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from ticketing.events.selectors import published_event
from ticketing.fans.languages import content_language, request_language
from ticketing.limits.clients import client_key
from ticketing.limits.errors import TooManyRequests
from ticketing.limits.http import with_retry_after
from ticketing.limits.services import check_rate

from . import services
from .services import NotifyError


def _private(response, language):
    patch_cache_control(response, private=True, no_store=True)
    return content_language(response, language)


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@csrf_exempt
@require_POST
def subscribe(request, slug):
    event = published_event(slug)
    language = request_language(request)
    with translation.override(language):
        try:
            check_rate("notify", client_key(request))  # settings.RATE_LIMITS
            services.subscribe(event, request.POST.get("email"), language=language)
        except TooManyRequests as refusal:
            error = NotifyError(refusal.code, refusal.message, refusal.status)
            return with_retry_after(_answer(request, event, language, error=error), refusal)
        except NotifyError as error:
            return _answer(request, event, language, error=error)
        return _answer(request, event, language)


def _answer(request, event, language, error=None):
    if _wants_json(request):
        if error:
            body, status = {"error": error.code, "detail": error.message}, error.status
        else:
            body = {"status": "pending", "detail": _("Check your inbox to confirm.")}
            status = 202
        response = JsonResponse(body, status=status)
        response["Access-Control-Allow-Origin"] = "*"
    else:
        context = {"event": event, "error": error}
        response = render(
            request, "notify/subscribed.html", context, status=error.status if error else 200
        )
    return _private(response, language)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def confirm(request, token):
    """GET shows a button, POST confirms: mail scanners that open links must not opt fans in."""
    return _link_page(
        request, token, services.CONFIRM_SALT, services.confirm, "notify/confirm.html"
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    """GET shows a button; POST unsubscribes, also as a mail client's one-click (RFC 8058)."""
    return _link_page(
        request, token, services.UNSUBSCRIBE_SALT, services.unsubscribe, "notify/unsubscribe.html"
    )


def _link_page(request, token, salt, action, template):
    try:
        subscription = services.subscription_for_link(token, salt)
    except NotifyError as error:
        language = request_language(request)
        with translation.override(language):
            response = render(
                request, "notify/link_error.html", {"error": error}, status=error.status
            )
        return _private(response, language)
    language = request_language(request, subscription.language)
    done = request.method == "POST"
    if done:
        subscription = action(token)
    with translation.override(language):
        context = {"subscription": subscription, "event": subscription.event, "done": done}
        response = render(request, template, context)
    return _private(response, language)
