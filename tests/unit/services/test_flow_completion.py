"""When a bulk flow is announced (flow.completed): once, when expanded with every object done (no AWS)."""

from __future__ import annotations

from dataclasses import replace

from fakes import FakeInvoices, FakeOriginals, FakePublisher
from invoices import MAIRIE_SIRET, SUPPLIER_SIRET

from chalicelib.domain.invoice import Invoice, InvoiceSummary
from chalicelib.services import flows as flow_service
from chalicelib.services import originals as layout
from chalicelib.services.flows import EXPANDED, RECEIVED, Flow, FlowFile, FlowProgress

FLOW = "01JDZ8Q6XW0000000000000000"


class FakeFlows:
    def __init__(self, flow: Flow):
        self.flow, self.objects_total, self.done, self.completed_at = flow, None, set(), None

    def get(self, flow_id):
        return replace(self.flow, files=[replace(f) for f in self.flow.files]) if flow_id == self.flow.id else None

    def progress(self, flow_id):
        return FlowProgress(self.flow.phase, self.objects_total, len(self.done), self.completed_at)

    def finish_expansion(self, flow_id, phase, total_files, error, at, objects=0):
        self.flow.phase, self.objects_total = phase, objects

    def mark_object_done(self, flow_id, object_name):
        if flow_id != self.flow.id:
            return None
        self.done.add(object_name)
        return self.progress(flow_id)

    def mark_completed(self, flow_id, at):
        self.completed_at = at


def decided(invoice_id: str, index: int) -> Invoice:
    invoice = Invoice(invoice_id, SUPPLIER_SIRET, "Atelier", "ubl", "application/xml", layout.bundle_key(FLOW, 1),
                      10, "ab", "2026-11-26T10:00:00.000Z", "2026-11-26T10:00:00.000Z", flow_id=FLOW,
                      flow_file=flow_service.file_key(index))  # fmt: skip
    invoice.accept(InvoiceSummary(number=f"F-{index}", buyer_siret=MAIRIE_SIRET), "Mairie", [], "2026-11-26T10:00:01Z")
    return invoice


def test_objects_done_before_the_expansion_ends_are_announced_by_the_expansion_once():
    ids = [flow_service.member_invoice_id(FLOW, i) for i in (1, 2)]
    flow = Flow(FLOW, SUPPLIER_SIRET, "2026-11-26T10:00:00Z", "2026-11-26T10:00:00Z", phase=RECEIVED,
                files=[FlowFile(flow_service.file_key(i), f"{i}.xml", ids[i - 1]) for i in (1, 2)]
                + [FlowFile(flow_service.file_key(3), "notes.txt", None, "rejected")])  # fmt: skip
    flows, invoices, publisher = FakeFlows(flow), FakeInvoices(), FakePublisher()
    ports = {"flows": flows, "invoices": invoices, "publisher": publisher, "now": lambda: "2026-11-26T10:00:05Z"}
    for index, invoice_id in enumerate(ids, start=1):
        invoices.records[invoice_id] = decided(invoice_id, index)

    # Both bundles were validated while the expansion was still writing: not complete yet.
    for number in (1, 2):
        assert flow_service.object_processed(layout.bundle_key(FLOW, number), [], **ports) is None
    assert publisher.published == []

    flows.finish_expansion(FLOW, EXPANDED, 3, None, "2026-11-26T10:00:04Z", objects=2)
    event = flow_service.announce_if_complete(FLOW, **ports)
    assert publisher.published == [event] and event.state == "IN_INTEGRE_PARTIEL"
    assert event.counts == {"files": 3, "accepted": 2, "rejected": 1, "pending": 0}
    assert event.cloudevent()["id"] == f"{FLOW}-completed" and flows.completed_at == "2026-11-26T10:00:05Z"

    # A redelivered bundle, or the expansion's message again: announced already.
    assert flow_service.object_processed(layout.bundle_key(FLOW, 1), [], **ports) is None
    assert flow_service.announce_if_complete(FLOW, **ports) is None
    assert len(publisher.published) == 1


def test_a_flow_with_an_undecided_invoice_is_not_announced_and_single_deposits_touch_no_flow():
    invoice_id = flow_service.member_invoice_id(FLOW, 1)
    flow = Flow(
        FLOW, SUPPLIER_SIRET, "t", "t", phase=RECEIVED, files=[FlowFile(flow_service.file_key(1), "a", invoice_id)]
    )
    flows, publisher = FakeFlows(flow), FakePublisher()
    ports = {"flows": flows, "invoices": FakeInvoices(), "publisher": publisher}
    flows.finish_expansion(FLOW, EXPANDED, 1, None, "t", objects=1)
    assert flow_service.object_processed(layout.bundle_key(FLOW, 1), [], **ports) is None  # its record is missing
    assert flow_service.object_processed(layout.original_key(invoice_id), [], **ports) is None  # a single deposit
    assert flows.done == {"bundle-1"} and publisher.published == []


def test_the_flow_of_an_object_from_its_key_its_invoice_or_when_given_up_its_metadata():
    invoice_id = flow_service.member_invoice_id(FLOW, 1)
    lone = layout.original_key(invoice_id)
    originals = FakeOriginals()
    originals.put(lone, b"<Invoice/>", "application/xml", {layout.META_FLOW_ID: FLOW})
    assert flow_service.flow_of_object(layout.bundle_key(FLOW, 3), []) == FLOW
    assert flow_service.flow_of_object(lone, [decided(invoice_id, 1)]) == FLOW
    assert flow_service.flow_of_object(lone, []) is None  # no look-up unless processing gave up
    assert flow_service.flow_of_object(lone, [], originals) == FLOW
    assert flow_service.flow_of_object(layout.original_key(FLOW), [], FakeOriginals()) is None
