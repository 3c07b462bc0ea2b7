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
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


def sniff(data: bytes) -> str:
    """The kind of `data`: pdf, xml, json, zip, gzip, tar or unknown."""
    head = data[:1024]
    if b"%PDF-" in head and b"%%EOF" in data[-2048:]:  # header (readers allow junk before it) and trailer
        return PDF
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return ZIP
    if head.startswith(b"\x1f\x8b"):
        return GZIP
    if len(data) > 262 and data[257:262] == b"ustar":
        return TAR
    text = head
    for bom in _BOMS:
        if text.startswith(bom):
            text = text[len(bom) :]
            break
    text = text.lstrip(b" \t\r\n")
    if text.startswith(b"<"):
        return XML
    if text.startswith((b"{", b"[")):
        return JSON
    return UNKNOWN


def media_type(content_type: str | None) -> str:
    """The media type a Content-Type header declares: without its parameters (charset, boundary...), trimmed,
    lower case; '' when the header is absent or empty. `Application/XML; charset=UTF-8` → `application/xml`."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def kind_of_media(media: str) -> str | None:
    """The kind a declared media type announces (None: not one we know)."""
    for kind, types in MEDIA_TYPES.items():
        if media in types:
            return kind
    return None


def describe(kind: str) -> str:
    return DESCRIPTIONS.get(kind, DESCRIPTIONS[UNKNOWN])
