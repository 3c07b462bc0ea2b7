"""Who reads which part of a re-routed invoice's history, and whom its events go to (Invoice.history_for,
Invoice.recipient_at, StatusChanged.recipient). No AWS."""

from __future__ import annotations

from datetime import date

import pytest
from webhook_support import validate_event

from chalicelib.domain.events import StatusChanged, new_status_events
from chalicelib.domain.invoice import Invoice, InvoiceSummary

SUPPLIER, MAIRIE, CHR, ECOLE = "81234567800013", "21750000100011", "13000123400017", "35600000000015"
NAMES = {MAIRIE: "Mairie (directory)", CHR: "CHR (directory)", ECOLE: "École (directory)"}
SUMMARY = InvoiceSummary(number="F-1", issue_date=date(2026, 11, 20), seller_siret=SUPPLIER, buyer_siret=MAIRIE,
                         buyer_name="Mairie (document)", service_code="SERV-TECH")  # fmt: skip


def at(n: int) -> str:
    return f"2026-11-26T10:00:{n:02d}.000Z"


def routed_through(*recipients: str) -> Invoice:
    """Made available to the Mairie, which takes it (204) and flags a routing error (221, with a comment); then each
    structure of `recipients` in turn gets it re-routed, takes it and flags a routing error, except the last one."""
    invoice = Invoice("01J00000000000000000000000", SUPPLIER, "Atelier", "ubl", "application/xml", "originals/x", 10,
                      "ab", at(0), at(0))  # fmt: skip
    invoice.accept(SUMMARY, NAMES[MAIRIE], [], at(1))
    clock = iter(range(2, 60))
    invoice.set_status(204, "recipient", None, None, at(next(clock)))
    invoice.set_status(221, "recipient", "CODE_ROUTAGE_ERR", f"{MAIRIE}: not ours", at(next(clock)))
    for n, siret in enumerate(recipients):
        invoice.reroute(siret, NAMES[siret], None, "EJ-9", f"to {siret}", at(next(clock)))
        if n < len(recipients) - 1:
            invoice.set_status(221, "recipient", "CODE_ROUTAGE_ERR", f"{siret}: not ours", at(next(clock)))
    return invoice


def comments(entries) -> list:
    return [(h.code, h.comment) for h in entries]


def test_before_any_re_routing_both_parties_read_everything():
    invoice = routed_through()
    assert invoice.history_for(MAIRIE) == invoice.history_for(SUPPLIER) == invoice.history
    assert invoice.history_for(CHR) == []


def test_the_new_recipient_reads_from_its_routing_on_the_supplier_reads_all():
    invoice = routed_through(CHR)
    assert comments(invoice.history_for(CHR)) == [(203, f"to {CHR}")]
    invoice.set_status(204, "recipient", None, None, at(59))
    assert [h.code for h in invoice.history_for(CHR)] == [203, 204]
    assert invoice.history_for(SUPPLIER) == invoice.history and len(invoice.history) == 6
    assert invoice.history_for(MAIRIE) == []  # no party any more (the API answers it 404 before asking)


def test_a_re_routing_within_the_same_structure_keeps_its_history():
    invoice = routed_through(MAIRIE)
    assert invoice.history_for(MAIRIE) == invoice.history


def written_before_targets_were_kept(invoice: Invoice) -> Invoice:
    """The invoice as a record written before re-routes kept their target reads."""
    invoice.rerouted_to.clear()
    return invoice


def test_a_structure_the_invoice_comes_back_to_reads_from_its_return():
    """Mairie → CHR → Mairie: the CHR's part is not the Mairie's business, nor is the Mairie's first stay shown
    across it."""
    invoice = routed_through(CHR, MAIRIE)
    assert comments(invoice.history_for(MAIRIE)) == [(203, f"to {MAIRIE}")]
    assert [invoice.recipient_at(p) for p in range(len(invoice.history))] == [MAIRIE] * 4 + [CHR] * 2 + [MAIRIE]


def test_each_stretch_between_two_re_routings_is_the_structure_the_first_one_sent_it_to():
    """Mairie → École → CHR: the École's entries are the École's (its events went to it), not nobody's; the CHR
    reads from its own routing on, and the École, no party any more, reads nothing."""
    invoice = routed_through(ECOLE, CHR)
    assert [invoice.recipient_at(p) for p in range(len(invoice.history))] == [MAIRIE] * 4 + [ECOLE] * 2 + [CHR]
    assert comments(invoice.history_for(CHR)) == [(203, f"to {CHR}")]
    assert invoice.history_for(ECOLE) == invoice.history_for(MAIRIE) == []


