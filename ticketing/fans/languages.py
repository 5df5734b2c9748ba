"""Which language a fan page speaks, without a cookie or a session.

The cacheable pages (event page, home page, tour page) take it from the URL alone (`?lang=de`),
so a CDN keeps one copy per language and never varies on a header. A URL without it answers a
redirect to the one with the language that the fan's `Accept-Language` prefers (see
`language_redirect`). The private pages (hold, order, lookup) follow `lang`, then the language
stored on the hold or order, then `Accept-Language`.

Django's LocaleMiddleware is not used: it would parse Accept-Language on every request (the
widget API and the beacon too), read a language cookie and add `Vary: Accept-Language` to
responses the CDN must cache as one.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.db import models
from django.http import HttpResponseRedirect
from django.utils import translation
from django.utils.cache import patch_cache_control, patch_vary_headers

LANGUAGE_CODES = tuple(code for code, _ in settings.LANGUAGES)
LANGUAGE_PARAM = "lang"


def from_param(value) -> str | None:
    """`de` for `de`, `DE` or `de-AT`; None for a language the fan pages do not speak."""
    if not isinstance(value, str):
        return None
    code = value.strip().lower().replace("_", "-").split("-")[0]
    return code if code in LANGUAGE_CODES else None


def from_accept_language(header: str | None) -> str:
    """The fan pages' language that `Accept-Language` prefers, else the default (English)."""
    for code, _quality in translation.trans_real.parse_accept_lang_header(header or ""):
        if code == "*":
            break
        if language := from_param(code):
            return language
    return settings.LANGUAGE_CODE


def request_language(request, stored: str | None = None) -> str:
    """`lang` in the query or form, else a stored choice (the hold's, the order's), else
    Accept-Language."""
    return (
        from_param(request.GET.get(LANGUAGE_PARAM) or request.POST.get(LANGUAGE_PARAM))
        or from_param(stored)
        or from_accept_language(request.headers.get("Accept-Language"))
    )


def language_field(**kwargs) -> models.CharField:
    """A fan's language, stored (on a hold, an order, a subscription) for what they see later."""
    return models.CharField(
        max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE, **kwargs
    )


def language_constraint(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(condition=models.Q(language__in=LANGUAGE_CODES), name=name)


def with_language(url: str, language: str, **params) -> str:
    """`url` with `lang` (and any `params` that are set) added to its query."""
    query = urlencode({LANGUAGE_PARAM: language, **{k: v for k, v in params.items() if v}})
    return f"{url}{'&' if '?' in url else '?'}{query}"


def language_redirect(request) -> HttpResponseRedirect | None:
    """For a cacheable page: None when the URL names a language; else a redirect to the URL
    with the one that Accept-Language prefers, the rest of the query kept.

    A redirect rather than the page itself with `Vary: Accept-Language`: Accept-Language comes
    in thousands of spellings, so a CDN keying on it would keep a copy per spelling (CloudFront
    does not honour Vary at all unless the header is in its cache key). The language URLs are
    four cache entries; the redirect costs no database query, is marked private so that no
    shared cache hands one fan's language to another, and most fans never see it: the widget's
    links carry the language.
    """
    if from_param(request.GET.get(LANGUAGE_PARAM)):
        return None
    query = request.GET.copy()
    query[LANGUAGE_PARAM] = from_accept_language(request.headers.get("Accept-Language"))
    response = HttpResponseRedirect(f"{request.path}?{query.urlencode()}")
    patch_vary_headers(response, ["Accept-Language"])
    patch_cache_control(response, private=True, max_age=0)
    return response


def content_language(response, language: str):
    response.headers["Content-Language"] = language
    return response
