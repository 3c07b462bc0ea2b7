"""Factur-X / ZUGFeRD: the CII invoice embedded in a PDF/A-3, and its profile.

Extraction uses the `factur-x` library (which reads the PDF's embedded files with pypdf and looks
for factur-x.xml / ZUGFeRD-invoice.xml); the XML it returns is then read again with the platform's
hardened parser, like any deposited XML. Profiles below EN 16931 (MINIMUM, BASIC WL) carry no
invoice lines: they are not complete invoices and are rejected with that reason.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ..validation.parsing import CII_NS, UnreadableInvoice, detect_syntax, parse_xml

# The library logs every lookup at INFO/WARNING; its findings come back to us as values.
logging.getLogger("factur-x").setLevel(logging.ERROR)

INCOMPLETE_PROFILES = {"minimum": "MINIMUM", "basicwl": "BASIC WL"}
PROFILE_NAMES = {
    "minimum": "MINIMUM",
    "basicwl": "BASIC WL",
    "basic": "BASIC",
    "en16931": "EN 16931 (COMFORT)",
    "extended": "EXTENDED",
    "extended-ctc-fr": "EXTENDED-CTC-FR",
}
PROFILE_RULE = "CHORALE-FX-01"


class NoEmbeddedInvoice(ValueError):
    """A PDF that carries no readable invoice XML; `detail` says what was found."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Extracted:
    xml: bytes
    filename: str
    profile: str  # factur-x level: minimum, basicwl, basic, en16931, extended, … ("unknown" if unreadable)

    @property
    def complete(self) -> bool:
        return self.profile not in INCOMPLETE_PROFILES

    @property
    def profile_name(self) -> str:
        return PROFILE_NAMES.get(self.profile, self.profile)


def extract(pdf: bytes) -> Extracted:
    """The embedded CII invoice, or NoEmbeddedInvoice saying why not."""
    from facturx import get_xml_from_pdf

    try:
        filename, xml = get_xml_from_pdf(pdf, check_xsd=False)
    except Exception as exc:  # noqa: BLE001 - pypdf raises many kinds on hostile PDFs
        raise NoEmbeddedInvoice(f"The PDF could not be read ({type(exc).__name__}: {exc}).") from None
    if not xml:
        raise NoEmbeddedInvoice(
            "The PDF has no embedded factur-x.xml or ZUGFeRD-invoice.xml: it is not a Factur-X/ZUGFeRD invoice. "
            "Deposit the invoice as XML (UBL or CII), JSON, or a Factur-X PDF with its XML embedded."
        )
    try:
        root = parse_xml(xml)
        syntax, _ = detect_syntax(root)
    except UnreadableInvoice as exc:
        raise NoEmbeddedInvoice(f"The PDF's embedded {filename} is not a readable invoice: {exc.detail}") from None
    if syntax != "cii":
        raise NoEmbeddedInvoice(f"The PDF's embedded {filename} is not a CII CrossIndustryInvoice.")
    return Extracted(xml=xml, filename=filename, profile=profile_of(root))


def profile_of(root) -> str:
    """The Factur-X level named by the guideline parameter (BT-24), or "unknown"."""
    from facturx import get_level

    try:
        return get_level(root, "factur-x")
    except Exception:  # noqa: BLE001 - no or unknown guideline: the EN 16931 rules will say what is wrong
        return "unknown"


def profile_refusal(extracted: Extracted) -> str | None:
    """Why an extracted invoice is not a complete invoice (None when its profile is complete)."""
    if extracted.complete:
        return None
    return (
        f"The Factur-X profile is {extracted.profile_name}: a {extracted.profile_name} document does not carry "
        "the invoice lines and VAT details EN 16931 requires, so it is not a complete invoice. Send the "
        "BASIC, EN 16931 (COMFORT) or EXTENDED profile."
    )


__all__ = ["CII_NS", "Extracted", "NoEmbeddedInvoice", "PROFILE_RULE", "extract", "profile_of", "profile_refusal"]
