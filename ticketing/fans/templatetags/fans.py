"""Fan-page formatting in the active language: `{% load fans %}`.

{{ ticket_type.price|price:ticket_type.currency }}   39,50 €
{{ event.starts_at|local_datetime:event.venue.time_zone }}   Di., 8. Dez. 2026, 20:00
{% lang_url "orders:event" event.slug %}   /e/<slug>/?lang=de
"""

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from ticketing.fans import formats
from ticketing.fans.languages import LANGUAGE_PARAM, with_language

register = template.Library()


@register.filter
def price(amount, currency: str) -> str:
    return "" if amount is None else formats.price(amount, currency)


@register.filter
def local_datetime(moment, zone) -> str:
    return "" if moment is None else formats.datetime(moment, zone)


@register.filter
def local_date(moment, zone) -> str:
    return "" if moment is None else formats.date(moment, zone)


@register.filter
def local_time(moment, zone) -> str:
    return "" if moment is None else formats.time(moment, zone)


@register.simple_tag
def lang_url(viewname, *args, lang=None, **params) -> str:
    """The path of `viewname` with `lang` (the active language unless given) in its query."""
    return with_language(reverse(viewname, args=args), lang or translation.get_language(), **params)


@register.inclusion_tag("fans/language_switcher.html", takes_context=True)
def language_switcher(context):
    """Links to this page in each language (GET pages only: a POST's answer has no URL)."""
    request = context.get("request")
    if request is None or request.method != "GET":
        return {"links": []}
    current = translation.get_language()
    links = []
    for code, name in settings.LANGUAGES:
        query = request.GET.copy()
        query[LANGUAGE_PARAM] = code
        links.append({"code": code, "name": name, "url": f"{request.path}?{query.urlencode()}",
                      "current": code == current})  # fmt: skip
    return {"links": links}


@register.simple_tag
def intl_locale() -> str:
    """The active language's locale as JavaScript's Intl names it (`en-GB`, `de`): the pages'
    scripts format prices with the same CLDR locale as the server."""
    return str(formats.cldr_locale()).replace("_", "-")


@register.inclusion_tag("fans/alternates.html", takes_context=True)
def language_alternates(context, path=None):
    """`<link rel="alternate" hreflang>` for the page at `path` (this request's by default) in
    each language, and x-default: the URL without a language, which sends each visitor to
    their own."""
    request = context["request"]
    path = path or request.path
    links = [
        (code, request.build_absolute_uri(with_language(path, code)))
        for code, _ in settings.LANGUAGES
    ]
    return {"links": [*links, ("x-default", request.build_absolute_uri(path))]}
