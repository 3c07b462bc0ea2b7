"""Status-change events to SNS, with message attributes for subscription filter policies."""

from __future__ import annotations

import json

from ..config import settings
from ..domain.batching import chunks
from ..domain.events import StatusChanged
from .aws import client

_SNS_BATCH = 10  # PublishBatch maximum
_SNS_BATCH_BYTES = 256 * 1024  # PublishBatch maximum, messages and attributes together


def _entry(index: int, event: StatusChanged, api_base: str) -> tuple[dict, int]:
    message = json.dumps(event.cloudevent(api_base), ensure_ascii=False)
    attributes = event.attributes()
    size = len(message.encode()) + sum(len(k) + len(v.encode()) + len("String") for k, v in attributes.items())
    entry = {
        "Id": str(index),
        "Message": message,
        "MessageAttributes": {name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()},
    }
    return entry, size


def batches(events: list[StatusChanged], api_base: str = "") -> list[list[dict]]:
    """PublishBatch entries: at most ten per request and 256 KiB in all (each 64 KiB is billed as a request)."""
    sized = [_entry(index, event, api_base) for index, event in enumerate(events)]
    return [
        [entry for entry, _ in batch]
        for batch in chunks(sized, count=_SNS_BATCH, budget=_SNS_BATCH_BYTES, size=lambda pair: pair[1])
    ]


class SnsEventPublisher:
    def __init__(self, topic_arn: str | None = None, api_base: str | None = None):
        self.topic_arn = topic_arn or settings().events_topic_arn
        # the events' links leave the API (webhooks, e-mails): absolute when the API's address is configured
        self.api_base = settings().public_base_url if api_base is None else api_base

    def publish(self, events: list[StatusChanged]) -> None:
        for entries in batches(events, self.api_base):
            response = client("sns").publish_batch(TopicArn=self.topic_arn, PublishBatchRequestEntries=entries)
            if response.get("Failed"):
                raise RuntimeError(f"SNS refused {len(response['Failed'])} event(s): {response['Failed']}")
