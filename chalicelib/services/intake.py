"""Reading what arrives, whatever its format: the XML to validate and the XML the recipient downloads.

- XML (UBL 2.1 or CII D16B) is its own rendition.
- A Factur-X/ZUGFeRD PDF is the original; its embedded CII is the rendition (stored beside it).
- A structured JSON invoice is the original; its generated UBL 2.1 is the rendition.

Renditions live under `renditions/<invoice id>.xml`, outside the notified `originals/` prefix, and are
written before the original so that processing finds them; if one is missing (a crash, or an original
that arrived another way), processing derives it again from the original and stores it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..formats import facturx, json_invoice, jsontext, sniffing, ubl_writer
from ..validation.findings import FATAL, Finding
from ..validation.parsing import (
    ACCEPTED_ENCODINGS,
    MAX_XML_BYTES,
    UnreadableInvoice,
    declared_encoding,
    detect_syntax,
    parse_xml,
)
from . import layout
from .errors import IdempotencyKeyReused, InvalidInput, PayloadTooLarge, Unprocessable, UnsupportedMediaType
from .ports import ObjectHead, ObjectStore, StoredObject

RENDITIONS_PREFIX = "renditions/"
META_PROFILE = "facturx-profile"
# The media type each kind of original is stored with: the first sniffing declares for it.
XML_MEDIA = sniffing.MEDIA_TYPES[sniffing.XML][0]  # application/xml
PDF_MEDIA = sniffing.MEDIA_TYPES[sniffing.PDF][0]  # application/pdf
JSON_MEDIA = sniffing.MEDIA_TYPES[sniffing.JSON][0]  # application/json
INVOICE_KINDS = (sniffing.XML, sniffing.PDF, sniffing.JSON)
FORMAT_RULE = "CHORALE-FMT-01"
GUIDELINE_PATH = (
    "/rsm:CrossIndustryInvoice/rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID"
)


@dataclass(frozen=True, slots=True)
class Prepared:
    format: str  # ubl | cii | facturx | json
    media: str  # the original's media type
    rendition: bytes | None = None  # the standard XML, when the original is not XML itself
    metadata: dict[str, str] = field(default_factory=dict)  # extra S3 metadata for the original


@dataclass(frozen=True, slots=True)
class Source:
    """What processing validates: the XML, and a refusal found before the rules (e.g. an incomplete profile)."""

    xml: bytes
    refusal: Finding | None = None


def rendition_key(invoice_id: str) -> str:
    return f"{RENDITIONS_PREFIX}{invoice_id}.xml"


def media_for(kind: str) -> str:
    return sniffing.MEDIA_TYPES[kind][0]


def check_declared(body: bytes, media: str) -> str:
    """The kind of the body; 415 when the declared media type announces another kind than the bytes are."""
    declared = sniffing.kind_of_media(media)
    found = sniffing.sniff(body)
    if declared is not None and found not in (declared, sniffing.UNKNOWN):
        accepted = sniffing.MEDIA_TYPES.get(found)
        hint = f"; send it as {' or '.join(accepted)}" if accepted else ""
        raise UnsupportedMediaType(
            f"The Content-Type says {media} ({sniffing.describe(declared)}) but the body is "
            f"{sniffing.describe(found)}{hint}.",
            declared=media,
            found=found,
        )
    return declared or found


def prepare(body: bytes, media: str, charset: str | None = None) -> Prepared:
    """Check an invoice body of a declared media type (XML, PDF or JSON): 400/415/422 as ServiceErrors.
    `charset`: the Content-Type's charset parameter, which is not read, but named when it explains a refusal."""
    kind = check_declared(body, media)
    if kind == sniffing.PDF:
        return prepare_pdf(body)
    if kind == sniffing.JSON:
        return prepare_json(body)
    return prepare_xml(body, media, charset)


def prepare_member(body: bytes) -> Prepared:
    """Check a file of an archive or an upload by its content alone."""
    kind = sniffing.sniff(body)
    if kind not in INVOICE_KINDS:
        raise UnsupportedMediaType(
            f"The file is {sniffing.describe(kind)}, not an invoice (UBL or CII XML, Factur-X PDF, or JSON)"
            + (": nested archives are not expanded." if kind in (sniffing.ZIP, sniffing.GZIP, sniffing.TAR) else "."),
            found=kind,
        )
    return prepare(body, media_for(kind))


def prepare_xml(body: bytes, media: str = XML_MEDIA, charset: str | None = None) -> Prepared:
    try:
        syntax, _document = detect_syntax(parse_xml(body))
    except UnreadableInvoice as exc:
        raise InvalidInput(exc.detail + _unread_charset(body, charset, exc.code), reason=exc.code) from None
    return Prepared(format=syntax, media=media)


def _unread_charset(body: bytes, charset: str | None, code: str) -> str:
    """What to do, when a malformed body may be in the charset its Content-Type names rather than in UTF-8: XML
    says its encoding in its declaration (else UTF-8 or UTF-16), and that is what is read."""
    if code != "malformed" or charset is None or charset.lower() in ("utf-8", "utf8"):
        return ""
    try:
        body.decode("utf-8")
        return ""  # valid UTF-8: the encoding is not what is wrong (a tag mismatch…)
    except UnicodeDecodeError:
        pass
    try:
        if declared_encoding(body) is not None:
            return ""
    except UnreadableInvoice:  # a declaration that does not end: the refusal already says so
        return ""
    shown = charset[:40]
    declaration = f'<?xml version="1.0" encoding="{shown}"?>' if shown.lower() in ACCEPTED_ENCODINGS else None
    return (
        f". The Content-Type's charset parameter ({shown}) is not read: an XML document whose declaration names no "
        "encoding is read as UTF-8. "
        + (f"Declare the encoding in the XML declaration ({declaration}) or send UTF-8." if declaration else
           "Send UTF-8, or declare the encoding in the XML declaration.")
    )  # fmt: skip


