"""Factur-X / ZUGFeRD: the CII invoice embedded in a PDF/A-3, and its profile.

Extraction reads the PDF's embedded files with pypdf (factur-x.xml / ZUGFeRD-invoice.xml first, then any *.xml,
each by its file name or its name-tree key), each inflated at most to the invoice XML limit
(validation.parsing.MAX_XML_BYTES), the object and xref streams read on the way inflated at most to
PDF_STRUCTURE_BUDGET all together (and, in a flow, all its PDFs within a FlowBudget), and reads the XML with the
platform's hardened parser, like any deposited XML.
Profiles below EN 16931 (MINIMUM, BASIC WL) carry no invoice lines: they are not complete invoices and are
rejected with that reason.
"""

from __future__ import annotations

import functools
import io
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from lxml import etree

from ..validation.model import LOCATION_NAMESPACES
from ..validation.parsing import CII_NS, MAX_XML_BYTES, UnreadableInvoice, detect_syntax, parse_xml

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
MiB = 1024 * 1024


class NoEmbeddedInvoice(ValueError):
    """A PDF that carries no readable invoice XML; `detail` says what was found."""

    def __init__(self, detail: str, reason: str = "no-embedded-invoice"):
        super().__init__(detail)
        self.detail = detail
        self.reason = reason


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


# The embedded files an extraction looks for first (Factur-X, ZUGFeRD 2, XRechnung), then any other *.xml.
KNOWN_NAMES = ("factur-x.xml", "zugferd-invoice.xml", "xrechnung.xml")
MAX_CANDIDATES = 8  # embedded *.xml files read at most (each capped at MAX_XML_BYTES)
# pypdf's limits while reading the rest of the PDF (object streams, name trees), far below its 75 MB defaults.
PDF_LIMITS = {
    "zlib_maximum_output_length": 16 * MiB,
    "lzw_maximum_output_length": 16 * MiB,
    "run_length_maximum_output_length": 16 * MiB,
    "brotli_maximum_output_length": 16 * MiB,
    "jbig2_maximum_output_length": 16 * MiB,
    "array_based_stream_maximum_output_length": 16 * MiB,
    "stream_decoding_work_maximum_length": 32 * MiB,
}


# What the document's object streams and xref streams (its structure: the catalog, the name tree, the file
# specifications…) may inflate to, all together. pypdf's limits are per stream, and pypdf inflates and parses the
# whole of an object stream for any one object in it: a 198 KB PDF of 12 object streams of 16 MiB of padding each
# took 21 s and +224 MiB. Real object streams are a few KB to a few hundred KB (a hundred or so objects each), and
# finding the embedded files reads a handful of them.
PDF_STRUCTURE_BUDGET = 8 * MiB


def _capped(limit: int) -> dict[str, int]:
    """pypdf's decoders stop inflating at `limit` bytes (LimitReachedError): a stream is never inflated whole."""
    return {k: limit for k in PDF_LIMITS} | {"stream_decoding_work_maximum_length": 2 * limit}


@dataclass(slots=True)
class _Spent:
    structure: int = 0  # bytes the object and xref streams inflated to
    xml: int = 0  # bytes of embedded XML inflated (a candidate refused at its cap counts its cap)
    over: bool = False  # the structure budget was reached

    @property
    def structure_left(self) -> int:
        return PDF_STRUCTURE_BUDGET - self.structure


_DOCUMENT: ContextVar[_Spent | None] = ContextVar("facturx_document", default=None)


_WRAPPING = threading.Lock()


def _budget_structure_streams() -> None:
    """Wraps pypdf's stream decoding, once per process, so that during an extraction every stream it inflates
    (object and xref streams, wherever pypdf does: resolving an object, reading the xref, rebuilding a broken xref
    by inflating every object stream in the file) is capped at what is left of the document's
    PDF_STRUCTURE_BUDGET, and spends what it inflated to. Outside an extraction, and for the embedded files
    (capped apart, at MAX_XML_BYTES each), decoding is pypdf's own."""
    from pypdf import apply_configuration, filters, get_configuration
    from pypdf.errors import LimitReachedError

    with _WRAPPING:  # whichever thread extracts first
        decode = filters.decode_stream_data
        if getattr(decode, "budgets_structure", False):
            return

        @functools.wraps(decode)
        def decode_stream_data(stream):
            spent = _DOCUMENT.get()
            if spent is None or _type_of(stream) == "/EmbeddedFile":  # capped apart, and counted in spent.xml
                return decode(stream)
            if spent.structure_left <= 0:
                spent.over = True
                raise LimitReachedError(f"The PDF's structure budget of {PDF_STRUCTURE_BUDGET} bytes is spent.")
            cap = min(spent.structure_left, get_configuration().zlib_maximum_output_length)
            try:
                with apply_configuration(**_capped(cap)):
                    data = decode(stream)
            except LimitReachedError:
                spent.structure, spent.over = PDF_STRUCTURE_BUDGET, True
                raise
            spent.structure += len(data)
            return data

        decode_stream_data.budgets_structure = True
        filters.decode_stream_data = decode_stream_data  # EncodedStreamObject.get_data imports it at each call


