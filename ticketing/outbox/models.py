"""An email waiting to go, or gone: the rendered message and how its delivery went."""

import base64

from django.core.mail import EmailMultiAlternatives
from django.db import models
from django.db.models import Q
from django.utils import timezone

from ticketing.events.models import Promoter


class Email(models.Model):
    """One rendered email, written in the transaction that causes it and sent after that commits.

    `next_attempt_at` says when it is due. A sender claims a due email by moving that moment to
    the end of its lease, so no other sender takes it meanwhile; if the sender dies, the email is
    due again when the lease ends. Sent at least once: a sender that dies between the SMTP
    server's "250 OK" and marking the row sent leaves it to be sent again.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    # Whose fans it goes to, for the back office's scoping; None for the platform's own email
    # (seen by superusers only).
    promoter = models.ForeignKey(
        Promoter, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=64, help_text="What the email is, e.g. order_confirmation.")
    reference = models.CharField(
        max_length=64, blank=True, help_text="What it is about, e.g. an order code."
    )
    subject = models.CharField(max_length=998)
    to = models.JSONField(help_text="The recipients' addresses.")
    # The rest of the message, as `to_message()` rebuilds it: body, from, cc, bcc, reply-to,
    # headers (with the Message-ID every attempt repeats), alternatives, attachments.
    message = models.JSONField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # What a sender looks for: pending emails, soonest due first.
            models.Index(
                fields=["next_attempt_at"], condition=Q(state="pending"), name="outbox_email_due"
            ),
            models.Index(fields=["promoter", "created_at"], name="outbox_email_promoter"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["pending", "sent", "failed"]), name="outbox_email_state"
            ),
            models.CheckConstraint(
                condition=~Q(state="sent") | Q(sent_at__isnull=False), name="outbox_email_sent_at"
            ),
        ]

    def __str__(self):
        return f"{self.subject} → {', '.join(self.to)}"

    @classmethod
    def from_message(cls, message: EmailMultiAlternatives, **fields) -> "Email":
        """An unsaved row holding everything of `message` needed to send it again later."""
        return cls(
            subject=message.subject,
            to=list(message.to),
            message={
                "from_email": message.from_email,
                "body": message.body,
                "content_subtype": message.content_subtype,
                "cc": list(message.cc),
                "bcc": list(message.bcc),
                "reply_to": list(message.reply_to),
                "headers": dict(message.extra_headers),
                "alternatives": [
                    [content, mimetype]
                    for content, mimetype in getattr(message, "alternatives", [])
                ],
                "attachments": [_stored_attachment(a) for a in message.attachments],
            },
            **fields,
        )

    def to_message(self) -> EmailMultiAlternatives:
        stored = self.message
        message = EmailMultiAlternatives(
            subject=self.subject,
            body=stored["body"],
            from_email=stored["from_email"],
            to=self.to,
            cc=stored["cc"],
            bcc=stored["bcc"],
            reply_to=stored["reply_to"],
            headers=stored["headers"],
        )
        message.content_subtype = stored["content_subtype"]
        for content, mimetype in stored["alternatives"]:
            message.attach_alternative(content, mimetype)
        for filename, content, mimetype in stored["attachments"]:
            message.attach(filename, base64.b64decode(content), mimetype)
        return message

    @property
    def body(self) -> str:
        return self.message["body"]


def _stored_attachment(attachment) -> list:
    if not isinstance(attachment, tuple):  # a MIMEBase part: not worth the generality yet
        raise ValueError("The outbox stores attachments given as (filename, content, mimetype).")
    filename, content, mimetype = attachment
    data = content.encode() if isinstance(content, str) else content
    return [filename, base64.b64encode(data).decode("ascii"), mimetype]
