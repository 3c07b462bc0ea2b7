"""Structured JSON: the round trip JSON → UBL → semantic model → JSON is the identity (no AWS)."""

from __future__ import annotations

import pytest
from json_roundtrip import from_model
from structured_invoices import json_invoice

from chalicelib.formats.json_invoice import schema_errors
from chalicelib.formats.ubl_writer import to_ubl
from chalicelib.validation import validate


@pytest.mark.parametrize("type_code", ["380", "381"])
def test_round_trip_json_to_ubl_to_semantic_model_is_the_input(type_code):
    document = json_invoice("RT-1", type_code=type_code)
    document.update(
        {
            "business_process": "A1",
            "tax_point_date": "2026-11-19",
            "project_reference": "PRJ-7",
            "contract_reference": "CT-2026-04",
            "purchase_order": "EJ-0042",
            "buyer_accounting_reference": "6063",
            "payment_terms": "30 jours fin de mois",
            "preceding_invoices": [{"number": "F-2026-0001", "issue_date": "2026-10-01"}],
            "invoice_period": {"start": "2026-10-01", "end": "2026-10-31"},
            "delivery": {
                "date": "2026-10-31",
                "name": "Services techniques",
                "location_id": {"id": "3012345000010", "scheme": "0088"},
                "address": {"line1": "2 place de la Mairie", "city": "Lyon", "postcode": "69001", "country_code": "FR"},
            },
            "allowances": [
                {
                    "amount": "10.00",
                    "vat_category": "S",
                    "vat_rate": "20",
                    "reason": "Remise fidélité",
                    "reason_code": "95",
                }
            ],  # fmt: skip
            "charges": [
                {
                    "amount": "10.00",
                    "base_amount": "100.00",
                    "percent": "10",
                    "vat_category": "S",
                    "vat_rate": "20",
                    "reason": "Frais de port",
                }
            ],  # fmt: skip
        }
    )
    document["totals"].update({"allowance_total": "10.00", "charge_total": "10.00", "prepaid": "0.00"})
    document["seller"].update({"trading_name": "Atelier", "contact": {"name": "Compta", "telephone": "0102030405",
                                                                     "email": "c@atelier.example"}})  # fmt: skip
    document["payment"].update({"remittance": "RT-1", "account_name": "Atelier", "bic": "AGRIFRPP"})
    line = document["lines"][0]
    line.update({"note": "Trimestre 4", "order_line_reference": "3", "accounting_reference": "6063-1",
                 "period": {"start": "2026-10-01", "end": "2026-10-31"}})  # fmt: skip
    line["price"]["base_quantity"] = "1"
    line["item"].update({"description": "Contrat annuel", "buyer_id": "B-77", "origin_country": "FR"})
    assert schema_errors(document) == []
    report = validate(to_ubl(document))
    assert report.valid, report.fatal
    # a credit note too: BT-9 and BT-11 are read where EN 16931-3-2 binds them in a CreditNote
    assert from_model(report.invoice) == document
    assert report.invoice.is_credit_note is (type_code == "381")
