"""Status changes committed to the invoice table become events (one per change) on the topic."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from ..domain.events import StatusChanged, new_status_events
from ..domain.invoice import Invoice
from ..domain.subscriptions import NO_SUBSCRIBER, parties
from .ports import EventPublisher
from .subscriptions_ports import SubscriptionStore

log = logging.getLogger(__name__)

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
        except Exception:  # the stream retries from there; why it failed is in this log entry, with its traceback
            log.exception(
                "publishing %d events failed; %d published before; resuming at change %d (event %s)",
                len(chunk), len(published), chunk[0][0], chunk[0][1].event_id,
            )  # fmt: skip
            return published, chunk[0][0]
        published.extend(event for _, event in chunk)
    return published, None


def republish_window(invoices: Iterable[Invoice], since: datetime, until: datetime, *,
                     publisher: EventPublisher) -> int:  # fmt: skip
    """Operations: publish again the status changes made between `since` and `until` (those the stream publisher
    gave up on). Each event keeps the id of its first publication, so a receiver that got it drops the copy.
    Returns how many events were published."""
    count, pending = 0, []
    for invoice in invoices:
        for sequence, entry in enumerate(invoice.history):
            if since <= _instant(entry.at) <= until:
                previous = invoice.history[sequence - 1] if sequence else None
                pending.append(StatusChanged(invoice, entry, previous, sequence))
        while len(pending) >= PUBLISH_BATCH:
            publisher.publish(pending[:PUBLISH_BATCH])
            count, pending = count + PUBLISH_BATCH, pending[PUBLISH_BATCH:]
    if pending:
        publisher.publish(pending)
    return count + len(pending)


def _instant(at: str) -> datetime:
    return datetime.fromisoformat(at.replace("Z", "+00:00"))


class AudiencePublisher:
    """An EventPublisher that marks the events none of whose parties has a subscription (NO_SUBSCRIBER), so that
    the topic keeps them out of the webhook fan-out queue (its filter policy): a queue request per event nobody
    listens to is most of what notifying costs. Subscribers of the topic itself still get every event.

    Each structure is looked up once per publish call (a stream batch publishes ten events per call); a
    subscription created meanwhile gets the events published after it, as it would from the fan-out."""

    def __init__(self, publisher: EventPublisher, subscriptions: SubscriptionStore):
        self._publisher = publisher
        self._subscriptions = subscriptions

    def publish(self, events: list) -> None:
        heard: dict[str, bool] = {}

        def has_subscriptions(siret: str) -> bool:
            if siret not in heard:
                heard[siret] = self._subscriptions.has_subscriptions(siret)
            return heard[siret]

        self._publisher.publish(
            [
                event if any(has_subscriptions(s) for s in parties(event.cloudevent())) else _Unheard(event)
                for event in events
            ]
        )


class _Unheard:
    """An event as published when nobody subscribed to it: the same message, one more attribute."""

    __slots__ = ("_event",)

    def __init__(self, event):
        self._event = event

    @property
    def event_id(self) -> str:
        return self._event.event_id

    def cloudevent(self, api_base: str = "") -> dict:
        return self._event.cloudevent(api_base)

    def attributes(self) -> dict[str, str]:
        return {**self._event.attributes(), NO_SUBSCRIBER[0]: NO_SUBSCRIBER[1]}
