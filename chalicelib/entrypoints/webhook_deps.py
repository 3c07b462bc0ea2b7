"""The adapters the subscription API and the webhook handlers hand to services (tests replace these functions)."""

from __future__ import annotations

from ..adapters.mail import OutboxMailer, SesMailer
from ..adapters.subscription_store import DynamoDeliveryLog, DynamoSubscriptionStore
from ..adapters.webhook_http import HttpWebhookSender, system_resolver
from ..adapters.webhook_queue import SqsDeliveryQueue
from ..config import settings
from ..domain.subscriptions import RetrySchedule
from ..domain.subscriptions_security import UrlPolicy
from ..services.subscriptions_ports import Resolver
from ..services.webhooks import DeliveryContext

_sender = HttpWebhookSender()


def store() -> DynamoSubscriptionStore:
    return DynamoSubscriptionStore()


def delivery_log() -> DynamoDeliveryLog:
    return DynamoDeliveryLog()


def queue() -> SqsDeliveryQueue:
    return SqsDeliveryQueue()


def mailer():
    return OutboxMailer() if settings().local_stack else SesMailer()


def resolver() -> Resolver:
    return system_resolver


def policy() -> UrlPolicy:
    return UrlPolicy(local_stack=settings().local_stack)


def schedule() -> RetrySchedule:
    s = settings()
    return RetrySchedule(
        s.webhook_retry_base_seconds, s.webhook_retry_max_delay_seconds, s.webhook_retry_max_age_seconds
    )


def sender() -> HttpWebhookSender:
    return _sender


def delivery_context() -> DeliveryContext:
    return DeliveryContext(
        store=store(),
        log=delivery_log(),
        queue=queue(),
        sender=sender(),
        mailer=mailer(),
        resolver=resolver(),
        policy=policy(),
        schedule=schedule(),
        timeout=settings().webhook_timeout_seconds,
    )


def reset() -> None:
    from ..adapters import webhook_queue

    webhook_queue.reset()
