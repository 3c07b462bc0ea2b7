"""Two re-routes in the same millisecond write equal history entries: the loser's re-read must not take the winner's
write for its own (review r17 F2). It gets the 409 of a lost race, and the winner's routing stands."""

from __future__ import annotations

import pytest
from fakes import FakeDirectory, FakeInvoices, FakeObjectStore
from invoices import CHR_SIRET, MAIRIE_SIRET, SUPPLIER2_SIRET, SUPPLIER_SIRET, ubl_invoice
from processing_support import process_original

from chalicelib.domain.directory import Principal, Service, Structure
from chalicelib.services import layout, lifecycle
from chalicelib.services.deposit import deposit_invoice
from chalicelib.services.errors import ConcurrentUpdate

SUPPLIER = Principal(SUPPLIER_SIRET, "Atelier", ("supplier",))
RECIPIENT = Principal(MAIRIE_SIRET, "Mairie", ("recipient",))
DIRECTORY = FakeDirectory(
    Structure(SUPPLIER_SIRET, "Atelier", ("supplier",)),
    Structure(MAIRIE_SIRET, "Mairie", ("recipient",), requires_service_code=True,
              services=(Service("SERV-TECH", "Services techniques"),)),
    Structure(CHR_SIRET, "CHR", ("recipient",)),
    Structure(SUPPLIER2_SIRET, "Bureau", ("supplier", "recipient")),
)  # fmt: skip
AT = "2026-11-27T10:00:00.000Z"


class RacingInvoices(FakeInvoices):
    """Runs `race` (another request's change) just before the next save lands."""

    def __init__(self):
        super().__init__()
        self.race = None

    def save(self, invoice, claim_number=None):
        race, self.race = self.race, None
        if race:
            race()
        super().save(invoice, claim_number)


def routed_221(invoices: RacingInvoices) -> str:
    originals = FakeObjectStore()
    invoice = deposit_invoice(SUPPLIER, ubl_invoice(), "application/xml", invoices=invoices, originals=originals,
                              max_bytes=100_000)  # fmt: skip
    process_original(layout.original_key(invoice.id), invoices=invoices, originals=originals, directory=DIRECTORY)
    lifecycle.change_status(RECIPIENT, invoice.id, {"code": 221, "reason_code": "ROUTAGE_ERR"}, invoices=invoices)
    return invoice.id


def reroute(invoices, invoice_id: str, recipient: str):
    return lifecycle.reroute(SUPPLIER, invoice_id, {"recipient_siret": recipient}, invoices=invoices,
                             directory=DIRECTORY, now=lambda: AT)  # fmt: skip


def test_a_re_route_that_lost_a_race_to_another_routing_gets_the_409():
    invoices = RacingInvoices()
    invoice_id = routed_221(invoices)
    invoices.race = lambda: reroute(invoices, invoice_id, CHR_SIRET)  # commits first, in the same millisecond
    with pytest.raises(ConcurrentUpdate):
        reroute(invoices, invoice_id, SUPPLIER2_SIRET)
    assert invoices.get(invoice_id).recipient_siret == CHR_SIRET


def test_a_re_route_that_raced_an_identical_one_is_answered_as_done():
    invoices = RacingInvoices()
    invoice_id = routed_221(invoices)
    invoices.race = lambda: reroute(invoices, invoice_id, CHR_SIRET)  # the same routing, same millisecond
    assert reroute(invoices, invoice_id, CHR_SIRET).recipient_siret == CHR_SIRET
