"""Hardened XML reading: the one place an invoice's bytes become a tree.

Invoices are hostile input: no DTD is loaded, no entity is resolved, nothing touches
the network, and documents with a DOCTYPE (the vehicle of entity bombs and XXE),
excessive size, node count or depth (libxml2 stops at 256 levels without huge_tree) are
refused before any rule runs.
"""

from __future__ import annotations

import re
import threading

from lxml import etree

from .document import Syntax

# The largest invoice XML the platform reads, wherever it comes from (a deposit, an archive member, a Factur-X
# PDF's embedded XML, an upload): the one limit. It must parse and validate in the 512 MB functions (the API
# parses a deposit, ValidateInvoices validates a lone original).
MAX_XML_BYTES = 4 * 1024 * 1024

# Memory follows the nodes rather than the bytes (~250-950 bytes per element or attribute once parsed and read,
# whatever its length), so the markup is counted before lxml builds anything (count_nodes): every element starts
# with a '<' that is not an end tag's '</', every attribute or namespace declaration has an '=' (text must escape
# '<'; '=' in text is rare), and bytes.count is a C-speed pass (~10 ms per 4 MiB; parsing and validating it take
# seconds). Real documents are far below the cap: the EN 16931 corpus at most 892 ('<' + '='), a 4 MiB UBL
# invoice of ordinary lines about half of it.
# Measured (ru_maxrss delta in a fresh process, parse + all rules, after a warm-up validation): 4 MiB of ordinary
# lines +114 MiB (unindented +128 MiB). Without the cap the densest 4 MiB took +514 MiB (1 M `<a/>` in an Invoice),
# +310 MiB (381 k `<cbc:Note/>`), +204 MiB (826 k attributes); at the cap +141 MiB (`<a/>`), +143 MiB (`<cbc:ID/>`),
# +237 MiB (`<cbc:Note/>`, each kept by the reader), +61 MiB (attributes); elements with an end tag and text
# (`<a>x</a>`, `<cbc:Note>x</cbc:Note>`, lines of one `<cbc:ID>`) +100 to +130 MiB. Documents whose every element
# draws findings are bounded by the findings' quota per rule (findings.MAX_FINDINGS_PER_RULE): 4 MiB of empty
# cac:InvoiceLine (233 k lines, 9 findings each) +256 MiB and 3.5 s, instead of ~600 MiB and minutes.
MAX_XML_NODES = 262_144

UBL_INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
UBL_CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CII_NS = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"

ROOTS: dict[str, tuple[Syntax, str]] = {
    f"{{{UBL_INVOICE_NS}}}Invoice": ("ubl", "Invoice"),
    f"{{{UBL_CREDIT_NOTE_NS}}}CreditNote": ("ubl", "CreditNote"),
    f"{{{CII_NS}}}CrossIndustryInvoice": ("cii", "CrossIndustryInvoice"),
}


class UnreadableInvoice(ValueError):
    """The bytes are not an invoice document we may read; `code` is stable, `detail` is for people."""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail


_local = threading.local()


def _parser() -> etree.XMLParser:
    # lxml parsers must not be shared between threads.
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            load_dtd=False,
            dtd_validation=False,
            no_network=True,
            huge_tree=False,
            # a value's XPath string value (what the official rules read) skips comments and PIs; dropping them at
            # parse time merges the text around them, so `el.text` is that whole value everywhere
            remove_comments=True,
            remove_pis=True,
        )
        _local.parser = parser
    return parser


# Encodings an invoice may declare: those where '<' and '=' are the bytes the node cap counts (in UTF-16/32 too,
# beside zero bytes). UTF-7 writes '<' as '+ADw-' and would slip any number of elements past the count.
ACCEPTED_ENCODINGS = frozenset(
    {"utf-8", "utf8", "utf-16", "utf-16le", "utf-16be", "us-ascii", "ascii", "windows-1252", "cp1252", "latin1"}
    | {f"iso-8859-{n}" for n in range(1, 16)}
)
# libxml2 reads an XML declaration of any length (spaces, a long version number): the whole of it is read, up to
# this many bytes, and one that does not end by then is refused rather than left partly unread
MAX_DECLARATION_BYTES = 1024
_DECLARATION_START = re.compile(rb"(?:\xef\xbb\xbf)?\s*<\?xml\s")
# the declaration's pseudo-attributes in turn, so that an 'encoding=' inside another's quoted value is not taken
_PSEUDO_ATTRIBUTE = re.compile(rb"([A-Za-z]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")


