"""System checks of how email leaves (`manage.py check --deploy`)."""

from django.conf import settings
from django.core import checks

NOWHERE = {
    "django.core.mail.backends.console.EmailBackend": "printed to the console",
    "django.core.mail.backends.locmem.EmailBackend": "kept in memory",
    "django.core.mail.backends.dummy.EmailBackend": "thrown away",
    "django.core.mail.backends.filebased.EmailBackend": "written to files",
}


@checks.register(checks.Tags.compatibility, deploy=True)
def check_email_delivery(app_configs, **kwargs):
    if settings.DEBUG:
        return []
    found = []
    if settings.EMAIL_BACKEND in NOWHERE:
        found.append(
            checks.Warning(
                f"Emails to fans are {NOWHERE[settings.EMAIL_BACKEND]}, not sent.",
                hint="Set EMAIL_HOST (and EMAIL_PORT, EMAIL_USE_TLS, EMAIL_HOST_USER, "
                "EMAIL_HOST_PASSWORD), or EMAIL_BACKEND.",
                id="outbox.W001",
            )
        )
    if settings.OUTBOX_PROMPT == "inline":
        found.append(
            checks.Warning(
                "OUTBOX_PROMPT=inline sends email before the request that caused it finishes: "
                "a slow mail server slows every order.",
                hint="Leave OUTBOX_PROMPT unset (auto).",
                id="outbox.W002",
            )
        )
    return found