def _type_of(stream) -> object:
    """A stream's /Type, resolved (an indirect /Type must not pass for another): None when it cannot be read."""
    try:
        return stream["/Type"] if "/Type" in stream else None
    except Exception:  # noqa: BLE001 - a hostile reference: the stream is budgeted
        return None


class FlowBudget:
    """What the PDF files of one flow may inflate to together: their object streams and the embedded XML read. Each
    PDF is bounded alone (PDF_STRUCTURE_BUDGET, MAX_CANDIDATES × MAX_XML_BYTES: about a second of work), but a
    thousand of them each near those bounds would outlast the expanding function (300 s) on every delivery. A PDF
    is not read once the budget is spent (the last one read may go over it by one PDF's bounds)."""

    def __init__(self, total: int):
        self.total = total
        self.left = total

    @contextmanager
    def applied(self) -> Iterator[FlowBudget]:
        """Extractions inside the block are charged to this budget."""
        token = _FLOW_BUDGET.set(self)
        try:
            yield self
        finally:
            _FLOW_BUDGET.reset(token)


_FLOW_BUDGET: ContextVar[FlowBudget | None] = ContextVar("facturx_flow_budget", default=None)


def extract(pdf: bytes) -> Extracted:
    """The embedded CII invoice, or NoEmbeddedInvoice saying why not.

    The embedded XML is read with every pypdf decoder capped at MAX_XML_BYTES: a small PDF whose factur-x.xml
    inflates to gigabytes (a decompression bomb) is refused once the cap is reached, never inflated whole. Inside
    a FlowBudget's block, what it inflated is charged to that budget, and nothing is read once it is spent."""

    flow = _FLOW_BUDGET.get()
    if flow is not None and flow.left <= 0:
        raise NoEmbeddedInvoice(
            f"The flow's PDF files inflate to more than {flow.total} bytes together (their object streams and "
            "embedded XML): this file is not read; send it in another flow.",
            reason="too-large",
        )
    spent = _Spent()
    try:
        return _extract(pdf, spent)
    finally:
        if flow is not None:
            flow.left -= spent.structure + spent.xml


def _extract(pdf: bytes, spent: _Spent) -> Extracted:
    from pypdf import PdfReader, apply_configuration
    from pypdf.errors import LimitReachedError

    _budget_structure_streams()
    refusals: list[str] = []
    document = _DOCUMENT.set(spent)
    try:
        with apply_configuration(**PDF_LIMITS):
            reader = PdfReader(io.BytesIO(pdf))
            attachments = [(name, a) for a in reader.attachment_list if (name := _xml_name(a)) is not None]
            attachments.sort(key=lambda candidate: not _known(candidate[0]))
            for name, attachment in attachments[:MAX_CANDIDATES]:
                try:
                    with apply_configuration(**_capped(MAX_XML_BYTES)):
                        xml = attachment.content
                except LimitReachedError:
                    xml = None
                spent.xml += MAX_XML_BYTES if xml is None else len(xml)
                if xml is None or len(xml) > MAX_XML_BYTES:
                    raise NoEmbeddedInvoice(
                        f"The PDF's embedded {name} inflates to more than {MAX_XML_BYTES} bytes, the limit of an "
                        "invoice XML: it is refused (a decompression bomb, or not an invoice).",
                        reason="too-large",
                    )
                try:
                    root = parse_xml(xml)
                    syntax, _ = detect_syntax(root)
                    refusal = None if syntax == "cii" else f"The PDF's embedded {name} is not a CII invoice."
                except UnreadableInvoice as exc:
                    refusal = f"The PDF's embedded {name} is not a readable invoice: {exc.detail}"
                if refusal is not None:
                    if _known(name):  # the file the standard names is the invoice: never another one in its place
                        raise NoEmbeddedInvoice(refusal)
                    refusals.append(refusal)
                    continue
                if spent.over:  # pypdf went on past a stream it could not inflate: refused all the same
                    raise _over_budget()
                return Extracted(xml=xml, filename=name, profile=profile_of(root))
    except NoEmbeddedInvoice:
        raise
    except Exception as exc:  # noqa: BLE001 - pypdf raises many kinds on hostile PDFs
        if spent.over:
            raise _over_budget() from None
        raise NoEmbeddedInvoice(f"The PDF could not be read ({type(exc).__name__}: {exc}).") from None
    finally:
        _DOCUMENT.reset(document)
    if spent.over:  # pypdf went on past a stream it could not inflate
        raise _over_budget()
    if refusals:
        raise NoEmbeddedInvoice(refusals[0])
    raise NoEmbeddedInvoice(
        "The PDF has no embedded factur-x.xml or ZUGFeRD-invoice.xml: it is not a Factur-X/ZUGFeRD invoice. "
        "Deposit the invoice as XML (UBL or CII), JSON, or a Factur-X PDF with its XML embedded."
    )


