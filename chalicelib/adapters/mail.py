"""E-mail notifications: SES in AWS; in the local stack a table (the outbox) that tests and people read."""

from __future__ import annotations

import os

from ..config import settings
from ..services.clock import utc_now
from ..services.subscriptions_ports import MailMessage
from .aws import client
from .subscription_tables import MailOutboxRecord


class SesMailer:
    def __init__(self, sender: str | None = None):
        self.sender = sender or settings().mail_sender

    def send(self, message: MailMessage) -> None:
        client("sesv2").send_email(
            FromEmailAddress=self.sender,
            Destination={"ToAddresses": [message.to]},
            Content={
                "Simple": {
                    "Subject": {"Data": message.subject, "Charset": "UTF-8"},
                    "Body": {"Text": {"Data": message.text, "Charset": "UTF-8"}},
                    "Headers": [{"Name": k, "Value": v} for k, v in message.headers.items()],
                }
            },
        )


class OutboxMailer:
    """Captures every e-mail in the outbox table instead of sending it."""

    def send(self, message: MailMessage) -> None:
        MailOutboxRecord(
            message.to,
            f"{utc_now()}#{os.urandom(4).hex()}",
            subject=message.subject,
            text=message.text,
            event_id=message.headers.get("Chorale-Event-Id"),
        ).save()

    @staticmethod
    def messages(to: str) -> list[dict]:
        return [
            {"to": r.to, "subject": r.subject, "text": r.text, "event_id": r.event_id}
            for r in MailOutboxRecord.query(to)
        ]
