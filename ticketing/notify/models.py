"""Notify me: fans who asked to be told when an event's tickets go on sale or come back.

Double opt-in: a subscription starts `pending` and only a signed link sent to its address makes it
`active`; the scheduled `notify_subscribers` tells active ones once (`notified`) when the event
sells; every email carries a signed unsubscribe link (`unsubscribed`). A fan who asks again
after being told or unsubscribing starts a fresh opt-in on the same row.
"""

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from ticketing.events.models import Event
from ticketing.fans.languages import language_constraint, language_field


class Subscription(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "Waiting for confirmation"
        ACTIVE = "active", "Confirmed, waiting for tickets"
        NOTIFIED = "notified", "Told"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="notify_subscriptions")
    email = models.EmailField()
    language = language_field()
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # What the scheduled job looks for: the events that have fans waiting.
            models.Index(
                fields=["event"], condition=Q(state="active"), name="subscription_waiting"
            ),
            models.Index(Lower("email"), "confirmation_sent_at", name="subscription_address_sent"),
        ]
        constraints = [
            models.UniqueConstraint("event", Lower("email"), name="subscription_unique_address"),
            models.CheckConstraint(
                condition=Q(state__in=["pending", "active", "notified", "unsubscribed"]),
                name="subscription_state_valid",
            ),
            models.CheckConstraint(
                condition=~Q(state="active") | Q(confirmed_at__isnull=False),
                name="subscription_active_confirmed",
            ),
            language_constraint("subscription_language_valid"),
        ]

    def __str__(self):
        return f"{self.email} – {self.event_id} ({self.get_state_display()})"
