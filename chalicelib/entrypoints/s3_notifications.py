"""S3 event notifications, as the validation and inbox queues deliver them."""

from __future__ import annotations

from urllib.parse import unquote_plus


def s3_keys(notification: dict) -> list[str]:
    """Object keys in an S3 event notification (keys arrive quote_plus-encoded); none for s3:TestEvent."""
    if notification.get("Event") == "s3:TestEvent":
        return []
    return [
        unquote_plus(record["s3"]["object"]["key"])
        for record in notification.get("Records", [])
        if record.get("eventName", "").startswith("ObjectCreated")
    ]
