"""The fan's card payment pages and Stripe's webhook. Thin: the work is in `services`.

Like the hold page, these are addressed by the hold's secret token and take no session or CSRF
cookie (the token is the credential; see `ticketing.orders.views`). Only the payment page loads
Stripe.js, so only its Content-Security-Policy names Stripe's origins.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect
from django.utils import timezone, translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from ticketing.fans.languages import LANGUAGE_PARAM, from_param, request_language
from ticketing.inputs import BadJSON, parse_json
from ticketing.orders import selectors as order_selectors
from ticketing.orders.errors import CheckoutError
from ticketing.orders.views import _private, _render_hold, _render_private

from . import services, webhooks
from .models import Payment


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _stripe_csp() -> dict:
    js = _origin(settings.STRIPE_JS_URL)
    api = (
        _origin(settings.STRIPE_API_BASE) if settings.STRIPE_API_BASE else "https://api.stripe.com"
    )
    return {
        "script-src": [js],
        "frame-src": [js, "https://hooks.stripe.com"],
        "connect-src": [api],
    }


@csrf_exempt  # see the module docstring
@require_POST
def start(request, token):
    """The hold form's submit when the fan pays by card: the payment, then its page."""
    language = from_param(request.POST.get(LANGUAGE_PARAM))
    try:
        with translation.override(language or settings.LANGUAGE_CODE):
            services.start_payment(
                token,
                name=request.POST.get("name"),
                email=request.POST.get("email"),
                language=language,
            )
    except CheckoutError as error:
        hold = order_selectors.hold_by_token(token)
        values = {"name": request.POST.get("name", ""), "email": request.POST.get("email", "")}
        return _render_hold(
            request, hold, timezone.now(), error=error, values=values, status=error.status
        )
    return redirect("payments:pay", token)


@require_GET
def pay(request, token):
    hold = order_selectors.hold_by_token(token)
    try:
        payment = services.payment_for_hold(token)
    except CheckoutError:
        return redirect(hold)
    if payment.status == Payment.Status.SUCCEEDED:
        return redirect(payment.order)
    total, currency = order_selectors.hold_total(hold)
    context = {
        "hold": hold,
        "event": hold.event,
        "payment": payment,
        "open": payment.status in services.OPEN,
        "total": total,
        "currency": currency,
        "expires_at_ms": int(hold.expires_at.timestamp() * 1000),
        "stripe_js_url": settings.STRIPE_JS_URL,
        "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
    }
    language = request_language(request, payment.language)
    response = _render_private(request, "payments/pay.html", context, language)
    response._csp_update = _stripe_csp()
    return response


@csrf_exempt  # see the module docstring
@require_POST
def card(request, token):
    """JSON `{"token": "tok_…"}` from Stripe.js: confirm the payment with that card."""
    try:
        body = parse_json(request.body or b"{}")
    except BadJSON:
        body = {}  # no card token: pay_with_card says so
    payment = Payment.objects.filter(hold__token=token).only("language").first()
    language = payment.language if payment else settings.LANGUAGE_CODE
    try:
        with translation.override(language):
            card_token = body.get("token") if isinstance(body, dict) else None
            payment = services.pay_with_card(token, card_token)
    except CheckoutError as error:
        return _private(JsonResponse(error.as_dict(), status=error.status))
    answer = {"intent_status": payment.intent_status, "client_secret": payment.client_secret}
    return _private(JsonResponse(answer))


@require_GET
def status(request, token):
    """What the payment page shows: polled until the webhook has placed the order."""
    try:
        payment = services.payment_for_hold(token)
    except CheckoutError as error:
        return _private(JsonResponse(error.as_dict(), status=error.status))
    answer = {"status": payment.status}
    if payment.order_id:
        answer["order_url"] = payment.order.get_absolute_url()
    return _private(JsonResponse(answer))


@csrf_exempt  # Stripe signs it; there is no session
def stripe_webhook(request):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        event = webhooks.verify(request.body, request.headers.get("Stripe-Signature"))
    except webhooks.BadSignature:
        return HttpResponse("Bad signature", status=400, content_type="text/plain")
    webhooks.handle(event)
    return HttpResponse(status=200)
