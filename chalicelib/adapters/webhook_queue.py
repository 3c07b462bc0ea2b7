"""The delivery queue (SQS): one message per (subscription, event) attempt; delays via DelaySeconds."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from functools import cache

from ..config import settings
from ..domain.batching import chunks
from ..services.subscriptions_ports import DeliveryJob
from .aws import client

MAX_SQS_DELAY = 900  # SQS's per-message maximum: longer waits are served in steps (DeliveryJob.not_before)
_BATCH = 10
# SendMessageBatch carries at most 1 MiB in all: jobs of large events (up to SNS's 256 KiB each) go fewer a request
_BATCH_BYTES = 1024 * 1024 - 16 * 1024


@cache
def _queue_url(name: str) -> str:
    return client("sqs").get_queue_url(QueueName=name)["QueueUrl"]


def reset() -> None:
    _queue_url.cache_clear()


class SqsDeliveryQueue:
    def __init__(self, queue_name: str | None = None, given_up_name: str | None = None):
        self.queue_name = queue_name or settings().webhook_delivery_queue
        # Not the queue's DLQ: that one pages at its first message, for jobs our handler crashed on.
        self.given_up_name = given_up_name or settings().webhook_given_up_queue

    def enqueue(self, jobs: list[DeliveryJob], delay_seconds: float = 0.0) -> None:
        delay = max(0, min(MAX_SQS_DELAY, math.ceil(delay_seconds))) if delay_seconds > 0 else 0
        if delay_seconds <= MAX_SQS_DELAY:
            jobs = [replace(job, not_before=0.0) for job in jobs]  # the queue's delay covers the whole wait
        url = _queue_url(self.queue_name)
        bodies = [json.dumps(job.as_dict(), ensure_ascii=False) for job in jobs]
        for batch in chunks(bodies, count=_BATCH, budget=_BATCH_BYTES, size=lambda body: len(body.encode())):
            response = client("sqs").send_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "MessageBody": body, "DelaySeconds": delay} for i, body in enumerate(batch)],
            )
            if response.get("Failed"):
                raise RuntimeError(f"SQS refused {len(response['Failed'])} delivery job(s): {response['Failed']}")

    def dead_letter(self, job: DeliveryJob, reason: str) -> None:
        """Park a job given up after the retry age in the given-up queue, with why (make redrive FROM=… sends it
        again)."""
        client("sqs").send_message(
            QueueUrl=_queue_url(self.given_up_name),
            MessageBody=json.dumps({**job.as_dict(), "reason": reason}, ensure_ascii=False),
        )