def test_a_re_routing_within_the_structure_a_re_routing_sent_it_to_keeps_that_structure_s_history():
    """Mairie → CHR → CHR: the CHR reads from the first re-routing to it, not only from the latest."""
    invoice = routed_through(CHR, CHR)
    assert comments(invoice.history_for(CHR)) == [(203, f"to {CHR}"), (221, f"{CHR}: not ours"), (203, f"to {CHR}")]
    assert invoice.history_for(MAIRIE) == []
    invoice = routed_through(CHR, CHR, ECOLE)
    assert [invoice.recipient_at(p) for p in range(len(invoice.history))] == [MAIRIE] * 4 + [CHR] * 4 + [ECOLE]


def test_records_written_before_targets_were_kept_read_as_they_did():
    """No target kept: between two re-routings the recipient is unknown, so hidden from every recipient."""
    invoice = written_before_targets_were_kept(routed_through(ECOLE, CHR))
    assert comments(invoice.history_for(CHR)) == [(203, f"to {CHR}")]
    assert [invoice.recipient_at(p) for p in range(len(invoice.history))] == [MAIRIE] * 4 + [None] * 2 + [CHR]
    invoice = written_before_targets_were_kept(routed_through(CHR, CHR))
    assert comments(invoice.history_for(CHR)) == [(203, f"to {CHR}")]


def test_a_re_routing_whose_target_is_unknown_leaves_only_its_own_stretch_unattributed():
    """Older code re-routed the invoice first (no target kept), this code then: only the first stretch is unknown."""
    invoice = routed_through(ECOLE, CHR, CHR)
    del invoice.rerouted_to[4]
    assert [invoice.recipient_at(p) for p in range(len(invoice.history))] == (
        [MAIRIE] * 4 + [None] * 2 + [CHR] * 3)  # fmt: skip
    assert [h.code for h in invoice.history_for(CHR)] == [203, 221, 203]


def test_events_carry_the_service_the_invoice_was_routed_to_then():
    """Each event names the service (BT-10) its stretch went to: the document's, then each re-routing's. A stretch
    re-routed by code that kept no former service code has none, never the current service it did not go to."""
    invoice = routed_through()  # the document's SERV-TECH at the Mairie, then a 221
    invoice.reroute(MAIRIE, NAMES[MAIRIE], "SERV-ECOLES", None, None, at(50))
    invoice.set_status(204, "recipient", None, None, at(51))
    services = [e.cloudevent()["data"]["recipient"]["service_code"] for e in new_status_events([], invoice)]
    assert services == ["SERV-TECH"] * 4 + ["SERV-ECOLES"] * 2
    for event in new_status_events([], invoice):
        validate_event(event.cloudevent())
    invoice.former_service_codes.clear()  # as a record re-routed before they were kept
    services = [e.cloudevent()["data"]["recipient"]["service_code"] for e in new_status_events([], invoice)]
    assert services == [None] * 4 + ["SERV-ECOLES"] * 2


def test_a_rejected_invoice_s_events_name_the_buyer_and_no_recipient():
    invoice = Invoice("01J00000000000000000000001", SUPPLIER, "Atelier", "ubl", "application/xml", "originals/x", 10,
                      "ab", at(0), at(0))  # fmt: skip
    invoice.reject(SUMMARY, None, [], "REJ_SEMAN", "EN 16931", at(1))
    [event] = new_status_events([], invoice)
    assert event.cloudevent()["data"]["recipient"] == {
        "siret": None,
        "name": "Mairie (document)",
        "service_code": "SERV-TECH",  # the document's, as its name
    }
    assert "recipient_siret" not in event.attributes()


