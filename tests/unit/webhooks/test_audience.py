"""Events nobody subscribed to are marked for the topic's filter policy; the others go out as they are."""

from __future__ import annotations

from dataclasses import dataclass, field

from fakes import FakePublisher
from invoices import MAIRIE_SIRET, SUPPLIER_SIRET
from webhook_support import FakeStore

from chalicelib.domain.events import FlowCompleted, StatusChanged
from chalicelib.domain.invoice import Invoice, InvoiceSummary
from chalicelib.domain.subscriptions import EventFilter, Subscription
from chalicelib.services.publishing import AudiencePublisher


@dataclass
class CountingStore(FakeStore):
    lookups: list = field(default_factory=list)

    def has_subscriptions(self, siret):
        self.lookups.append(siret)
        return super().has_subscriptions(siret)


def status_changes(number: str) -> list[StatusChanged]:
    invoice = Invoice("01JDZ8Q6XW00000000000000A1", SUPPLIER_SIRET, "Atelier", "ubl", "application/xml", "k", 10,
                      "ab", "2026-11-26T10:00:00.000Z", "2026-11-26T10:00:00.000Z")  # fmt: skip
    invoice.accept(InvoiceSummary(number=number, buyer_siret=MAIRIE_SIRET), "Mairie", [], "2026-11-26T10:00:01Z")
    return [StatusChanged(invoice, entry, None, n) for n, entry in enumerate(invoice.history)]


def flow_completed() -> FlowCompleted:
    return FlowCompleted("01JDZ8Q6XW00000000000000F1", SUPPLIER_SIRET, "IN_INTEGRE", "api",
                         {"files": 1, "accepted": 1, "rejected": 0, "pending": 0}, "t0", "t1")  # fmt: skip


def subscribed(siret: str) -> Subscription:
    return Subscription(id="01JDZ8Q6XW00000000000000S1", siret=siret, url="https://example.test/hook",
                        events=("invoice.status_changed", "flow.completed"), filter=EventFilter(),
                        secret="s", created_at="t")  # fmt: skip


def published_attributes(store, events) -> list[dict]:
    sink = FakePublisher()
    AudiencePublisher(sink, store).publish(events)
    assert [e.cloudevent() for e in sink.published] == [e.cloudevent() for e in events]  # the same messages
    return [e.attributes() for e in sink.published]


def test_events_of_parties_without_subscriptions_are_marked_and_each_party_is_looked_up_once():
    store = CountingStore()
    events = status_changes("F-1") + status_changes("F-2") + [flow_completed()]
    attributes = published_attributes(store, events)
    assert [a.get("subscribers") for a in attributes] == ["none"] * len(events)
    assert sorted(store.lookups) == sorted([SUPPLIER_SIRET, MAIRIE_SIRET])  # once each per publish call


def test_an_event_is_left_as_it_is_when_either_party_has_a_subscription():
    for siret in (SUPPLIER_SIRET, MAIRIE_SIRET):
        store = CountingStore()
        store.add(subscribed(siret))
        events = status_changes("F-3")
        attributes = published_attributes(store, events)
        assert attributes == [e.attributes() for e in events] and all("subscribers" not in a for a in attributes)


def test_a_flow_completed_is_marked_unless_its_supplier_subscribed():
    buyer_only = CountingStore()
    buyer_only.add(subscribed(MAIRIE_SIRET))  # the buyer is no party to a flow
    assert published_attributes(buyer_only, [flow_completed()])[0]["subscribers"] == "none"
    supplier = CountingStore()
    supplier.add(subscribed(SUPPLIER_SIRET))
    assert "subscribers" not in published_attributes(supplier, [flow_completed()])[0]
