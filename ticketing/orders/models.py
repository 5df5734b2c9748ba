"""Holds, orders and tickets: what a fan has reserved, bought and carries to the door.

The inventory itself lives on `TicketType.sold` / `TicketType.held`; these rows say *who* holds or
owns those seats. The services in `services.py` keep both in step, inside one transaction each,
and the constraints below hold the rules no code path may break.
"""

import secrets

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from ticketing.events.models import Affiliate, Event, TicketType
from ticketing.fans.languages import language_constraint, language_field
from ticketing.owned_fields import InventoryManager, OwnedFieldsMixin, OwnedFieldsQuerySet

from . import ticket_codes

# Human-friendly order codes: no 0/O, 1/I/L, so a code read out over the phone is unambiguous.
ORDER_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
ORDER_CODE_LENGTH = 8  # 31^8 ≈ 8.5e11 codes


def new_token() -> str:
    return secrets.token_urlsafe(24)


def new_order_code() -> str:
    return "".join(secrets.choice(ORDER_CODE_ALPHABET) for _ in range(ORDER_CODE_LENGTH))


class Hold(OwnedFieldsMixin, models.Model):
    """Seats set aside for one fan until `expires_at`; addressed only by its secret token.

    Its `state` is the inventory's (see `ticketing.owned_fields`): it moves with the seats.
    """

    owned_fields = frozenset({"state"})

    class State(models.TextChoices):
        ACTIVE = "active", "Active"
        ORDERED = "ordered", "Ordered"
        RELEASED = "released", "Released"
        EXPIRED = "expired", "Expired"

    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="holds")
    state = models.CharField(max_length=16, choices=State.choices, default=State.ACTIVE)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    affiliate = models.ForeignKey(
        Affiliate, on_delete=models.SET_NULL, null=True, blank=True, related_name="holds"
    )
    click_id = models.UUIDField(null=True, blank=True, help_text="The widget's click hit id.")
    language = language_field()
    # A keyed hash of the fan's network (ticketing/limits/clients.py): the per-client cap.
    client = models.CharField(max_length=32, blank=True, default="", editable=False)
    # The waiting room's admission pass this hold was made with (ticketing/queue/gate.py).
    queue_pass = models.CharField(  # noqa: DJ001 (NULL: the unique constraint binds passes only)
        max_length=40, null=True, blank=True, editable=False
    )

    objects = OwnedFieldsQuerySet.as_manager()
    inventory = InventoryManager.from_queryset(OwnedFieldsQuerySet)()  # orders.services only

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["event", "client"],
                condition=Q(state="active"),
                name="hold_active_event_client",
            ),
            # Lapsed-hold lookups touch only active holds: per event on the buying path, all
            # of them in the minutely cleanup.
            models.Index(
                fields=["event", "expires_at"],
                condition=Q(state="active"),
                name="hold_active_event_expiry",
            ),
            models.Index(
                fields=["expires_at"], condition=Q(state="active"), name="hold_active_expiry"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["active", "ordered", "released", "expired"]),
                name="hold_state_valid",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")), name="hold_expires_later"
            ),
            language_constraint("hold_language_valid"),
            # An admission pass makes at most one active hold: the database says so.
            models.UniqueConstraint(
                fields=["event", "queue_pass"],
                condition=Q(state="active"),
                name="hold_one_active_per_queue_pass",
            ),
        ]

    def __str__(self):
        return f"Hold {self.token[:6]}… ({self.get_state_display()})"

    def get_absolute_url(self):
        return reverse("orders:hold", args=[self.token])

    def is_live(self, now) -> bool:
        return self.state == self.State.ACTIVE and self.expires_at > now


