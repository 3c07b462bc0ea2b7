"""Status-change events to SNS, with message attributes for subscription filter policies."""

from __future__ import annotations

import json

from ..config import settings
from ..domain.events import StatusChanged
from .aws import client

_SNS_BATCH = 10  # PublishBatch maximum


class SnsEventPublisher:
    def __init__(self, topic_arn: str | None = None):
        self.topic_arn = topic_arn or settings().events_topic_arn

    def publish(self, events: list[StatusChanged]) -> None:
        for start in range(0, len(events), _SNS_BATCH):
            batch = events[start : start + _SNS_BATCH]
            response = client("sns").publish_batch(
                TopicArn=self.topic_arn,
                PublishBatchRequestEntries=[
                    {
                        "Id": str(index),
                        "Message": json.dumps(event.cloudevent(), ensure_ascii=False),
                        "MessageAttributes": {
                            name: {"DataType": "String", "StringValue": value}
                            for name, value in event.attributes().items()
                        },
                    }
                    for index, event in enumerate(batch)
                ],
            )
            if response.get("Failed"):
                raise RuntimeError(f"SNS refused {len(response['Failed'])} event(s): {response['Failed']}")
