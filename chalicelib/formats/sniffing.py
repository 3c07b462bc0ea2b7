"""What the bytes are, whatever the Content-Type says (magic numbers, then a light look at text); and what the
Content-Type says (media_type), which every route and service that checks a declared type reads through."""

from __future__ import annotations

PDF, XML, JSON, ZIP, GZIP, TAR, UNKNOWN = "pdf", "xml", "json", "zip", "gzip", "tar", "unknown"

# The media type each kind is declared with; what a deposit may declare for each kind.
MEDIA_TYPES = {
    PDF: ("application/pdf",),
    XML: ("application/xml", "text/xml"),
    JSON: ("application/json",),
    ZIP: ("application/zip", "application/x-zip-compressed"),
    GZIP: ("application/gzip", "application/x-gzip", "application/x-tar+gzip"),
}
DESCRIPTIONS = {
    PDF: "a PDF document",
    XML: "an XML document",
    JSON: "a JSON document",
    ZIP: "a ZIP archive",
    GZIP: "a gzip stream (tar.gz)",
    TAR: "an uncompressed tar archive",
    UNKNOWN: "bytes of no recognised format",
}
# Byte order marks, longest first (UTF-32 LE's starts with UTF-16 LE's), and the encoding each announces.
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
# How near the end a PDF's %%EOF must be. Readers (pypdf too) allow bytes after it: padding, a tool's trailer, which
# a 2 KB look missed (such a PDF was taken by POST /v1/invoices, refused in a flow). Bounded: inputs may be hostile.
PDF_TRAILER_WINDOW = 64 * 1024


def sniff(data: bytes) -> str:
    """The kind of `data`: pdf, xml, json, zip, gzip, tar or unknown."""
    head = data[:1024]
    # Containers first, by their magic number at offset 0: a ZIP of uncompressed PDFs holds "%PDF-" near its
    # start and "%%EOF" near its end, and must not pass for one PDF.
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return ZIP
    if head.startswith(b"\x1f\x8b"):
        return GZIP
    if len(data) > 262 and data[257:262] == b"ustar":
        return TAR
    if b"%PDF-" in head and b"%%EOF" in data[-PDF_TRAILER_WINDOW:]:  # header (readers allow junk before it), trailer
        return PDF
    first = _first_character(head)
    if first == "<":
        return XML
    if first in ("{", "["):
        return JSON
    return UNKNOWN


def _first_character(head: bytes) -> str:
    """The first character of text after its byte order mark and blanks, in the encoding the mark (or, without
    one, a UTF-16 '<') announces; '' when there is none."""
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return head[len(bom) :].decode(encoding, "ignore").lstrip(" \t\r\n")[:1]
    if head.startswith(b"\x00<"):
        return "<"  # UTF-16 BE without a mark
    return head.lstrip(b" \t\r\n")[:1].decode("latin-1")


def media_type(content_type: str | None) -> str:
    """The media type a Content-Type header declares: without its parameters (charset, boundary...), trimmed,
    lower case; '' when the header is absent or empty. `Application/XML; charset=UTF-8` → `application/xml`."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def charset_parameter(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type (`application/xml; charset="ISO-8859-1"` → `ISO-8859-1`)."""
    for parameter in (content_type or "").split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').strip() or None
    return None


def kind_of_media(media: str) -> str | None:
    """The kind a declared media type announces (None: not one we know)."""
    for kind, types in MEDIA_TYPES.items():
        if media in types:
            return kind
    return None


def describe(kind: str) -> str:
    return DESCRIPTIONS.get(kind, DESCRIPTIONS[UNKNOWN])
