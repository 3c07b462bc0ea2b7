"""A re-route is the supplier's act (Chorus Pro's `recycler`): its 203 is journaled as the supplier's, and still read
as a re-route (review r14, finding 6). No AWS."""

from __future__ import annotations

from datetime import date

from chalicelib.domain.events import new_status_events
from chalicelib.domain.invoice import Invoice, InvoiceSummary

SUPPLIER, MAIRIE, CHR = "81234567800013", "21750000100011", "13000123400017"


def rerouted(comment: str | None) -> Invoice:
    summary = InvoiceSummary(number="F-1", issue_date=date(2026, 11, 20), seller_siret=SUPPLIER, buyer_siret=MAIRIE)
    invoice = Invoice("01J00000000000000000000000", SUPPLIER, "Atelier", "ubl", "application/xml", "originals/x", 10,
                      "ab", "2026-11-26T10:00:00.000Z", "2026-11-26T10:00:00.000Z")  # fmt: skip
    invoice.accept(summary, "Mairie", [], "2026-11-26T10:00:01.000Z")
    invoice.set_status(221, "recipient", "DEST_ERR", "not ours", "2026-11-26T10:00:02.000Z")
    invoice.reroute(CHR, "CHR", None, None, comment, "2026-11-26T10:00:03.000Z")
    return invoice


def test_a_re_route_s_203_is_the_supplier_s_with_its_comment_or_the_default():
    for comment, shown in (("bon destinataire", "bon destinataire"), (None, "Re-routed by the supplier")):
        entry = rerouted(comment).history[-1]
        assert (entry.code, entry.actor, entry.comment) == (203, "supplier", shown)


def test_the_supplier_s_203_is_still_read_as_a_re_route():
    invoice = rerouted("to the CHR")
    assert [(h.code, h.actor) for h in invoice.history_for(CHR)] == [(203, "supplier")]
    assert invoice.recipient_at(len(invoice.history) - 1) == CHR and invoice.recipient_at(2) == MAIRIE
    [event] = new_status_events(invoice.history[:-1], invoice)
    assert (event.entry.actor, event.recipient[0]) == ("supplier", CHR)
