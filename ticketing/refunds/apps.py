from django.apps import AppConfig, apps


class RefundsConfig(AppConfig):
    name = "ticketing.refunds"
    verbose_name = "Refunds"

    def ready(self):
        if apps.is_installed("ticketing.payments"):
            from ticketing.payments import webhooks as stripe_webhooks

            from . import webhooks

            for event_type in webhooks.EVENT_TYPES:
                stripe_webhooks.register(event_type, webhooks.handle)
