"""When a bulk flow is announced (flow.completed): once, when expanded with every object done (no AWS)."""

from __future__ import annotations

from dataclasses import replace

from fakes import FakeInvoices, FakeObjectStore, FakePublisher
from invoices import MAIRIE_SIRET, SUPPLIER_SIRET

from chalicelib.domain.flows import EXPANDED, RECEIVED, Flow, FlowFile, FlowProgress
from chalicelib.domain.invoice import Invoice, InvoiceSummary
from chalicelib.services import flows as flow_service
from chalicelib.services import layout

FLOW = "01JDZ8Q6XW0000000000000000"


class FakeFlows:
    def __init__(self, flow: Flow):
        self.flow, self.objects_total, self.done, self.completed_at = flow, None, set(), None
        self.revision, self.announced = 0, None
        self.before_noting = None  # called by mark_completed before it checks the revision (to stage a race)

    def get(self, flow_id):
        return replace(self.flow, files=[replace(f) for f in self.flow.files]) if flow_id == self.flow.id else None

    def progress(self, flow_id):
        return FlowProgress(self.flow.phase, self.objects_total, len(self.done), self.completed_at, self.revision,
                            self.announced)  # fmt: skip

    def finish_expansion(self, flow_id, phase, total_files, error, at, objects=0):
        self.flow.phase, self.objects_total = phase, objects

    def mark_object_done(self, flow_id, object_name):
        if flow_id != self.flow.id:
            return None
        self.done.add(object_name)
        return self.progress(flow_id)

    def note_report(self, flow_id, report):
        return True

    def mark_completed(self, flow_id, at, revision=1, announced=None, report=None):
        if self.before_noting is not None:
            self.before_noting, race = None, self.before_noting
            race()
        if revision > 1 and self.revision != revision - 1:
            return False
        self.completed_at, self.revision, self.announced = at, revision, announced
        return True


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
    originals = FakeObjectStore()
    originals.put(lone, b"<Invoice/>", "application/xml", {layout.META_FLOW_ID: FLOW})
    assert flow_service.flow_of_object(layout.bundle_key(FLOW, 3), []) == FLOW
    assert flow_service.flow_of_object(lone, [decided(invoice_id, 1)]) == FLOW
    assert flow_service.flow_of_object(lone, []) is None  # no look-up unless processing gave up
    assert flow_service.flow_of_object(lone, [], originals) == FLOW
    assert flow_service.flow_of_object(layout.original_key(FLOW), [], FakeObjectStore()) is None


def failed(invoice_id: str, index: int) -> Invoice:
    invoice = decided(invoice_id, index)
    invoice.processing, invoice.history = "failed", invoice.history[:1]
    return invoice


def _announced_flow_with_a_given_up_bundle():
    """Three files in three bundles: the first accepted, the other two given up (failed), the flow announced."""
    ids = [flow_service.member_invoice_id(FLOW, i) for i in (1, 2, 3)]
    flow = Flow(FLOW, SUPPLIER_SIRET, "2026-11-26T10:00:00Z", "2026-11-26T10:00:00Z", phase=EXPANDED,
                files=[FlowFile(flow_service.file_key(i), f"{i}.xml", ids[i - 1]) for i in (1, 2, 3)])  # fmt: skip
    flows, invoices, publisher = FakeFlows(flow), FakeInvoices(), FakePublisher()
    flows.objects_total = 3
    clock = iter(f"2026-11-26T10:00:{s:02d}Z" for s in range(10, 60))
    ports = {"flows": flows, "invoices": invoices, "publisher": publisher, "now": lambda: next(clock)}
    invoices.records[ids[0]] = decided(ids[0], 1)
    invoices.records[ids[1]] = failed(ids[1], 2)
    invoices.records[ids[2]] = failed(ids[2], 3)
    for number in (1, 2, 3):
        flow_service.object_processed(layout.bundle_key(FLOW, number), [], **ports)
    [first] = publisher.published
    assert first.counts == {"files": 3, "accepted": 1, "rejected": 2, "pending": 0} and first.revision == 1
    assert first.cloudevent()["id"] == f"{FLOW}-completed" and first.cloudevent()["data"]["revision"] == 1
    return ids, flows, invoices, publisher, ports


def test_a_redrive_that_decides_given_up_invoices_announces_the_flow_again_with_the_new_counts():
    ids, flows, invoices, publisher, ports = _announced_flow_with_a_given_up_bundle()

    invoices.records[ids[1]] = decided(ids[1], 2)  # the redrive decides bundle 2
    again = flow_service.object_processed(layout.bundle_key(FLOW, 2), [], **ports)
    assert again is not None and publisher.published[-1] is again
    assert again.revision == 2 and again.cloudevent()["id"] == f"{FLOW}-completed-2"
    assert again.counts == {"files": 3, "accepted": 2, "rejected": 1, "pending": 0}
    assert again.state == "IN_INTEGRE_PARTIEL" and (flows.revision, flows.announced) == (2, "3/2/1")

    # The same message redelivered: the counts have not changed, nothing is announced.
    assert flow_service.object_processed(layout.bundle_key(FLOW, 2), [], **ports) is None
    assert len(publisher.published) == 2

    invoices.records[ids[2]] = decided(ids[2], 3)
    last = flow_service.object_processed(layout.bundle_key(FLOW, 3), [], **ports)
    assert last.revision == 3 and last.state == "IN_INTEGRE" and last.counts["accepted"] == 3


def test_two_redriven_bundles_finishing_at_once_end_with_a_revision_that_has_both_outcomes():
    ids, flows, invoices, publisher, ports = _announced_flow_with_a_given_up_bundle()
    invoices.records[ids[1]] = decided(ids[1], 2)

    def other_redrive_finishes_first():  # bundle 3 is decided and announced while bundle 2 is being noted
        invoices.records[ids[2]] = decided(ids[2], 3)
        flow_service.object_processed(layout.bundle_key(FLOW, 3), [], **ports)

    flows.before_noting = other_redrive_finishes_first
    flow_service.object_processed(layout.bundle_key(FLOW, 2), [], **ports)
    revisions = [(e.revision, e.counts["accepted"]) for e in publisher.published]
    # Bundle 2 published revision 2 (2 accepted), bundle 3 noted its own revision 2 (3 accepted) first. The same
    # id: a receiver may have kept bundle 2's. So bundle 2, whose note failed, read again and announced revision 3.
    assert revisions == [(1, 1), (2, 2), (2, 3), (3, 3)]
    assert (flows.revision, flows.announced) == (3, "3/3/0") and publisher.published[-1].state == "IN_INTEGRE"
