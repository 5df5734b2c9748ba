"""Fan checkout pages: event -> hold -> order -> confirmation, and the order lookup.

These pages set no cookie and read no session. A hold is addressed by its secret token in the
URL, an order by its code and an access key (or code plus email in the lookup), so the event
page is cacheable by a CDN and the forms work without JavaScript.

CSRF: the form views below are `csrf_exempt` on purpose. CSRF defends actions a browser would
perform with ambient authority (a session cookie); in the fan flow no cookie carries any, so a
forged cross-site POST can do nothing the forger could not do by posting directly: take seats
for themselves, or act on a hold whose secret token they would already have to know.
"""

import uuid

from csp.decorators import csp_update
from django.conf import settings
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ticketing.events.selectors import published_event
from ticketing.fans import sharing, structured_data
from ticketing.fans.languages import (
    LANGUAGE_PARAM,
    content_language,
    from_param,
    language_redirect,
    request_language,
    with_language,
)
from ticketing.limits.clients import client_key
from ticketing.limits.http import with_retry_after
from ticketing.limits.services import check_rate
from ticketing.queue.fan import page_context as waiting_room
from ticketing.site import public_url

from . import payments, selectors, services
from .errors import CheckoutError, InvalidRequest
from .models import Hold

EVENT_PAGE_MAX_AGE = 10  # seconds; availability on the page refreshes from its own endpoint
# The artist's image is wherever the promoter keeps it (`Artist.image_url`): the event page
# alone lets images come from any HTTPS host; scripts and styles stay this site's own.
ARTIST_IMAGES = csp_update({"img-src": ["https:"]})


def _ms(moment) -> int:
    return int(moment.timestamp() * 1000)


def _event_context(request, event, request_data, *, error=None, chosen=None) -> dict:
    now = timezone.now()
    status = selectors.sale_status(event, now)
    rows = selectors.availability(event, now)
    chosen = chosen or {}
    for row in rows:
        row["chosen"] = chosen.get(row["ticket_type"].pk, 0)
        row["choices"] = range(row["max_quantity"] + 1)
    sold_out = status.code == "on_sale" and not any(row["available"] for row in rows)
    language = translation.get_language()
    path = reverse("orders:event", args=[event.slug])
    canonical_url = public_url(with_language(path, language))
    available = {row["ticket_type"].pk: row["available"] for row in rows}
    return {
        "event": event,
        "status": status,
        "rows": rows,
        "sold_out": sold_out,
        # Fans may ask to be told when tickets go on sale or come back (ticketing/notify).
        "can_notify": status.code == "not_yet_on_sale" or sold_out,
        "on_sale_at_ms": _ms(event.on_sale_at),
        "affiliate": (request_data.get("affiliate") or "")[:32],
        "click": (request_data.get("click") or "")[:64],
        "error": error,
        # With the event's waiting room on, the page is the waiting room (ticketing/queue/fan).
        "queue": waiting_room(event, now),
        "event_path": path,
        "canonical_url": canonical_url,
        # Shared links and x-default: the URL without a language, so that each reader gets
        # their own.
        "share_links": sharing.links(public_url(path), event.display_name),
        "structured_data": structured_data.as_script(
            structured_data.music_event(event, canonical_url, now, available)
        ),
    }


@ARTIST_IMAGES
@require_GET
def event_page(request, slug):
    if redirected := language_redirect(request):
        return redirected
    language = from_param(request.GET[LANGUAGE_PARAM])
    event = published_event(slug)
    with translation.override(language):
        context = _event_context(request, event, request.GET)
        response = render(request, "orders/event.html", context)
    patch_cache_control(
        response, public=True, max_age=EVENT_PAGE_MAX_AGE, s_maxage=EVENT_PAGE_MAX_AGE
    )
    return content_language(response, language)


@ARTIST_IMAGES
@csrf_exempt  # see the module docstring
@require_POST
def hold_create(request, slug):
    event = published_event(slug)
    language = request_language(request)
    chosen = {}
    with translation.override(language):
        try:
            chosen = _chosen_quantities(request.POST, event)
            items = [{"ticket_type": pk, "quantity": n} for pk, n in chosen.items() if n]
            hold = services.create_hold(
                items,
                affiliate_key=request.POST.get("affiliate"),
                click_id=request.POST.get("click"),
                language=language,
                client=client_key(request),
                queue_pass=request.POST.get("queue_pass"),
            )
        except CheckoutError as error:
            context = _event_context(request, event, request.POST, error=error, chosen=chosen)
            response = render(request, "orders/event.html", context, status=error.status)
            return with_retry_after(content_language(_private(response), language), error)
    return redirect(hold)