def prepare_pdf(body: bytes) -> Prepared:
    try:
        extracted = facturx.extract(body)
    except facturx.NoEmbeddedInvoice as exc:
        raise Unprocessable(exc.detail, reason=exc.reason) from None
    return Prepared("facturx", PDF_MEDIA, extracted.xml, {META_PROFILE: extracted.profile})


def prepare_json(body: bytes) -> Prepared:
    if len(body) > MAX_XML_BYTES:  # the invoice document limit, as for XML (its UBL is about as large)
        raise InvalidInput(
            f"The JSON invoice is {len(body)} bytes, over the limit of {MAX_XML_BYTES} bytes.", reason="too-large"
        )
    try:
        document = json_invoice.parse(body)
    except jsontext.MalformedJson as exc:
        raise InvalidInput(exc.detail, reason="malformed-json") from None
    errors = json_invoice.schema_errors(document)
    if errors:
        raise Unprocessable(
            f"The invoice does not match the schema (GET /v1/schemas/invoice.json): {len(errors)} error(s); "
            f"the first at {errors[0].pointer or '/'}: {errors[0].message}",
            reason="schema",
            errors=[e.as_dict() for e in errors],
        )
    try:
        rendition = ubl_writer.to_ubl(document)
    except (ValueError, TypeError) as exc:  # what the schema let through but XML cannot carry: never a 500
        raise Unprocessable(f"The invoice cannot be written as UBL: {exc}", reason="schema") from None
    if len(rendition) > MAX_XML_BYTES:  # validated and downloaded as UBL: the XML limit applies to the rendition
        raise PayloadTooLarge(
            f"The JSON invoice's UBL rendition is {len(rendition)} bytes, over the limit of {MAX_XML_BYTES} bytes "
            f"for an invoice document (the JSON is {len(body)} bytes; its UBL is about 3.6 times as large).",
            reason="too-large",
            rendition_bytes=len(rendition),
            limit_bytes=MAX_XML_BYTES,
        )
    return Prepared("json", JSON_MEDIA, rendition)


def store_rendition(originals: ObjectStore, invoice_id: str, prepared: Prepared, metadata: dict[str, str]) -> None:
    if prepared.rendition is not None:
        originals.put(rendition_key(invoice_id), prepared.rendition, XML_MEDIA, metadata)


def validation_source(invoice_id: str, stored: StoredObject, originals: ObjectStore) -> Source:
    """The XML to validate for a stored original, by its format metadata (processing's one question to formats).

    One Factur-X profile rule for every CII, deposited as XML or embedded in a PDF: a guideline (BT-24) naming
    MINIMUM or BASIC WL is a CHORALE-FX-01 fatal finding (facturx.refusal_for_profile)."""
    fmt = stored.metadata.get(layout.META_FORMAT)
    xml = _rendition(invoice_id, stored, originals, fmt) if fmt in ("facturx", "json") else stored.data
    if isinstance(xml, Source):
        return xml
    if fmt in ("ubl", "json"):  # UBL (a JSON invoice's rendition is UBL): no Factur-X guideline
        return Source(xml)
    refusal = _profile_refusal(xml)
    if refusal:
        return Source(xml, Finding(facturx.PROFILE_RULE, FATAL, refusal, GUIDELINE_PATH))
    return Source(xml)


def _rendition(invoice_id: str, stored: StoredObject, originals: ObjectStore, fmt: str) -> bytes | Source:
    """The stored rendition of a PDF or JSON original, derived again (and stored) when missing; a Source with the
    format finding when the original cannot give one."""
    rendition = originals.get(rendition_key(invoice_id))
    if rendition is not None:
        return rendition.data
    try:
        prepared = prepare_pdf(stored.data) if fmt == "facturx" else prepare_json(stored.data)
    except (InvalidInput, PayloadTooLarge, Unprocessable) as exc:
        return Source(b"", Finding(FORMAT_RULE, FATAL, exc.detail, "/"))
    store_rendition(originals, invoice_id, prepared, {layout.META_INVOICE_ID: invoice_id})
    return prepared.rendition or b""


def _profile_refusal(xml: bytes) -> str | None:
    """The Factur-X profile refusal of a CII invoice (None for UBL, an unreadable document or a complete profile:
    the engine reports what is wrong with those)."""
    try:
        root = parse_xml(xml)
        syntax, _document = detect_syntax(root)
    except UnreadableInvoice:
        return None
    if syntax != "cii":
        return None
    return facturx.refusal_for_profile(facturx.profile_of(root))


def refuse_other_body(existing: ObjectHead | None, fingerprint: str) -> None:
    """An object already written under an Idempotency-Key's derived key must hold this request's body (its SHA-256
    in the metadata): else the key was used for another request."""
    if existing is not None and existing.metadata.get(layout.META_SHA256) != fingerprint:
        raise IdempotencyKeyReused()
