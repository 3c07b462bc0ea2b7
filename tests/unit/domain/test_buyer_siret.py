"""Which SIRET routes an invoice: the buyer's legal registration (BT-47) first, a bare 14-digit one too (r60)."""

from __future__ import annotations


def _summary_of(xml: bytes):
    from chalicelib.domain.summary import summarize
    from chalicelib.validation import validate

    report = validate(xml)
    assert report.valid, report.findings
    return summarize(report.invoice)


def test_the_buyer_s_legal_siret_bt47_wins_over_its_identifier_bt46():
    """BT-47 (scheme 0009) first, as party_siret's docstring says; a BT-46 establishment SIRET that
    differs does not route the invoice."""
    from invoices import CHR_SIRET, MAIRIE_SIRET, ubl_invoice

    xml = ubl_invoice().replace(
        f'<cbc:CompanyID schemeID="0009">{MAIRIE_SIRET}'.encode(),
        f'<cbc:CompanyID schemeID="0009">{CHR_SIRET}'.encode(),
    )
    assert _summary_of(xml).buyer_siret == CHR_SIRET


def test_an_unqualified_14_digit_legal_registration_is_the_buyer_s_siret():
    """PartyLegalEntity/CompanyID without schemeID (common in UBL exports) and no 0009 identifier."""
    from invoices import MAIRIE_SIRET, ubl_invoice

    xml = ubl_invoice()
    identification = f'<cbc:ID schemeID="0009">{MAIRIE_SIRET}</cbc:ID>'
    identification = f"<cac:PartyIdentification>{identification}</cac:PartyIdentification>"
    xml = xml.replace(identification.encode(), b"")
    legal = f'<cbc:CompanyID schemeID="0009">{MAIRIE_SIRET}'
    xml = xml.replace(legal.encode(), f"<cbc:CompanyID>{MAIRIE_SIRET}".encode())
    assert b'PartyIdentification><cbc:ID schemeID="0009">' + MAIRIE_SIRET.encode() not in xml
    assert _summary_of(xml).buyer_siret == MAIRIE_SIRET
