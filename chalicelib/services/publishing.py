"""Status changes committed to the invoice table become events (one per change) on the topic."""

from __future__ import annotations

from ..domain.events import StatusChanged, new_status_events
from ..domain.invoice import Invoice
from .ports import EventPublisher


def publish_status_changes(before: Invoice | None, after: Invoice, *, publisher: EventPublisher) -> list[StatusChanged]:
    """Publish the history entries `after` added to `before`; nothing when the history did not grow."""
    events = new_status_events(before.history if before else [], after)
    if events:
        publisher.publish(events)
    return events
