"""Helpers of the outbox tests (their SMTP servers are fixtures in conftest.py)."""

from django.core.mail import EmailMultiAlternatives


def use_smtp(settings, port: int, timeout: float = 3) -> None:
    """Send through the SMTP server on `port` of 127.0.0.1, as production sends through SES."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = timeout


def message(to="ada@example.com", subject="Hello", body="Hi Ada") -> EmailMultiAlternatives:
    email = EmailMultiAlternatives(subject, body, "tickets@example.com", [to])
    email.attach_alternative(f"<p>{body}</p>", "text/html")
    return email
