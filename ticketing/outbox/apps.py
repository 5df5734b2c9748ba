from django.apps import AppConfig


class OutboxConfig(AppConfig):
    """Side effects that may hang (emails), written in the transaction that causes them and sent
    after it commits, retried until they go."""

    name = "ticketing.outbox"
    verbose_name = "Outbox"

    def ready(self):
        from . import checks  # noqa: F401 (registers the system checks)
