"""Card payments: one `Payment` per hold paid by card, and the Stripe events already handled.

A hold paid by card becomes an order only when Stripe says the money arrived
(`payment_intent.succeeded`): until then the `Payment` (state `pending`) is the fan's pending
order and the hold keeps the seats, for at most the payment window. So the order, its tickets
and the analytics revenue only ever exist for money received, and the inventory code needs no
unpaid-order state. Amounts are integers of the currency's minor unit, as Stripe takes them.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from ticketing.fans.languages import language_constraint, language_field
from ticketing.orders.models import Hold, Order


class Payment(models.Model):
    class Status(models.TextChoices):
        CREATING = "creating", "Creating"  # our row exists, the PaymentIntent may not yet
        PENDING = "pending", "Pending"  # the fan is paying (a declined card stays here)
        SUCCEEDED = "succeeded", "Succeeded"  # the order exists
        CANCELED = "canceled", "Canceled"  # the fan or the window gave the seats back
        REFUND_DUE = "refund_due", "Refund due"  # paid too late: the money goes back
        REFUNDED = "refunded", "Refunded"  # the late payment went back

    hold = models.OneToOneField(Hold, on_delete=models.PROTECT, related_name="payment")
    order = models.OneToOneField(
        Order, on_delete=models.PROTECT, null=True, blank=True, related_name="payment"
    )
    provider = models.CharField(max_length=32, default="stripe")
    # NULL until Stripe answered; webhooks find the row by the PaymentIntent's metadata too.
    intent_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    client_secret = models.CharField(max_length=255, blank=True, editable=False)
    amount = models.PositiveBigIntegerField(help_text="In the currency's minor unit.")
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CREATING)
    name = models.CharField(max_length=200)
    email = models.EmailField()
    language = language_field()
    last_error = models.CharField(max_length=500, blank=True)
    # Each declined card gets a fresh PaymentIntent (a declined one is cancelled): how many so far.
    attempts = models.PositiveSmallIntegerField(default=1)
    refund_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(status__in=["creating", "pending", "refund_due"]),
                name="payment_open",
            )
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="payment_currency_iso"
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "creating",
                        "pending",
                        "succeeded",
                        "canceled",
                        "refund_due",
                        "refunded",
                    ]
                ),
                name="payment_status_valid",
            ),
            # An order exactly when the money arrived in time.
            models.CheckConstraint(
                condition=Q(status="succeeded", order__isnull=False)
                | (~Q(status="succeeded") & Q(order__isnull=True)),
                name="payment_order_iff_succeeded",
            ),
            language_constraint("payment_language_valid"),
        ]

    def __str__(self):
        return f"{self.provider} {self.intent_id or '(new)'} {self.amount} {self.currency}"


class StripeEvent(models.Model):
    """A Stripe event handled: its id is inserted in the transaction that acts on it, so a
    redelivery (or two deliveries at once) acts once."""

    id = models.CharField(primary_key=True, max_length=255)
    type = models.CharField(max_length=100)
    received_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.type} {self.id}"
