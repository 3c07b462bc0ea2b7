"""Status changes committed to the invoice table become events (one per change) on the topic."""

from __future__ import annotations

from ..domain.events import StatusChanged, new_status_events
from ..domain.invoice import Invoice
from .ports import EventPublisher

PUBLISH_BATCH = 10  # events per publish call: SNS PublishBatch bills a batch (≤ 64 KB) as one request


def publish_committed_changes(
    changes: list[tuple[Invoice | None, Invoice]], *, publisher: EventPublisher
) -> tuple[list[StatusChanged], int | None]:
    """Publish the events of a stream batch's changes, in order, up to ten per call.

    Returns the events published and the index of the first change not fully published (None when all
    were): the stream resumes from that change, so an event may be published twice but never skipped.
    """
    pending = [(index, event) for index, (before, after) in enumerate(changes)
               for event in new_status_events(before.history if before else [], after)]  # fmt: skip
    published: list[StatusChanged] = []
    for start in range(0, len(pending), PUBLISH_BATCH):
        chunk = pending[start : start + PUBLISH_BATCH]
        try:
            publisher.publish([event for _, event in chunk])
        except Exception:
            return published, chunk[0][0]
        published.extend(event for _, event in chunk)
    return published, None