def declared_encoding(data: bytes) -> str | None:
    """The encoding named by an ASCII-compatible XML declaration, lower-cased (None: none declared, or UTF-16/32,
    whose declaration is not in ASCII bytes). UnreadableInvoice when the declaration does not end within
    MAX_DECLARATION_BYTES."""
    start = _DECLARATION_START.match(data, 0, MAX_DECLARATION_BYTES)
    if start is None:
        return None
    end = data.find(b"?>", start.end(), MAX_DECLARATION_BYTES)
    if end < 0:
        raise UnreadableInvoice(
            "malformed", f"The XML declaration does not end within the document's first {MAX_DECLARATION_BYTES} bytes."
        )
    for found in _PSEUDO_ATTRIBUTE.finditer(data, start.end(), end):
        if found.group(1) == b"encoding":
            value = found.group(2) if found.group(2) is not None else found.group(3)
            return value.decode("ascii", "replace").strip().lower()
    return None


def count_nodes(data: bytes) -> int:
    """At least the elements and attributes the bytes can hold: each '<' but those of end tags ('</' closes an
    element the start tag counted), and each '='. Never fewer: a '</' in text or CDATA also cancels only itself.
    In UTF-16/32 (zero bytes: the '<' of the document element has one) a start tag's '<' may itself be followed by
    the byte '/' (UTF-16BE names from U+2F00), so no end tag is discounted there."""
    markup = data.count(b"<") + data.count(b"=")
    return markup if b"\x00" in data else markup - data.count(b"</")


def parse_xml(data: bytes) -> etree._Element:
    """Parse untrusted bytes into an element tree, or raise UnreadableInvoice."""
    if not data or data.isspace():  # (not data.strip(): that copies the document)
        raise UnreadableInvoice("empty", "The document is empty.")
    if len(data) > MAX_XML_BYTES:
        raise UnreadableInvoice(
            "too-large", f"The XML document is {len(data)} bytes, over the limit of {MAX_XML_BYTES} bytes."
        )
    encoding = declared_encoding(data)
    if encoding is not None and encoding not in ACCEPTED_ENCODINGS:
        raise UnreadableInvoice(
            "unsupported-encoding",
            f"The XML declares the encoding {encoding!r}: send UTF-8 (or UTF-16, US-ASCII, ISO-8859-1 to 15, "
            "windows-1252).",
        )
    # each counted character is a byte: a document no longer than the cap cannot exceed it (no count, the usual case);
    # end tags are counted only when '<' and '=' alone exceed it (a large attachment's base64 has neither)
    nodes = 0
    if len(data) > MAX_XML_NODES and data.count(b"<") + data.count(b"=") > MAX_XML_NODES:
        nodes = count_nodes(data)
    if nodes > MAX_XML_NODES:
        raise UnreadableInvoice(
            "too-many-nodes",
            f"The XML document has up to {nodes} elements and attributes (its start tags and '=' characters), over "
            f"the limit of {MAX_XML_NODES}.",
        )
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        message = str(exc)
        if "depth" in message.lower():
            raise UnreadableInvoice("too-deep", "The XML document is nested too deeply.") from None
        raise UnreadableInvoice("malformed", f"The document is not well-formed XML: {message}") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise UnreadableInvoice("doctype", "XML documents with a DOCTYPE (DTD or entity declarations) are refused.")
    return root


def detect_syntax(root: etree._Element) -> tuple[Syntax, str]:
    """(syntax, document name) from the root element, or raise UnreadableInvoice."""
    found = ROOTS.get(root.tag) if isinstance(root.tag, str) else None
    if found is None:
        raise UnreadableInvoice(
            "not-an-invoice",
            f"The root element {root.tag!r} is neither a UBL 2.1 Invoice/CreditNote "
            "nor a CII D16B CrossIndustryInvoice.",
        )
    return found
