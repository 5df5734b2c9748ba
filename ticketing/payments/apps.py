from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "ticketing.payments"
    label = "payments"
    verbose_name = "Payments"

    def ready(self):
        from . import webhooks

        webhooks.register("payment_intent.succeeded", "ticketing.payments.services.on_succeeded")
        webhooks.register("payment_intent.payment_failed", "ticketing.payments.services.on_failed")
        webhooks.register("payment_intent.canceled", "ticketing.payments.services.on_canceled")
