"""The checkout JSON API under /api/v1/ (DRF, documented at /api/docs/).

No cookies carry any authority here: a hold is addressed by its secret token, an order by its
code and email. The REST_FRAMEWORK settings drop authentication, so no view reads the session
(no `Vary: Cookie`) and DRF's CSRF check never applies. The views are thin: the services hold
the rules and raise `CheckoutError`s, which `exception_handler` turns into
`{"error": <code>, "detail": <message>, …}` with the status each error names.
"""

import time

from django.conf import settings
from django.http import Http404
from django.utils import timezone
from django.utils.cache import patch_cache_control
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from ticketing.events.selectors import published_event
from ticketing.limits.clients import client_key
from ticketing.limits.http import with_retry_after
from ticketing.limits.services import check_rate
from ticketing.site import public_url

from . import selectors, services
from .errors import CheckoutError

# --- Errors ---------------------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    error = serializers.CharField(help_text="A stable code, e.g. sold_out, insufficient, invalid.")
    detail = serializers.CharField(help_text="A sentence for people.")
    available = serializers.IntegerField(required=False)
    ticket_type = serializers.IntegerField(required=False)
    fields = serializers.DictField(required=False)
    retry_after = serializers.IntegerField(
        required=False, help_text="429: seconds to wait (also the Retry-After header)."
    )


def exception_handler(exc, context):
    if isinstance(exc, CheckoutError):
        return with_retry_after(Response(exc.as_dict(), status=exc.status), exc)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"error": "invalid", "detail": "Please check the request.",
                         "fields": response.data}  # fmt: skip
    elif isinstance(exc, exceptions.ParseError):
        response.data = {"error": "malformed_json", "detail": str(exc.detail)}
    else:
        response.data = {"error": exc.default_code, "detail": str(exc.detail)}
    return response


def _errors(*codes: int) -> dict:
    return {code: OpenApiResponse(ErrorSerializer) for code in codes}


# --- Serializers ----------------------------------------------------------------------------


class HoldItemInput(serializers.Serializer):
    ticket_type = serializers.IntegerField(min_value=1)
    quantity = serializers.IntegerField(min_value=1)


class HoldInput(serializers.Serializer):
    items = HoldItemInput(many=True, allow_empty=False, max_length=services.MAX_ITEMS_PER_HOLD)
    affiliate = serializers.CharField(
        required=False, allow_blank=True, max_length=64, help_text="Affiliate public key."
    )
    click = serializers.CharField(
        required=False, allow_blank=True, max_length=64, help_text="The widget's click id."
    )
    language = serializers.ChoiceField(
        choices=settings.LANGUAGES,
        required=False,
        help_text="The fan's language: the hold's page, the order's page and its emails speak "
        "it (default: English).",
    )
    queue_pass = serializers.CharField(
        required=False, allow_blank=True, max_length=400,
        help_text="The admission pass from the event's waiting room (POST /q/<event>/pass), "
        "needed while the waiting room is on.",
    )  # fmt: skip


class HoldItemOutput(serializers.Serializer):
    ticket_type = serializers.IntegerField(source="ticket_type_id")
    name = serializers.CharField(source="ticket_type.name")
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(
        source="ticket_type.price", max_digits=10, decimal_places=2
    )


class HoldOutput(serializers.Serializer):
    token = serializers.CharField()
    event = serializers.SlugField(source="event.slug")
    state = serializers.CharField()
    language = serializers.CharField()
    expires_at = serializers.DateTimeField()
    items = HoldItemOutput(many=True, source="item_list")
    total = serializers.SerializerMethodField()
    currency = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField(help_text="The hold's page, to finish in a browser.")

    def get_total(self, hold) -> str:
        return str(selectors.hold_total(hold)[0])

    def get_currency(self, hold) -> str:
        return selectors.hold_total(hold)[1]

    def get_url(self, hold) -> str:
        return public_url(hold.get_absolute_url())


class OrderInput(serializers.Serializer):
    name = serializers.CharField(max_length=200, allow_blank=True)
    email = serializers.CharField(max_length=254, allow_blank=True)
    payment = serializers.CharField(
        required=False, allow_blank=True, max_length=32, help_text="Payment provider key."
    )
    language = serializers.ChoiceField(
        choices=settings.LANGUAGES, required=False, help_text="Default: the hold's language."
    )


class TicketOutput(serializers.Serializer):
    ticket_type = serializers.IntegerField(source="ticket_type_id")
    name = serializers.CharField(source="ticket_type.name")
    price = serializers.DecimalField(max_digits=10, decimal_places=2)
    code = serializers.CharField(source="signed_secret", help_text="What the QR code encodes.")


