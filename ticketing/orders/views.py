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

from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ticketing.events.selectors import published_event

from . import payments, selectors, services
from .errors import CheckoutError, InvalidRequest
from .models import Hold

EVENT_PAGE_MAX_AGE = 10  # seconds; availability on the page refreshes from its own endpoint


def _ms(moment) -> int:
    return int(moment.timestamp() * 1000)


def _event_context(event, request_data, *, error=None, chosen=None) -> dict:
    now = timezone.now()
    status = selectors.sale_status(event, now)
    rows = selectors.availability(event, now)
    chosen = chosen or {}
    for row in rows:
        row["chosen"] = chosen.get(row["ticket_type"].pk, 0)
        row["choices"] = range(row["max_quantity"] + 1)
    return {
        "event": event,
        "status": status,
        "rows": rows,
        "sold_out": status.code == "on_sale" and not any(row["available"] for row in rows),
        "on_sale_at_ms": _ms(event.on_sale_at),
        "affiliate": (request_data.get("affiliate") or "")[:32],
        "click": (request_data.get("click") or "")[:64],
        "error": error,
    }


@require_GET
def event_page(request, slug):
    event = published_event(slug)
    response = render(request, "orders/event.html", _event_context(event, request.GET))
    patch_cache_control(
        response, public=True, max_age=EVENT_PAGE_MAX_AGE, s_maxage=EVENT_PAGE_MAX_AGE
    )
    return response


@csrf_exempt  # see the module docstring
@require_POST
def hold_create(request, slug):
    event = published_event(slug)
    chosen = {}
    try:
        chosen = _chosen_quantities(request.POST, event)
        items = [{"ticket_type": pk, "quantity": n} for pk, n in chosen.items() if n]
        hold = services.create_hold(
            items, affiliate_key=request.POST.get("affiliate"), click_id=request.POST.get("click")
        )
    except CheckoutError as error:
        context = _event_context(event, request.POST, error=error, chosen=chosen)
        response = render(request, "orders/event.html", context, status=error.status)
        patch_cache_control(response, private=True, no_store=True)
        return response
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
            raise InvalidRequest("Quantities are whole numbers.") from None
        if ticket_type_id not in offered:
            raise InvalidRequest("That ticket type is not offered for this event.")
        chosen[ticket_type_id] = quantity
    return chosen


def _private(response):
    # Hold and order pages carry secrets in their URL and content: never cached, never shared.
    patch_cache_control(response, private=True, no_store=True)
    return response


@require_GET
def hold_page(request, token):
    hold = selectors.hold_by_token(token)
    if hold.state == Hold.State.ORDERED:
        return redirect(hold.order)  # only the fan who held it knows this URL
    now = timezone.now()
    return _private(_render_hold(request, hold, now))


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
    return render(request, "orders/hold.html", context, status=status)


@csrf_exempt  # see the module docstring
@require_POST
def order_create(request, token):
    try:
        order, _ = services.place_order(
            token,
            name=request.POST.get("name"),
            email=request.POST.get("email"),
            idempotency_key=request.POST.get("idempotency_key"),
            site_url=request.build_absolute_uri("/"),
        )
    except CheckoutError as error:
        hold = selectors.hold_by_token(token)
        if hold.state == Hold.State.ORDERED:
            return redirect(hold.order)
        values = {"name": request.POST.get("name", ""), "email": request.POST.get("email", "")}
        response = _render_hold(
            request, hold, timezone.now(), error=error, values=values, status=error.status
        )
        return _private(response)
    return redirect(order)


@csrf_exempt  # see the module docstring
@require_POST
def hold_release(request, token):
    hold = selectors.hold_by_token(token)
    try:
        services.release_hold(token)
    except CheckoutError:
        return redirect(hold.order)  # it is an order already
    return redirect("orders:event", slug=hold.event.slug)


@require_GET
def confirmation(request, code, access_key):
    order = selectors.order_by_access_key(code, access_key)
    return _private(render(request, "orders/confirmation.html", {"order": order}))


@csrf_exempt  # see the module docstring
@require_http_methods(["GET", "POST"])
def order_lookup(request):
    if request.method == "GET":
        return _private(render(request, "orders/lookup.html", {"values": {}}))
    order = selectors.order_by_code_and_email(request.POST.get("code"), request.POST.get("email"))
    if order is not None:
        return redirect(order)
    context = {
        "values": request.POST,
        "error": "We found no order with that code and email address.",
    }
    return _private(render(request, "orders/lookup.html", context, status=404))