@pytest.mark.parametrize(
    "recipients, kept, expected",
    [
        # Each stretch named as its first publication did: by the directory's name each routing had.
        ((CHR,), "names", [(MAIRIE, NAMES[MAIRIE])] * 4 + [(CHR, NAMES[CHR])]),
        ((ECOLE, CHR), "names", [(MAIRIE, NAMES[MAIRIE])] * 4 + [(ECOLE, NAMES[ECOLE])] * 2 + [(CHR, NAMES[CHR])]),
        (
            (CHR, MAIRIE, ECOLE),
            "names",
            [(MAIRIE, NAMES[MAIRIE])] * 4
            + [(CHR, NAMES[CHR])] * 2
            + [(MAIRIE, NAMES[MAIRIE])] * 2
            + [(ECOLE, NAMES[ECOLE])],
        ),  # fmt: skip
        # Re-routed by code that kept targets but no names: the buyer's is the document's, another's is null.
        ((ECOLE, CHR), "targets", [(MAIRIE, "Mairie (document)")] * 4 + [(ECOLE, None)] * 2 + [(CHR, NAMES[CHR])]),
        # A record written before targets were kept: to the supplier alone, as before.
        ((ECOLE, CHR), None, [(MAIRIE, "Mairie (document)")] * 4 + [(None, None)] * 2 + [(CHR, NAMES[CHR])]),
    ],
)
def test_each_event_names_the_recipient_of_its_change_not_the_current_one(recipients, kept, expected):
    """What operations' replay publishes again, rebuilt from the invoice as it is now."""
    invoice = routed_through(*recipients)
    if kept != "names":
        invoice.former_recipient_names.clear()
    if kept is None:
        written_before_targets_were_kept(invoice)
    events = [StatusChanged(invoice, entry, None, n) for n, entry in enumerate(invoice.history)]
    for event in events:
        validate_event(event.cloudevent())  # a recipient the record cannot name is a null SIRET and name
    assert [(e.cloudevent()["data"]["recipient"]["siret"], e.cloudevent()["data"]["recipient"]["name"])
            for e in events] == expected  # fmt: skip
    assert [e.attributes().get("recipient_siret") for e in events] == [siret for siret, _ in expected]


def test_the_stream_s_events_name_the_current_recipient():
    invoice = routed_through()
    before = list(invoice.history)
    invoice.reroute(CHR, NAMES[CHR], None, "EJ-9", None, at(59))
    [event] = new_status_events(before, invoice)
    data = event.cloudevent()["data"]
    assert data["recipient"] == {"siret": CHR, "name": NAMES[CHR], "service_code": None}  # the re-route gave none
    assert data["comment"] == "Re-routed by the supplier"


def test_a_replayed_event_names_its_recipient_as_its_first_publication_did():
    """The stream publishes each change with the invoice as it was then; a replay rebuilds it from the invoice as it
    is now, re-routed since: both name every recipient alike."""
    invoice, first = routed_through(), {}
    steps = [lambda: invoice.reroute(ECOLE, NAMES[ECOLE], None, "EJ-9", None, at(51)),
             lambda: invoice.set_status(221, "recipient", "CODE_ROUTAGE_ERR", None, at(52)),
             lambda: invoice.reroute(CHR, NAMES[CHR], None, "EJ-9", None, at(53))]  # fmt: skip
    first.update({e.event_id: e.cloudevent() for e in new_status_events([], invoice)})
    for step in steps:
        before = list(invoice.history)
        step()
        first.update({e.event_id: e.cloudevent() for e in new_status_events(before, invoice)})
    replayed = {e.event_id: e.cloudevent() for e in
                (StatusChanged(invoice, entry, invoice.history[n - 1] if n else None, n)
                 for n, entry in enumerate(invoice.history))}  # fmt: skip
    for key in first:
        assert replayed[key] == first[key], key
    assert replayed == first
    assert [e["data"]["recipient"]["name"] for _, e in sorted(replayed.items())] == (
        [NAMES[MAIRIE]] * 4 + [NAMES[ECOLE]] * 2 + [NAMES[CHR]])  # fmt: skip


def test_the_recipient_sees_the_supplier_s_attachments_and_not_another_recipient_s():
    """The supplier's supporting document is listed to the recipient (representations.invoice_resource)."""
    from datetime import date

    from chalicelib.domain.invoice import Attachment, Invoice
    from chalicelib.entrypoints.representations import invoice_resource

    mairie, chr_ = "21750000100011", "13000123400017"
    invoice = Invoice("01J00000000000000000000000", SUPPLIER, "Atelier", "ubl", "application/xml", "originals/x", 10,
                      "ab", "2026-11-26T10:00:00.000Z", "2026-11-26T10:00:00.000Z")
    invoice.accept(InvoiceSummary(number="F-1", issue_date=date(2026, 11, 20), seller_siret=SUPPLIER,
                                  buyer_siret=mairie), "Mairie", [], "2026-11-26T10:00:01.000Z")
    invoice.attach(Attachment("A1", "bon.pdf", "application/pdf", 5, "k1", "supplier", "2026-11-26T10:00:02.000Z",
                              SUPPLIER))
    invoice.attach(Attachment("A2", "pv.pdf", "application/pdf", 5, "k2", "recipient", "2026-11-26T10:00:03.000Z",
                              chr_))  # a former recipient's
    assert [a["id"] for a in invoice_resource(invoice, mairie)["attachments"]] == ["A1"]
    assert [a["id"] for a in invoice_resource(invoice, SUPPLIER)["attachments"]] == ["A1", "A2"]