class OrderOutput(serializers.Serializer):
    code = serializers.CharField()
    state = serializers.CharField()
    event = serializers.SlugField(source="event.slug")
    name = serializers.CharField()
    email = serializers.EmailField()
    total = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    payment_provider = serializers.CharField()
    payment_status = serializers.CharField()
    language = serializers.CharField()
    created_at = serializers.DateTimeField()
    tickets = TicketOutput(many=True)
    url = serializers.SerializerMethodField(help_text="The confirmation page with QR codes.")

    def get_url(self, order) -> str:
        return public_url(order.get_absolute_url())


def _private_response(serializer, obj, code=status.HTTP_200_OK) -> Response:
    """A hold or an order: for its holder only, never stored by a cache."""
    response = Response(serializer(obj).data, status=code)
    patch_cache_control(response, private=True, no_store=True)
    return response


# --- Views ----------------------------------------------------------------------------------


class ServerTime(APIView):
    @extend_schema(
        summary="The server's clock",
        description="For countdowns: correct the device clock by the offset to this one.",
        responses=inline_serializer("ServerTime", {"now": serializers.IntegerField()}),
    )
    def get(self, request):
        response = Response({"now": time.time_ns() // 1_000_000})
        patch_cache_control(response, no_store=True)
        return response


class EventAvailability(APIView):
    @extend_schema(
        summary="What an event has left",
        description="Cacheable for 5 s by browsers and CDNs; lapsed holds count as free.",
        responses=inline_serializer(
            "Availability",
            {
                "event": serializers.SlugField(),
                "status": serializers.CharField(),
                "on_sale_at": serializers.DateTimeField(),
                "ticket_types": inline_serializer(
                    "TicketTypeAvailability",
                    {
                        "id": serializers.IntegerField(),
                        "available": serializers.IntegerField(),
                        "max_quantity": serializers.IntegerField(),
                    },
                    many=True,
                ),
            },
        ),
    )
    def get(self, request, slug):
        event = published_event(slug)
        now = timezone.now()
        rows = selectors.availability(event, now)
        response = Response(
            {
                "event": event.slug,
                "status": selectors.sale_status(event, now).code,
                "on_sale_at": event.on_sale_at,
                "ticket_types": [
                    {
                        "id": row["ticket_type"].pk,
                        "available": row["available"],
                        "max_quantity": row["max_quantity"],
                    }
                    for row in rows
                ],
            }
        )
        patch_cache_control(response, public=True, max_age=5, s_maxage=5)
        return response


class Holds(APIView):
    @extend_schema(
        summary="Hold tickets",
        description="All or nothing: if any item cannot be had, nothing is held. The hold "
        "lasts the event's hold time; turn it into an order before `expires_at`.",
        request=HoldInput,
        responses={201: HoldOutput, **_errors(400, 403, 409, 429)},
    )
    def post(self, request):
        data = _valid(HoldInput, request.data)
        hold = services.create_hold(
            data["items"],
            affiliate_key=data.get("affiliate"),
            click_id=data.get("click"),
            language=data.get("language"),
            client=client_key(request),
            queue_pass=data.get("queue_pass"),
        )
        return _private_response(HoldOutput, hold, status.HTTP_201_CREATED)


class HoldDetail(APIView):
    @extend_schema(summary="A hold", responses={200: HoldOutput, **_errors(404)})
    def get(self, request, token):
        return _private_response(HoldOutput, selectors.hold_by_token(token))

    @extend_schema(
        summary="Release a hold",
        description="Gives the seats back. Releasing a lapsed or released hold is a no-op.",
        responses={204: None, **_errors(404, 409)},
    )
    def delete(self, request, token):
        services.release_hold(token)
        return Response(status=status.HTTP_204_NO_CONTENT)


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="A fresh random value per order attempt; resending it returns the same order.",
)


class HoldOrder(APIView):
    @extend_schema(
        summary="Order what a hold holds",
        parameters=[IDEMPOTENCY_KEY],
        request=OrderInput,
        responses={201: OrderOutput, **_errors(400, 404, 409, 422)},
    )
    def post(self, request, token):
        data = _valid(OrderInput, request.data)
        order, created = services.place_order(
            token,
            name=data["name"],
            email=data["email"],
            idempotency_key=request.headers.get("Idempotency-Key"),
            payment_provider=data.get("payment") or None,
            language=data.get("language"),
        )
        order = selectors.order_by_access_key(order.code, order.access_key)
        response = _private_response(OrderOutput, order, status.HTTP_201_CREATED)
        if not created:
            response["Idempotent-Replayed"] = "true"
        return response


class OrderDetail(APIView):
    @extend_schema(
        summary="Look up an order",
        parameters=[OpenApiParameter("email", OpenApiTypes.EMAIL, required=True)],
        responses={200: OrderOutput, **_errors(400, 404, 429)},
    )
    def get(self, request, code):
        check_rate("order_lookup", client_key(request))
        email = request.query_params.get("email", "")
        if not email:
            raise exceptions.ValidationError({"email": ["The order's email address is required."]})
        order = selectors.order_by_code_and_email(code, email)
        if order is None:
            raise Http404
        return _private_response(OrderOutput, order)


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
