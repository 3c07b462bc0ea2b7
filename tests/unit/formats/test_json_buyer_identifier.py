"""A JSON invoice's buyer has one identifier at most (BT-46 is 0..1; review r48 finding 5): two were taken (202),
then the UBL rendition failed UBL-SR-16, a 213 about a UBL the sender never wrote. The seller's BT-29 repeats."""

from __future__ import annotations

from structured_invoices import json_invoice

from chalicelib.formats import json_invoice as json_format

SECOND = {"id": "21750000100012", "scheme": "0009"}


def test_two_buyer_identifiers_are_a_schema_error_with_its_pointer():
    document = json_invoice("J-BUYER-IDS")
    document["buyer"]["identifiers"] = [{"id": "21750000100011", "scheme": "0009"}, SECOND]
    assert [(e.pointer, e.keyword) for e in json_format.schema_errors(document)] == [("/buyer/identifiers", "maxItems")]


def test_one_buyer_identifier_and_several_seller_identifiers_are_taken():
    document = json_invoice("J-SELLER-IDS")
    document["buyer"]["identifiers"] = [SECOND]
    document["seller"]["identifiers"] = [{"id": "81234567800013", "scheme": "0009"}, {"id": "A-1", "scheme": "0088"}]
    assert json_format.schema_errors(document) == []