def _over_budget() -> NoEmbeddedInvoice:
    return NoEmbeddedInvoice(
        f"The PDF's object streams inflate to more than {PDF_STRUCTURE_BUDGET} bytes before its embedded invoice is "
        "found: it is refused (a decompression bomb, or not a Factur-X invoice).",
        reason="too-large",
    )


def _xml_name(attachment) -> str | None:
    """The name an embedded file is read as: its file name (/UF, else /F) or its key in the EmbeddedFiles name tree
    (the PDF allows any key), whichever the standard names, else whichever is an *.xml; None when neither is."""
    try:
        file_name = attachment.alternative_name
    except Exception:  # noqa: BLE001 - a hostile file specification: its key is still read
        file_name = None
    names = [str(n) for n in (file_name, attachment.name) if _is_xml(n)]
    return next((n for n in names if _known(n)), names[0] if names else None)


def _is_xml(name) -> bool:
    return isinstance(name, str) and name.lower().endswith(".xml")


def _known(name: str) -> bool:
    return name.lower() in KNOWN_NAMES


# BT-24 where the engine reads it (validation.readers.cii): the first guideline ID of the document context.
_GUIDELINE_ID = "rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID"


def profile_of(root) -> str:
    """The Factur-X level named by the guideline parameter (BT-24), or "unknown".

    The guideline is read where the engine reads BT-24, trimmed and in any letter case: a pretty-printed or
    upper-case MINIMUM guideline must not pass for a complete invoice. The factur-x library maps it to its level,
    given a document holding only the guideline so normalised (it reads the text as written)."""
    from facturx import get_level

    guideline = root.findtext(_GUIDELINE_ID, namespaces=LOCATION_NAMESPACES)
    if guideline is None:
        return "unknown"  # no guideline: the EN 16931 rules will say what is wrong
    ram = f"{{{LOCATION_NAMESPACES['ram']}}}"
    document = etree.Element(root.tag, nsmap={"rsm": LOCATION_NAMESPACES["rsm"], "ram": LOCATION_NAMESPACES["ram"]})
    context = etree.SubElement(document, f"{{{LOCATION_NAMESPACES['rsm']}}}ExchangedDocumentContext")
    parameter = etree.SubElement(context, f"{ram}GuidelineSpecifiedDocumentContextParameter")
    etree.SubElement(parameter, f"{ram}ID").text = guideline.strip().lower()
    try:
        return get_level(document, "factur-x")
    except Exception:  # noqa: BLE001 - an unknown guideline: the EN 16931 rules will say what is wrong
        return "unknown"


def profile_refusal(extracted: Extracted) -> str | None:
    """Why an extracted invoice is not a complete invoice (None when its profile is complete)."""
    return refusal_for_profile(extracted.profile)


def refusal_for_profile(profile: str) -> str | None:
    """Why a CII whose guideline (BT-24) names this Factur-X profile is refused, whatever its container (None
    when the profile claims a complete EN 16931 invoice). MINIMUM and BASIC WL are, by the Factur-X
    specification, subsets below EN 16931: a document that names them declares that it is not a complete
    invoice (not an invoice under French law), whatever it happens to contain."""
    if profile not in INCOMPLETE_PROFILES:
        return None
    name = PROFILE_NAMES[profile]
    return (
        f"The guideline identifier (BT-24) names the Factur-X {name} profile. Factur-X defines {name} as a "
        "subset below EN 16931: a document of that profile declares that it is not a complete invoice (in France "
        "it is not an invoice), so it is refused whatever it contains. If the document is a complete invoice, "
        "send it with the guideline of the BASIC, EN 16931 (COMFORT) or EXTENDED profile."
    )


__all__ = [
    "CII_NS",
    "Extracted",
    "FlowBudget",
    "NoEmbeddedInvoice",
    "PROFILE_RULE",
    "extract",
    "profile_of",
    "profile_refusal",
    "refusal_for_profile",
]
