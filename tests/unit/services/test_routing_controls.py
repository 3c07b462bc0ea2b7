"""The BT-10 routing control of a structure that declares services but does not require a service code.

README ("Deposit controls"): a BT-10 given to a structure that declares services must be one of them, existing
and active; a structure that declares none takes any BT-10 (a free buyer reference in B2B).
"""

from __future__ import annotations

import pytest
from fakes import FakeDirectory

from chalicelib.domain.directory import Service, Structure
from chalicelib.domain.invoice import InvoiceSummary
from chalicelib.services.controls import routing_failure

SUPPLIER = "81234567800013"
BUYER = "44306184100047"  # declares services A (active) and B (inactive), requires no service code
FREE = "55208131766522"  # declares no services

DIRECTORY = FakeDirectory(
    Structure(SUPPLIER, "Atelier", ("supplier",)),
    Structure(BUYER, "Coopérative", ("recipient",), requires_service_code=False,
              services=(Service("SERV-A", "Achats"), Service("SERV-B", "Ancien service", active=False))),
    Structure(FREE, "Librairie", ("recipient",)),
)  # fmt: skip


def route(buyer: str, service_code: str | None):
    summary = InvoiceSummary(number="F-1", seller_siret=SUPPLIER, buyer_siret=buyer, service_code=service_code)
    return routing_failure(summary, DIRECTORY, SUPPLIER)


@pytest.mark.parametrize(("code", "state"), [("SERV-B", "inactive"), ("SERV-Z", "unknown")])
def test_a_bt10_that_is_not_an_active_service_of_a_structure_declaring_services_is_rejected(code, state):
    recipient, failure = route(BUYER, code)
    assert recipient == DIRECTORY.structure(BUYER)
    assert failure is not None
    assert (failure.reason_code, failure.rule, failure.business_term) == ("REJ_ADR", "CHORALE-SERVICE", "BT-10")
    assert f"{code!r} is an {state} service of Coopérative ({BUYER})" in failure.message
    assert "declares its services" in failure.message


@pytest.mark.parametrize("code", ["SERV-A", None])
def test_an_active_service_or_no_bt10_reaches_a_structure_that_declares_services_without_requiring_one(code):
    assert route(BUYER, code) == (DIRECTORY.structure(BUYER), None)


def test_a_structure_that_declares_no_services_takes_any_bt10():
    assert route(FREE, "anything the buyer asked for") == (DIRECTORY.structure(FREE), None)


def test_an_invoice_to_a_structure_that_only_supplies_is_rej_adr():
    """The buyer is in the directory and active, but receives no invoices (r60: no test pinned this)."""
    directory = FakeDirectory(Structure(SUPPLIER, "Atelier", ("supplier",)),
                              Structure("82345678900010", "Bureau", ("supplier",)))
    summary = InvoiceSummary(number="F-1", seller_siret=SUPPLIER, buyer_siret="82345678900010")
    recipient, failure = routing_failure(summary, directory, SUPPLIER)
    assert failure is not None
    assert (failure.reason_code, failure.rule, failure.business_term) == ("REJ_ADR", "CHORALE-BUYER", "BT-47")
    assert "does not receive invoices" in failure.message
