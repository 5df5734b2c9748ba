"""Refunds, the jobs that refund a cancelled event's orders, and postponements.

Money is an integer of the currency's minor unit here (cents, or yen), as it is at the Stripe
boundary: `Refund.amount` is what Stripe is asked for and answers, byte for byte.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from ticketing.events.models import Event
from ticketing.orders.models import Order, Ticket

REFUND_STATES = ["pending", "requested", "succeeded", "failed", "canceled", "recorded"]


class Refund(models.Model):
    """Money given back for some tickets of one order (all of them, for a full refund).

    Written before the provider is asked (state `pending`, with its idempotency key), so a run
    that dies between the two is recognised and completed when resumed, never refunded twice.
    Orders paid at the venue or free are refunded without a provider: `recorded`."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"  # written; the provider not asked yet, or not answered
        REQUESTED = "requested", "Requested"  # the provider took it; its webhook tells the rest
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Canceled"
        RECORDED = "recorded", "Recorded (no card payment)"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    amount = models.BigIntegerField(help_text="In the currency's minor unit (cents; yen).")
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=500)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    provider = models.CharField(max_length=32, help_text="The order's payment provider.")
    provider_refund_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    idempotency_key = models.CharField(max_length=100, unique=True)
    restock = models.BooleanField(help_text="Whether the seats went back on sale.")
    job = models.ForeignKey(
        "RefundJob", on_delete=models.PROTECT, null=True, blank=True, related_name="refunds"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(default=timezone.now)
    # Set (committed) just before the provider is asked: a pending refund that has it may have
    # reached the provider, so the next run looks for it there before asking again.
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitting_until = models.DateTimeField(null=True, blank=True)  # a submitter's claim
    updated_at = models.DateTimeField(auto_now=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="refund_amount_positive"),
            models.CheckConstraint(condition=Q(state__in=REFUND_STATES), name="refund_state_valid"),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="refund_currency_iso"
            ),
            # One refund per order in a job: a resumed job never refunds an order again.
            models.UniqueConstraint(
                fields=["job", "order"], condition=Q(job__isnull=False), name="refund_once_per_job"
            ),
        ]

    def __str__(self):
        return f"Refund {self.pk} of {self.order_id}"


class RefundedTicket(models.Model):
    """A ticket a refund paid back: each ticket at most once, by the database."""

    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="lines")
    ticket = models.OneToOneField(Ticket, on_delete=models.PROTECT, related_name="refund_line")
    amount = models.BigIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="refundedticket_amount"),
        ]

    def __str__(self):
        return f"Ticket {self.ticket_id} in refund {self.refund_id}"


class RefundJob(models.Model):
    """ "Refund every order" of a cancelled event, in the background: resumable, idempotent.

    A runner leases the job (`leased_until`), refunds its orders a batch at a time and lets the
    lease go; a runner that dies leaves the job to the next one once the lease ends (the
    schedule, or `manage.py run_refund_jobs`)."""

    class State(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"

    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="refund_jobs")
    state = models.CharField(max_length=16, choices=State.choices, default=State.RUNNING)
    note = models.TextField(blank=True, help_text="The promoter's message to the fans.")
    orders_total = models.PositiveIntegerField(default=0)
    orders_done = models.PositiveIntegerField(default=0)
    leased_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["running", "done"]), name="refundjob_state_valid"
            ),
            # One running job per event: starting it again resumes the one there is.
            models.UniqueConstraint(
                fields=["event"], condition=Q(state="running"), name="refundjob_one_running"
            ),
        ]

    def __str__(self):
        return f"Refund job {self.pk} ({self.event})"


class Postponement(models.Model):
    """An event moved to a new date; its fans may ask for a refund until `refunds_until`."""

    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="postponements")
    previous_starts_at = models.DateTimeField()
    new_starts_at = models.DateTimeField()
    refunds_until = models.DateTimeField(help_text="Fans may ask for a refund until then.")
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        get_latest_by = "created_at"
        constraints = [
            models.CheckConstraint(
                condition=Q(refunds_until__gt=models.F("created_at")),
                name="postponement_window_ahead",
            ),
        ]

    def __str__(self):
        return f"{self.event} postponed"
