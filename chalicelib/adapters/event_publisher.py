"""Status-change events to SNS, with message attributes for subscription filter policies."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from ..config import settings
from ..domain.batching import chunks
from ..domain.events import StatusChanged, trimmed
from .aws import client

log = logging.getLogger(__name__)

_SNS_BATCH = 10  # PublishBatch maximum
_SNS_BATCH_BYTES = 256 * 1024  # PublishBatch maximum, messages and attributes together
SNS_MESSAGE_BYTES = 256 * 1024  # one message and its attributes (SNS refuses more, every time)
# An event over SNS_MESSAGE_BYTES has its long texts cut to these many characters, the first that fits.
TRIM_STEPS = (1000, 100)

# Called with an event that cannot be sent even trimmed, and its size: it is skipped (logged), never retried.
Unsendable = Callable[[StatusChanged, int], None]


def _encoded(event: StatusChanged, api_base: str, cloudevent: dict | None = None) -> tuple[str, dict, int]:
    message = json.dumps(cloudevent if cloudevent is not None else event.cloudevent(api_base), ensure_ascii=False)
    attributes = event.attributes()
    size = len(message.encode()) + sum(len(k) + len(v.encode()) + len("String") for k, v in attributes.items())
    return message, attributes, size


def _entry(index: int, event: StatusChanged, api_base: str,
           on_unsendable: Unsendable | None = None) -> tuple[dict, int] | None:  # fmt: skip
    """The PublishBatch entry of an event and its size; trimmed when over SNS's limit; None when it cannot fit."""
    message, attributes, size = _encoded(event, api_base)
    if size > SNS_MESSAGE_BYTES:
        full = size
        for max_chars in TRIM_STEPS:
            message, attributes, size = _encoded(event, api_base, trimmed(event.cloudevent(api_base), max_chars))
            if size <= SNS_MESSAGE_BYTES:
                log.warning("event %s is %d bytes, over SNS's limit: published with its texts cut to %d characters",
                            event.event_id, full, max_chars)  # fmt: skip
                break
        else:
            if on_unsendable is not None:  # it logs and counts the skip (once)
                on_unsendable(event, full)
            else:
                log.error("event %s is %d bytes even trimmed, over SNS's limit: skipped", event.event_id, full)
            return None
    entry = {
        "Id": str(index),
        "Message": message,
        "MessageAttributes": {name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()},
    }
    return entry, size


def batches(
    events: list[StatusChanged], api_base: str = "", on_unsendable: Unsendable | None = None
) -> list[list[dict]]:
    """PublishBatch entries: at most ten per request and 256 KiB in all (each 64 KiB is billed as a request). An
    event over SNS's message limit is trimmed (see _entry); one that cannot fit is left out, never retried."""
    sized = [e for index, event in enumerate(events) if (e := _entry(index, event, api_base, on_unsendable))]
    return [
        [entry for entry, _ in batch]
        for batch in chunks(sized, count=_SNS_BATCH, budget=_SNS_BATCH_BYTES, size=lambda pair: pair[1])
    ]


class SnsEventPublisher:
    def __init__(self, topic_arn: str | None = None, api_base: str | None = None,
                 on_unsendable: Unsendable | None = None):  # fmt: skip
        self.topic_arn = topic_arn or settings().events_topic_arn
        # the events' links leave the API (webhooks, e-mails): absolute when the API's address is configured
        self.api_base = settings().public_base_url if api_base is None else api_base
        self.on_unsendable = on_unsendable

    def publish(self, events: list[StatusChanged]) -> None:
        for entries in batches(events, self.api_base, self.on_unsendable):
            response = client("sns").publish_batch(TopicArn=self.topic_arn, PublishBatchRequestEntries=entries)
            if response.get("Failed"):
                raise RuntimeError(f"SNS refused {len(response['Failed'])} event(s): {response['Failed']}")
