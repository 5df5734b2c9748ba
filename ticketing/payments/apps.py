from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "ticketing.payments"
    label = "payments"
    verbose_name = "Payments"

    def ready(self):
        from . import services, webhooks

        webhooks.register("payment_intent.succeeded", services.on_succeeded)
        webhooks.register("payment_intent.payment_failed", services.on_failed)
        webhooks.register("payment_intent.canceled", services.on_canceled)
