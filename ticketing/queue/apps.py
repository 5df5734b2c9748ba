from django.apps import AppConfig


class QueueConfig(AppConfig):
    name = "ticketing.queue"
    verbose_name = "Waiting room"