class HoldItem(models.Model):
    hold = models.ForeignKey(Hold, on_delete=models.CASCADE, related_name="items")
    ticket_type = models.ForeignKey(TicketType, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["ticket_type_id"]
        constraints = [
            models.UniqueConstraint(fields=["hold", "ticket_type"], name="holditem_unique_type"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="holditem_quantity"),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.ticket_type_id}"


class Order(OwnedFieldsMixin, models.Model):
    """What a fan bought. Once placed it is checkout's record: staff may correct the fan's name
    and email, while `state`, `cancelled_at` and `payment_status` move only through the
    services (see `ticketing.owned_fields`), so a change form opened before a cancel cannot
    undo it."""

    owned_fields = frozenset({"state", "cancelled_at", "payment_status"})

    class State(models.TextChoices):
        CONFIRMED = "confirmed", "Confirmed"
        CANCELLED = "cancelled", "Cancelled"

    class PaymentStatus(models.TextChoices):
        # Fans read these on their order (in their language); the back office too.
        PAID = "paid", gettext_lazy("Paid")
        DUE = "due", gettext_lazy("Due at the venue")
        PENDING = "pending", gettext_lazy("Pending")

    code = models.CharField(max_length=16, unique=True, default=new_order_code, editable=False)
    # An access key for links (confirmation page, email): the code alone is meant to be read out
    # loud, so it must not be enough to open the tickets.
    access_key = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="orders")
    # One order per hold: the database, not a check in Python, stops a double submit.
    hold = models.OneToOneField(Hold, on_delete=models.PROTECT, related_name="order")
    name = models.CharField(max_length=200)
    email = models.EmailField()
    total = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    state = models.CharField(max_length=16, choices=State.choices, default=State.CONFIRMED)
    payment_provider = models.CharField(max_length=32)
    payment_status = models.CharField(max_length=16, choices=PaymentStatus.choices)
    affiliate = models.ForeignKey(
        Affiliate, on_delete=models.SET_NULL, null=True, blank=True, related_name="orders"
    )
    click_id = models.UUIDField(null=True, blank=True)
    language = language_field(help_text="The fan's language: the emails and pages speak it.")
    # NULL, not "", when absent: the unique constraint then binds only the keys clients sent.
    idempotency_key = models.CharField(  # noqa: DJ001
        max_length=255, null=True, blank=True, editable=False
    )
    # What the request that made the order carried (services.request_fingerprint): a key sent
    # again with anything else is refused, as draft-ietf-httpapi-idempotency-key-header asks.
    idempotency_fingerprint = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    objects = OwnedFieldsQuerySet.as_manager()
    inventory = InventoryManager.from_queryset(OwnedFieldsQuerySet)()  # orders.services only

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["event", "created_at"], name="order_event_created"),
            models.Index(fields=["affiliate", "created_at"], name="order_affiliate_created"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["idempotency_key"], name="order_idempotency_key"),
            models.CheckConstraint(
                condition=Q(state__in=["confirmed", "cancelled"]), name="order_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(payment_status__in=["paid", "due", "pending"]),
                name="order_payment_status_valid",
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_positive"),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="order_currency_iso"
            ),
            models.CheckConstraint(
                condition=Q(state="cancelled", cancelled_at__isnull=False)
                | Q(state="confirmed", cancelled_at__isnull=True),
                name="order_cancelled_at",
            ),
            language_constraint("order_language_valid"),
        ]

    def __str__(self):
        return self.code

    def get_absolute_url(self):
        return reverse("orders:confirmation", args=[self.code, self.access_key])


class TicketQuerySet(OwnedFieldsQuerySet):
    def live(self):
        """Tickets not refunded: they admit at the door and count as sold."""
        return self.filter(voided_at=None)


class Ticket(OwnedFieldsMixin, models.Model):
    """One seat of an order. Its QR code carries its secret, signed with a ticket signing key.

    `voided_at` is the inventory's (see `ticketing.owned_fields`): set when the ticket is
    refunded (`services.void_tickets`), after which its seat is no longer the order's."""

    owned_fields = frozenset({"voided_at"})

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="tickets")
    ticket_type = models.ForeignKey(TicketType, on_delete=models.PROTECT, related_name="tickets")
    price = models.DecimalField(max_digits=10, decimal_places=2)
    secret = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    voided_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = TicketQuerySet.as_manager()
    inventory = InventoryManager.from_queryset(TicketQuerySet)()  # orders.services only

    class Meta:
        ordering = ["order_id", "ticket_type_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="ticket_price_positive"),
        ]

    def __str__(self):
        return f"{self.order_id}/{self.pk}"

    @property
    def signed_secret(self) -> str:
        """What the QR code encodes (`ticket_codes`); `selectors.ticket_from_scan` checks it."""
        return ticket_codes.sign(self.order.event_id, self.secret)