def _chosen_quantities(form, event) -> dict[int, int]:
    """The pickers' `qty-<ticket type id>` fields, for this event's ticket types only."""
    offered = {ticket_type.pk for ticket_type in event.ticket_type_list}
    chosen = {}
    for name, value in form.items():
        if not name.startswith("qty-"):
            continue
        try:
            ticket_type_id, quantity = int(name.removeprefix("qty-")), int(value or 0)
        except ValueError:
            raise InvalidRequest(_("Quantities are whole numbers.")) from None
        if ticket_type_id not in offered:
            raise InvalidRequest(_("That ticket type is not offered for this event."))
        chosen[ticket_type_id] = quantity
    return chosen


def _private(response):
    # Hold and order pages carry secrets in their URL and content: never cached, never shared.
    patch_cache_control(response, private=True, no_store=True)
    return response


def _render_private(request, template, context, language, *, status=200):
    """A private page in `language`; it may have followed Accept-Language, so it says so."""
    with translation.override(language):
        response = render(request, template, context, status=status)
    patch_vary_headers(response, ["Accept-Language"])
    return content_language(_private(response), language)


@require_GET
def hold_page(request, token):
    hold = selectors.hold_by_token(token)
    if hold.state == Hold.State.ORDERED:
        return redirect(hold.order)  # only the fan who held it knows this URL
    return _render_hold(request, hold, timezone.now())


def _render_hold(request, hold, now, *, error=None, values=None, status=200):
    live = hold.is_live(now)
    # A live hold whose event was cancelled or unpublished since: say why it cannot be ordered.
    refusal = selectors.order_refusal(hold.event, now) if live else None
    total, currency = selectors.hold_total(hold)
    context = {
        "hold": hold,
        "event": hold.event,
        "live": live,
        "refusal": refusal,
        "total": total,
        "currency": currency,
        "payment": payments.provider_for(None, total, currency),
        "expires_at_ms": _ms(hold.expires_at),
        "idempotency_key": uuid.uuid4(),
        "values": values or {},
        "error": error,
        "field_errors": (error.details.get("fields") or {}) if error else {},
    }
    if not live:
        status = 410
    elif refusal:
        status = 409
    language = request_language(request, hold.language)
    return _render_private(request, "orders/hold.html", context, language, status=status)


@csrf_exempt  # see the module docstring
@require_POST
def order_create(request, token):
    # The form says which language the fan ordered in; place_order falls back to the hold's.
    language = from_param(request.POST.get(LANGUAGE_PARAM))
    try:
        with translation.override(language or settings.LANGUAGE_CODE):
            order, _created = services.place_order(
                token,
                name=request.POST.get("name"),
                email=request.POST.get("email"),
                idempotency_key=request.POST.get("idempotency_key"),
                language=language,
            )
    except CheckoutError as error:
        hold = selectors.hold_by_token(token)
        if hold.state == Hold.State.ORDERED:
            return redirect(hold.order)
        values = {"name": request.POST.get("name", ""), "email": request.POST.get("email", "")}
        return _render_hold(
            request, hold, timezone.now(), error=error, values=values, status=error.status
        )
    return redirect(order)


@csrf_exempt  # see the module docstring
@require_POST
def hold_release(request, token):
    hold = selectors.hold_by_token(token)
    try:
        services.release_hold(token)
    except CheckoutError:
        return redirect(hold.order)  # it is an order already
    path = reverse("orders:event", args=[hold.event.slug])
    return redirect(with_language(path, request_language(request, hold.language)))


@require_GET
def confirmation(request, code, access_key):
    order = selectors.order_by_access_key(code, access_key)
    language = request_language(request, order.language)
    return _render_private(request, "orders/confirmation.html", {"order": order}, language)


@csrf_exempt  # see the module docstring
@require_http_methods(["GET", "POST"])
def order_lookup(request):
    language = request_language(request)
    if request.method == "GET":
        return _render_private(request, "orders/lookup.html", {"values": {}}, language)
    try:
        with translation.override(language):
            check_rate("order_lookup", client_key(request))
    except CheckoutError as error:
        context = {"values": request.POST, "error": error.message}
        page = _render_private(request, "orders/lookup.html", context, language, status=429)
        return with_retry_after(page, error)
    order = selectors.order_by_code_and_email(request.POST.get("code"), request.POST.get("email"))
    if order is not None:
        return redirect(order)
    with translation.override(language):
        error = _("We found no order with that code and email address.")
    context = {"values": request.POST, "error": error}
    return _render_private(request, "orders/lookup.html", context, language, status=404)
