from django.apps import AppConfig, apps

# Stripe's refund events, applied by `ticketing.refunds.webhooks.handle` (imported when one
# arrives, not at start-up).
REFUND_EVENT_TYPES = (
    "charge.refunded",
    "charge.refund.updated",
    "refund.created",
    "refund.updated",
    "refund.failed",
)


class RefundsConfig(AppConfig):
    name = "ticketing.refunds"
    verbose_name = "Refunds"

    def ready(self):
        if apps.is_installed("ticketing.payments"):
            from ticketing.payments import webhooks as stripe_webhooks

            for event_type in REFUND_EVENT_TYPES:
                stripe_webhooks.register(event_type, "ticketing.refunds.webhooks.handle")
