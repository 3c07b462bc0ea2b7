"""The parties' side of the lifecycle: status changes, re-routing after a routing error, attachments.

Attachments come two ways, with the same checks and the same record on the invoice:
* in the request body (POST /v1/invoices/{id}/attachments), at most the API's synchronous limit (4 MiB);
* through a presigned S3 POST (create_attachment_upload) that the client completes once the file is
  in S3 (complete_attachment_upload): up to the 10 MB attachment limit. The upload id is the attachment id.
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from urllib.parse import quote, unquote

from ..domain import lifecycle
from ..domain.directory import SIRET_RULE, Principal, is_valid_siret
from ..domain.ids import derived_id, is_ulid, new_id
from ..domain.invoice import (
    BIDI_CONTROLS,
    SUMMARY_TEXT_LIMITS,
    Attachment,
    Invoice,
    has_visible_character,
    hidden_control,
)
from ..domain.statuses import STATUSES
from . import controls, layout
from .clock import utc_now
from .errors import (
    ConcurrentUpdate,
    Conflict,
    Forbidden,
    IdempotencyKeyReused,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    RecordFull,
    Unprocessable,
    UnsupportedMediaType,
    causes,
    refuse_unknown_fields,
    request_sha256,
)
from .ports import Directory, IdempotencyGuard, InvoiceRepository, ObjectStore, UploadSigner
from .queries import visible_invoice
from .uploads import PresignedUpload, checksum_fields, presign_upload

log = logging.getLogger(__name__)

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_INVOICE_BYTES = 120 * 1024 * 1024  # the invoice and all its attachments (Chorus Pro's dossier limit)
MAX_ATTACHMENT_NAME = 50
# Attachments per invoice, both parties' together. Chorus Pro states no count (reference §4.3: 10 MB each, 120 MB per
# invoice); each attachment takes room in the invoice's record (400 KB at most), and 100 keep it far below.
MAX_ATTACHMENTS = 100
ATTACHMENT_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "xml": "application/xml",
    "csv": "text/csv",
    "odt": "application/vnd.oasis.opendocument.text",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_MAGIC = {
    "pdf": (b"%PDF-",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "odt": (b"PK\x03\x04",),
    "docx": (b"PK\x03\x04",),
    "xlsx": (b"PK\x03\x04",),
}
SNIFF_BYTES = 4096  # what _sniff_ok looks at: all an upload's completion reads of the file
COMPLETE_ATTEMPTS = 3  # saves tried when another change of the invoice wins the race (optimistic locking)
# x-amz-meta-* fields of an attachment upload, fixed by its policy (S3 returns them without the prefix).
META_INVOICE_ID, META_UPLOADED_BY, META_NAME = "invoice-id", "uploaded-by", "name"
# A file sent in the body also has its SHA-256 (what an Idempotency-Key retry compares).
META_SHA256 = layout.META_SHA256


@dataclass(frozen=True, slots=True)
class NextStatus:
    code: int
    reason_required: bool
    reasons: tuple[str, ...]


def _refuse(refusal: lifecycle.Refusal):
    if refusal.kind == "role":
        raise Forbidden(refusal.message)
    if refusal.kind == "transition":
        raise Conflict(refusal.message, allowed=list(refusal.allowed))
    raise Unprocessable(refusal.message)


def next_statuses(
    principal: Principal, invoice_id: str, *, invoices: InvoiceRepository
) -> tuple[Invoice, list[NextStatus]]:
    invoice = visible_invoice(principal, invoice_id, invoices=invoices)
    current = invoice.status.code if invoice.status else None
    codes = sorted({c for party in invoice.parties_of(principal.siret) for c in lifecycle.allowed_next(party, current)})
    return invoice, [
        NextStatus(c, c in lifecycle.REASON_REQUIRED, tuple(sorted(lifecycle.REASONS.get(c, ())))) for c in codes
    ]


STATUS_FIELDS = ("code", "reason_code", "comment", "amount")
MAX_COMMENT = 1000


def _check_comment(comment: object) -> None:
    """A comment of a status change or a re-routing: the other party reads it (API, webhooks, e-mail), so it is
    plain text (lines and tabs kept), without controls or bidirectional controls that would hide or reorder it."""
    if comment is None:
        return
    if not isinstance(comment, str):
        raise Unprocessable("'comment' must be a string.")
    if len(comment) > MAX_COMMENT:
        raise Unprocessable(f"'comment' is limited to {MAX_COMMENT} characters.")
    hidden = hidden_control(comment)
    if hidden is not None:
        raise Unprocessable(
            f"'comment' holds a control or bidirectional character (U+{ord(hidden):04X}): it must be plain text "
            "(line breaks and tabs are kept)."
        )


def _stored_comment(comment: str | None) -> str | None:
    """A comment as its history entry keeps it: stripped, its line breaks LF (Windows and old Mac ones sent as CRLF or
    CR), and none when nobody would see anything in it."""
    return comment.replace("\r\n", "\n").replace("\r", "\n").strip() if has_visible_character(comment) else None


_AMOUNT = re.compile(r"[0-9]{1,17}(\.[0-9]{1,2})?")


def parse_amount(value: object) -> Decimal | None:
    """A payment amount as sent: null, or a decimal string with at most 2 decimals (EN 16931's amounts)."""
    if value is None:
        return None
    if isinstance(value, str) and value[:1] in ("-", "+"):  # e.g. a negative total copied: say why, not decimals
        raise Unprocessable(
            "'amount' is unsigned: what changed hands, such as \"120.00\" for an invoice whose total is -120.00."
        )
    if not isinstance(value, str) or not _AMOUNT.fullmatch(value):
        raise Unprocessable("'amount' must be a decimal string with at most 2 decimals, such as \"120.00\".")
    return Decimal(value)


def change_status(
    principal: Principal,
    invoice_id: str,
    body: Mapping[str, object],
    *,
    invoices: InvoiceRepository,
    idempotency_key: str | None = None,
    now: Callable[[], str] = utc_now,
) -> Invoice:
    """Apply a party's status change; optimistic locking makes exactly one of two racing changes win.

    `body` holds STATUS_FIELDS: `code`, `reason_code`, `comment`, and `amount` (decimal string), the payment's
    amount: required on 212, optional on 211. Unknown fields are a 422 (`unknown_fields`), as for a re-routing.
    With an `idempotency_key`, a retry of a change already made is answered with the invoice (see _replayed).
    """
    refuse_unknown_fields(dict(body), STATUS_FIELDS, "a status change")
    code, reason_code, comment = body.get("code"), body.get("reason_code"), body.get("comment")
    paid = parse_amount(body.get("amount"))
    if isinstance(code, bool) or not isinstance(code, int) or code not in STATUSES:
        raise Unprocessable(f"'code' must be one of the lifecycle status codes {sorted(STATUSES)}.")
    if reason_code is not None and not isinstance(reason_code, str):
        raise Unprocessable("'reason_code' must be a string.")
    _check_comment(comment)
    invoice = visible_invoice(principal, invoice_id, invoices=invoices)
    keyed = _request_digests(principal, idempotency_key, "status", body)
    if _replayed(invoice, keyed):
        return invoice
    _check_processed(invoice)
    current = invoice.status.code if invoice.status else None
    parties = invoice.parties_of(principal.siret)
    has_new_attachment = invoice.attachment_since_last(lifecycle.SUSPENDED, "supplier")
    party, refusal = lifecycle.check_transition(
        parties, current, code, reason_code or None, comment, has_new_attachment
    )
    if refusal:
        _refuse(refusal)
    totals = invoice.summary.totals
    refusal = lifecycle.check_amount(code, paid, totals.with_vat, totals.amount_due)
    if refusal:
        _refuse(refusal)
    if paid is not None:
        paid = lifecycle.payment_at_scale(paid, totals.with_vat if totals.with_vat is not None else totals.amount_due)
    comment = _stored_comment(comment)
    # The current 207 again without a key (same reason and comment: a keyless retry): already applied, not a second
    # dispute (no entry, no event). A new key is a new request: its entry is written and its key remembered.
    if keyed is None and lifecycle.repeats(
        invoice.history[-1] if invoice.history else None, code, reason_code or None, comment
    ):
        return invoice
    invoice.set_status(code, party, reason_code or None, comment, now(), paid)
    return _save_entry(invoices, invoice, keyed=keyed)


REROUTE_FIELDS = ("recipient_siret", "service_code", "engagement_number", "comment")


# What a deposit takes in BT-10 and BT-13: an invoice accepted with them can be re-routed keeping them.
REROUTE_LIMITS = {
    name: limit for name, _, _, limit in SUMMARY_TEXT_LIMITS if name in ("service_code", "engagement_number")
}


def _stripped(text: str | None) -> str | None:
    """As a deposit reads a text (Field.text): ' SERV-TECH ' names the service SERV-TECH."""
    return text.strip() if isinstance(text, str) else text


def reroute(
    principal: Principal,
    invoice_id: str,
    body: Mapping[str, object],
    *,
    invoices: InvoiceRepository,
    directory: Directory,
    idempotency_key: str | None = None,
    now: Callable[[], str] = utc_now,
) -> Invoice:
    """The supplier's new routing for a 221 invoice (Chorus Pro's `recycler`); same number. Also for an invoice
    not yet approved whose recipient structure is no longer active (_check_reroutable): the platform writes the 221
    first.

    `body` holds what changes: a field left out keeps its current value (except the service code when the invoice
    goes to another structure: none unless given), an explicit null clears a service code or an engagement number.
    `recipient_siret` sends the invoice to another structure, which must pass the deposit's directory controls
    (exists, active, receives invoices, its service code and engagement rules). `comment` becomes the comment of the
    history entry. Unknown fields are a 422 (`unknown_fields`). With an `idempotency_key`, a retry of a re-route
    already made is answered with the invoice (see _replayed).
    """
    refuse_unknown_fields(dict(body), REROUTE_FIELDS, "a re-routing")
    for name in ("service_code", "engagement_number"):
        value = body.get(name)
        if value is not None and not (
            isinstance(value, str) and has_visible_character(value) and len(value.strip()) <= REROUTE_LIMITS[name]
        ):
            raise Unprocessable(
                f"'{name}' must be a string of at most {REROUTE_LIMITS[name]} characters with a visible character "
                "(not only spaces or invisible characters such as U+200B), or null."
            )
    if "recipient_siret" in body and not is_valid_siret(body["recipient_siret"]):
        raise Unprocessable(f"'recipient_siret' must be a SIRET ({SIRET_RULE}); it cannot be cleared.")
    comment = body.get("comment")
    _check_comment(comment)
    invoice = visible_invoice(principal, invoice_id, invoices=invoices)
    if "supplier" not in invoice.parties_of(principal.siret):
        raise Forbidden("Only the invoice's supplier may re-route it.")
    if not principal.has_role("supplier"):  # a re-route delivers the invoice anew, as a deposit does
        raise Forbidden("Only a structure with the supplier role may re-route invoices, as it may deposit them.")
    keyed = _request_digests(principal, idempotency_key, "reroute", body)
    if _replayed(invoice, keyed):
        return invoice
    inactive = _check_reroutable(invoice, directory)
    summary = invoice.summary
    recipient_siret = body.get("recipient_siret", invoice.recipient_siret)
    # A service code names one of its structure's services: the former recipient's does not follow the invoice to
    # another structure (the new recipient would read it as its own).
    kept_service_code = summary.service_code if recipient_siret == invoice.recipient_siret else None
    proposed = replace(
        summary,
        buyer_siret=recipient_siret,
        service_code=_stripped(body.get("service_code", kept_service_code)),
        engagement_number=body.get("engagement_number", summary.engagement_number),
    )
    recipient, failure = controls.routing_failure(proposed, directory, invoice.supplier_siret)
    if failure is not None:
        raise Unprocessable(failure.message, reason_code=failure.reason_code)
    assert recipient is not None  # routing_failure names the structure it accepts
    if inactive:
        # The 221 the recipient can no longer set, the platform's: each re-route stays a 203 right after a 221,
        # and the supplier's history and events say why the invoice left its recipient.
        invoice.set_status(lifecycle.ROUTING_ERROR, "platform", lifecycle.INACTIVE_RECIPIENT_REASON, inactive, now())
    invoice.reroute(
        recipient.siret,
        recipient.name,
        proposed.service_code,
        proposed.engagement_number,
        _stored_comment(comment),
        now(),
    )
    # A re-route's entry does not name its routing: two re-routes in the same millisecond write equal entries, so
    # the re-read must also find this routing to call the write ours.
    return _save_entry(invoices, invoice, same=_routing, keyed=keyed)


def _check_reroutable(invoice: Invoice, directory: Directory) -> str | None:
    """A 409 unless the supplier may re-route the invoice now: from 221 (None), or from a status before any
    approval when its recipient is no longer active in the directory, read now (why, for the platform's 221)."""
    current = invoice.status.code if invoice.status else None
    if current in lifecycle.REROUTABLE:
        return None
    if current in lifecycle.REROUTABLE_FROM_INACTIVE_RECIPIENT:
        inactive = controls.inactive_recipient(invoice.recipient_siret, directory)
        if inactive:
            return inactive
        still = (
            f" Its recipient structure {invoice.recipient_siret} is active, whatever the state of its services: it "
            "sets 221 if the routing is wrong."
        )
    else:
        still = ""
    before_approval = ", ".join(map(str, sorted(lifecycle.REROUTABLE_FROM_INACTIVE_RECIPIENT)))
    raise Conflict(
        "Only an invoice in status 221 (routing error) can be re-routed, or one not yet approved "
        f"({before_approval}) whose recipient structure is no longer active in the directory.{still}",
        allowed=[],
    )


def _routing(invoice: Invoice) -> tuple:
    return invoice.recipient_siret, invoice.summary.service_code, invoice.summary.engagement_number


def _request_digests(
    principal: Principal, idempotency_key: str | None, operation: str, body: Mapping[str, object]
) -> tuple[str, str] | None:
    """(key, request) digests of a keyed change, 64 bits each (they are told apart within one invoice): the key is
    the structure's (another party's same key is another key), the request is the operation and its body as sent."""
    if idempotency_key is None:
        return None
    key = hashlib.sha256(f"{principal.siret}\n{idempotency_key}".encode()).hexdigest()[:16]
    return key, request_sha256({"operation": operation, "body": body})[:16]


def _replayed(invoice: Invoice, keyed: tuple[str, str] | None) -> bool:
    """Whether this keyed request is a retry of a change the invoice already holds (answered with the invoice as it
    is, nothing written); the key used before for another request is a 409."""
    if keyed is None:
        return False
    key, request = keyed
    remembered = invoice.request_under(key)
    if remembered is None:
        return False
    if remembered != request:
        raise IdempotencyKeyReused()
    return True


def _save_entry(
    invoices: InvoiceRepository,
    invoice: Invoice,
    same: Callable[[Invoice], object] = lambda invoice: None,
    keyed: tuple[str, str] | None = None,
) -> Invoice:
    """Save a change that appended one history entry (and remembers its key, when `keyed`), and answer the invoice
    as saved.

    A failed save may still have landed: botocore resends a write whose answer was lost (read timeout), and the
    resend fails the version check the first one moved (ConcurrentUpdate), or every answer is lost (a timeout).
    With a key, the re-read holding it for this request is our write (or a same-key attempt's that won the race:
    the same change). Without one, history only grows, so the entry at our position, ours to the millisecond, is
    our write: the change is answered as done (and `same` of the stored invoice is ours: what the entry does not
    say). Anything else there is another change's (the 409 stands); a failed re-read raises."""
    if keyed is not None:
        invoice.remember_request(*keyed)
    position, entry, read_version = len(invoice.history) - 1, invoice.history[-1], invoice.version or 0
    try:
        invoices.save(invoice)
        return invoice
    except RecordFull:
        raise  # refused as a whole: nothing was written
    except Exception:
        stored = invoices.get(invoice.id)
        if stored is None or (stored.version or 0) <= read_version:
            raise
        if keyed is not None and stored.request_under(keyed[0]) == keyed[1]:
            log.info("invoice %s: the re-read holds this keyed change", invoice.id)
            return stored
        if stored.history[position : position + 1] != [entry] or same(stored) != same(invoice):
            raise
        log.info("invoice %s: the save's answer was lost, the re-read holds its change", invoice.id)
        return stored


def _sniff_ok(extension: str, data: bytes) -> bool:
    if extension in _MAGIC:
        return data.startswith(_MAGIC[extension])
    if extension == "xml":
        return data.lstrip()[:1] == b"<"
    try:  # csv: text (a character cut at the end of the sniffed bytes is not an error)
        codecs.getincrementaldecoder("utf-8")().decode(data[:SNIFF_BYTES], final=False)
    except UnicodeDecodeError:
        return False
    return b"\x00" not in data[:SNIFF_BYTES]


def attachment_upload_key(invoice_id: str, upload_id: str) -> str:
    """Where a presigned upload lands. The ticket can write there until it expires, so the attachment is a
    copy taken at completion (and checked after the copy): what was checked is what the other party gets."""
    return f"uploads/attachments/{invoice_id}/{upload_id}"


def _attachment_name(name: object) -> tuple[str, str]:
    """The file name, stripped and in NFC, and its extension; refused unless it names an accepted type. Every
    route that takes a name goes through here: a name typed on a Mac (NFD: 'é' as 'e' and a combining accent) is
    counted, checked and stored as the same name typed elsewhere."""
    name = unicodedata.normalize("NFC", name.strip()) if isinstance(name, str) else ""
    if not name or len(name) > MAX_ATTACHMENT_NAME or "/" in name or "\\" in name or name.startswith("."):
        raise InvalidInput(
            f"Give the attachment a file name of at most {MAX_ATTACHMENT_NAME} characters, with extension: "
            "?name=<name> or 'Content-Disposition: attachment; filename=\"<name>\"' when sending the file, the "
            "'name' field when asking for an upload URL."
        )
    # The other party reads the name as given: no control character, and no bidirectional override that would
    # show "fdp.exe" as "exe.pdf"
    if any(unicodedata.category(c) in ("Cc", "Cs") or c in BIDI_CONTROLS for c in name):
        raise InvalidInput("The attachment's file name holds a control or text-direction character: rename the file.")
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in ATTACHMENT_TYPES:
        raise UnsupportedMediaType(
            f"Attachments may be {', '.join(sorted(ATTACHMENT_TYPES))}; {name!r} is not.",
            accepted=sorted(ATTACHMENT_TYPES),
        )
    return name, extension


def _check_size(invoice: Invoice, size: int) -> None:
    if size > MAX_ATTACHMENT_BYTES:
        raise PayloadTooLarge(
            f"An attachment is limited to {MAX_ATTACHMENT_BYTES} bytes.", limit_bytes=MAX_ATTACHMENT_BYTES
        )
    if invoice.attachments_bytes + size > MAX_INVOICE_BYTES:
        raise PayloadTooLarge(
            f"An invoice and its attachments are limited to {MAX_INVOICE_BYTES} bytes.", limit_bytes=MAX_INVOICE_BYTES
        )


def _check_count(invoice: Invoice) -> None:
    """413 like the invoice's 120 MB: a limit of the invoice's whole file, which this attachment would go over."""
    if len(invoice.attachments) >= MAX_ATTACHMENTS:
        raise PayloadTooLarge(
            f"An invoice takes at most {MAX_ATTACHMENTS} attachments; invoice {invoice.id} has "
            f"{len(invoice.attachments)}: no attachment can be added.",
            reason="too_many_attachments",
            limit_attachments=MAX_ATTACHMENTS,
        )


def _check_processed(invoice: Invoice) -> None:
    """An invoice whose processing gave up (poison message, in the operators' dead-letter queue) has no status
    and will not get one until they redrive it: saying "wait until done" would be a wait without end."""
    if invoice.processing == "failed":
        raise Conflict(
            f"Invoice {invoice.id} could not be processed: it has no status, and the platform's operators have it "
            "(they are alerted). It takes no status change or attachment until it is processed again.",
            reason="processing_failed",
        )


def _check_open(invoice: Invoice) -> None:
    """Attachments document an invoice being processed; one in a final status takes no more (and a locked
    bucket would keep each refused or useless file for the whole retention)."""
    _check_processed(invoice)
    status = invoice.status
    if status is not None and status.code in lifecycle.TERMINAL:
        raise Conflict(
            f"Invoice {invoice.id} is in a final status ({status.code} {status.label}): no attachment can be added.",
            reason="final_status",
        )


def _check_content(name: str, extension: str, head: bytes) -> None:
    if not _sniff_ok(extension, head):
        raise UnsupportedMediaType(f"The content of {name!r} is not a {extension.upper()} file.")


def _attach(
    invoice: Invoice, principal: Principal, attachment_id: str, name: str, extension: str, size: int, at: str
) -> Attachment:
    party = invoice.parties_of(principal.siret)[0]
    key = layout.attachment_key(invoice.id, attachment_id)
    attachment = Attachment(attachment_id, name, ATTACHMENT_TYPES[extension], size, key, party, at, principal.siret)
    invoice.attach(attachment)
    return attachment


def add_attachment(
    principal: Principal,
    invoice_id: str,
    name: str | None,
    data: bytes,
    *,
    invoices: InvoiceRepository,
    originals: ObjectStore,
    max_bytes: int,
    upload_route: str,
    idempotency: IdempotencyGuard | None = None,
    idempotency_key: str | None = None,
    now: Callable[[], str] = utc_now,
) -> tuple[Invoice, Attachment]:
    """An attachment sent in the request body: at most `max_bytes` (what API Gateway carries to Lambda); larger
    ones go through `upload_route` (the path of the upload route, as the client follows it).

    With an `idempotency_key`, a retried request (same invoice, name and bytes) answers the attachment its first
    attempt recorded instead of attaching the file twice; the same key with another request is a Conflict. The
    attachment's id is derived from (invoice, caller, key), so this holds whatever became of the first attempt:
    recorded with its answer lost, or its file stored and never recorded (then this attempt records it).

    The file is written unlocked and locked once recorded: a file recorded nowhere must stay deletable (on a stage
    with Object Lock, a locked version would be kept, and billed, for the whole retention)."""
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            f"Attachments sent in the request body are limited to {max_bytes} bytes (API Gateway → Lambda "
            f"payload); upload larger ones, up to {MAX_ATTACHMENT_BYTES} bytes, with POST {upload_route}.",
            limit_bytes=max_bytes,
            upload=upload_route,
        )
    invoice = visible_invoice(principal, invoice_id, invoices=invoices)
    name, extension = _attachment_name(name)
    if not data:
        raise InvalidInput("The attachment is empty.")
    digest = hashlib.sha256(data).hexdigest()
    recorded: list[tuple[Invoice, Attachment]] = []

    def attach() -> str:
        if idempotency_key:
            attachment_id = derived_id("attachment", f"{invoice.id}:{principal.siret}", idempotency_key)
            replayed = _recorded_by_first_attempt(invoice, attachment_id, name, data, digest, originals)
            if replayed is not None:
                recorded.append((invoice, replayed))
                return attachment_id
        else:
            attachment_id = new_id()
        _check_open(invoice)
        _check_count(invoice)
        _check_size(invoice, len(data))
        _check_content(name, extension, data)
        key = layout.attachment_key(invoice.id, attachment_id)
        metadata = {META_INVOICE_ID: invoice.id, META_UPLOADED_BY: principal.siret, META_NAME: quote(name, safe=""),
                    META_SHA256: digest}  # fmt: skip
        own_file = True  # this attempt wrote the file: it may discard it if the record certainly failed
        if not idempotency_key:
            originals.put(key, data, ATTACHMENT_TYPES[extension], metadata, retain=False)
        else:
            stored = originals.put_if_absent(key, data, ATTACHMENT_TYPES[extension], metadata, retain=False)
            if stored is not None:  # the first attempt's file, never recorded: recorded now if it is this one
                _check_same_file(stored.metadata, name, digest)
                own_file = False  # another attempt's: it may be recording it right now
        attachment = _attach(invoice, principal, attachment_id, name, extension, len(data), now())
        saved = _save_attachment(invoices, originals, invoice, attachment, own_file=own_file)
        recorded.append(saved)
        _lock_recorded(originals, saved[1])
        return attachment_id

    if idempotency is None or not idempotency_key:
        attach()
        return recorded[0]
    fingerprint = hashlib.sha256(f"{invoice.id}\n{name}\n".encode() + data).hexdigest()
    attachment_id = idempotency.run_once(
        f"{principal.siret}:attachment:{invoice.id}:{idempotency_key}", fingerprint, attach
    )
    if recorded:
        return recorded[0]
    # A replay: the first attempt's attachment, as recorded on the invoice, read again (the first attempt may have
    # finished after this one read it; the attachment is the caller's own: always visible).
    invoice = invoices.get(invoice.id) or invoice
    attachment = next((a for a in invoice.attachments if a.id == attachment_id), None)
    if attachment is None:
        raise RuntimeError(f"attachment {attachment_id} of invoice {invoice.id} vanished after it was recorded")
    return invoice, attachment


def _check_same_file(metadata: Mapping[str, str], name: str, digest: str) -> None:
    if metadata.get(META_SHA256) != digest or unquote(metadata.get(META_NAME, "")) != name:
        raise IdempotencyKeyReused()


def _recorded_by_first_attempt(
    invoice: Invoice, attachment_id: str, name: str, data: bytes, digest: str, originals: ObjectStore
) -> Attachment | None:
    """The attachment an earlier attempt with this key recorded (its answer may have been lost), when it is this
    same file; None when none is recorded. One HEAD, only on such a retry."""
    found = next((a for a in invoice.attachments if a.id == attachment_id), None)
    if found is None:
        return None
    if found.name != name or found.size != len(data):
        raise IdempotencyKeyReused()
    head = originals.head(found.key)
    if head is not None and META_SHA256 in head.metadata:
        _check_same_file(head.metadata, name, digest)
    _lock_recorded(originals, found)  # the first attempt may have ended between its record and its lock
    return found


def _lock_recorded(originals: ObjectStore, attachment: Attachment) -> None:
    """Lock a recorded attachment, until its upload time plus the retention: locking it again (a retry, a second
    completion) sets the same date, never a later one. A failure still answers 201: the record and its file are
    right, and a 5xx would make a client without an Idempotency-Key attach the file again; an operator locks it
    (alarm on ERROR)."""
    try:
        originals.retain(attachment.key, since=attachment.uploaded_at)
    except Exception:  # noqa: BLE001
        log.error("attachment %s is recorded but NOT locked: give it the stage's retention by hand", attachment.key,
                  exc_info=True)  # fmt: skip


# What DynamoDB answers to a write it refused before writing anything (botocore's code): no landing to look for
# later. A timeout, a lost connection or a 5xx leaves the write's outcome open.
_UNWRITTEN_CODES = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded", "ValidationException"}
)


def _refused_unwritten(exc: BaseException) -> bool:
    """Whether the failed save certainly wrote nothing: a conditional failure (once a re-read showed the change is
    not there), or a refusal DynamoDB answered, read from botocore's error or PynamoDB's wrapping of it."""
    if isinstance(exc, ConcurrentUpdate):
        return True
    codes = ((getattr(e, "response", None) or {}).get("Error", {}).get("Code") for e in causes(exc))
    return any(code in _UNWRITTEN_CODES for code in codes)


def _save_attachment(
    invoices: InvoiceRepository, originals: ObjectStore, invoice: Invoice, attachment: Attachment, *, own_file: bool
) -> tuple[Invoice, Attachment]:
    """Record an attachment whose file is stored; answers the invoice and the attachment as recorded.

    A failed save may still have landed: botocore resends a write whose answer was lost, and the resend fails the
    version check the first one moved (ConcurrentUpdate), or every answer is lost (a timeout). A re-read holding
    the attachment's id is our write. The file goes only when the attachment is certainly not recorded: a file
    recorded nowhere costs little, a record without its file is a download that fails the other party. A file this
    attempt did not write (`own_file` False: an earlier attempt's, under the same key) is never discarded: another
    attempt may be recording it."""
    try:
        invoices.save(invoice)
        return invoice, attachment
    except RecordFull:  # refused as a whole: the file recorded nowhere is not kept
        if own_file:
            _discard(originals, attachment.key)
        raise
    except Exception as failure:
        stored = invoices.get(invoice.id)  # if this fails too, the file stays (the record may hold it)
        landed = next((a for a in stored.attachments if a.id == attachment.id), None) if stored else None
        if landed is not None:
            log.info("invoice %s: the save's answer was lost, the re-read holds attachment %s", invoice.id, landed.id)
            return stored, landed
        if _refused_unwritten(failure) and own_file:
            _discard(originals, attachment.key)
        else:
            log.warning("attachment file %s kept: its record's write may still land", attachment.key)
        raise


def create_attachment_upload(
    principal: Principal,
    invoice_id: str,
    name: object,
    *,
    invoices: InvoiceRepository,
    signer: UploadSigner,
    expires_in: int,
    sha256: object = None,
    now: Callable[[], str] = utc_now,
) -> PresignedUpload:
    """POST /v1/invoices/{id}/attachments/uploads: a presigned S3 POST for one attachment of up to 10 MB (with
    `sha256`, base64, S3 takes only the file that has it).

    The policy fixes the key, the type, the uploader and the name (as metadata), and allows at most what is
    left of the attachment and invoice limits. Nothing is recorded until the upload is completed.
    """
    invoice = visible_invoice(principal, invoice_id, invoices=invoices)
    _check_open(invoice)
    _check_count(invoice)
    name, extension = _attachment_name(name)
    max_bytes = min(MAX_ATTACHMENT_BYTES, MAX_INVOICE_BYTES - invoice.attachments_bytes)
    if max_bytes < 1:
        _check_size(invoice, 1)  # refused: the invoice's limit is reached
    upload_id = new_id()
    fields = {
        "Content-Type": ATTACHMENT_TYPES[extension],
        f"x-amz-meta-{META_INVOICE_ID}": invoice.id,
        f"x-amz-meta-{META_UPLOADED_BY}": principal.siret,
        f"x-amz-meta-{META_NAME}": quote(name, safe=""),  # metadata is ASCII
        **checksum_fields(sha256),
    }
    return presign_upload(signer, attachment_upload_key(invoice.id, upload_id), upload_id, fields,
                          max_bytes=max_bytes, expires_in=expires_in, issued_at=now())  # fmt: skip


def _discard(originals: ObjectStore, *keys: str) -> None:
    """Delete a refused upload (and its copy); a failure to delete does not hide the refusal from the client."""
    for key in keys:
        try:
            originals.delete(key)
        except Exception:  # noqa: BLE001
            log.warning("could not delete the refused upload %s", key, exc_info=True)


def complete_attachment_upload(
    principal: Principal,
    invoice_id: str,
    upload_id: str,
    *,
    invoices: InvoiceRepository,
    originals: ObjectStore,
    now: Callable[[], str] = utc_now,
) -> tuple[Invoice, Attachment]:
    """POST /v1/invoices/{id}/attachments/uploads/{upload_id}: the uploaded file becomes the attachment upload_id.

    Copies the upload to the attachment's own key, reads the copy's size (HEAD) and first bytes (ranged GET),
    checks them like add_attachment does, and deletes a refused file. Completing again gives the same
    attachment.

    The copy is written unlocked and locked once recorded, as add_attachment does: a save that fails leaves no
    locked version recorded nowhere (kept, and billed, for the whole retention). A failed lock still answers 201
    (logged as an ERROR naming the key); completing again after the record exists locks it. A save that fails
    but landed all the same (every answer lost) is found by a re-read, locked and answered 201.
    """
    invoice = visible_invoice(principal, invoice_id, invoices=invoices)
    if not is_ulid(upload_id):
        raise NotFound(f"No attachment upload {upload_id} on invoice {invoice_id}.")
    staging, key = attachment_upload_key(invoice.id, upload_id), layout.attachment_key(invoice.id, upload_id)
    checked: tuple[str, str, int] | None = None  # name, extension, size: the file is read once
    for attempt in range(1, COMPLETE_ATTEMPTS + 1):
        existing = next((a for a in invoice.attachments if a.id == upload_id), None)
        if existing is not None:
            if existing.uploader_siret not in (None, principal.siret):  # the other party's: a guessed id shows nothing
                raise NotFound(f"No attachment upload {upload_id} of yours on invoice {invoice.id}.")
            _lock_recorded(originals, existing)  # an earlier completion may have ended before its lock
            return invoice, existing
        _check_open(invoice)  # it may have reached a final status since the upload was signed
        _check_count_at_completion(principal, invoice, staging, key, originals)
        if checked is None:
            checked = _check_upload(principal, invoice, upload_id, staging, key, originals)
        name, extension, size = checked
        try:
            _check_size(invoice, size)
        except PayloadTooLarge:
            _discard(originals, key, staging)
            raise
        attachment = _attach(invoice, principal, upload_id, name, extension, size, now())
        try:
            invoices.save(invoice)
        except RecordFull:
            _discard(originals, key, staging)
            raise
        except ConcurrentUpdate:
            if attempt == COMPLETE_ATTEMPTS:
                raise  # the copy stays: a racing completion of this upload may have recorded it
            invoice = visible_invoice(principal, invoice_id, invoices=invoices)
            continue
        except Exception:
            landed = _completion_landed(invoices, invoice.id, upload_id)
            if landed is None:
                raise  # the copy stays unlocked: recorded nowhere (yet), completing again records and locks it
            invoice, attachment = landed
        _lock_recorded(originals, attachment)  # recorded: a legal record from now on (see _check_upload)
        return invoice, attachment
    raise AssertionError("unreachable")


def _completion_landed(
    invoices: InvoiceRepository, invoice_id: str, upload_id: str
) -> tuple[Invoice, Attachment] | None:
    """After a failed save: the invoice and the attachment as recorded when the save landed all the same (every
    answer lost: a timeout), else None. A failure of the re-read itself propagates: the outcome stays open."""
    stored = invoices.get(invoice_id)
    landed = next((a for a in stored.attachments if a.id == upload_id), None) if stored else None
    if landed is None:
        return None
    log.info("invoice %s: the save's answer was lost, the re-read holds attachment %s", invoice_id, upload_id)
    return stored, landed


def _check_count_at_completion(
    principal: Principal, invoice: Invoice, staging: str, key: str, originals: ObjectStore
) -> None:
    """Others may have been added since the upload was signed: refused before any copy, and the uploader's file,
    which can never be completed, is deleted (another party's is not theirs to delete)."""
    try:
        _check_count(invoice)
    except PayloadTooLarge:
        uploaded = originals.head(staging)
        if uploaded is not None and uploaded.metadata.get(META_UPLOADED_BY) == principal.siret:
            _discard(originals, key, staging)
        raise


def _check_upload(
    principal: Principal, invoice: Invoice, upload_id: str, staging: str, key: str, originals: ObjectStore
) -> tuple[str, str, int]:
    uploaded = originals.head(staging)
    if uploaded is None:
        raise Conflict(
            f"Nothing has been uploaded for upload {upload_id} yet: POST the file with the upload's fields to its "
            "url (before its expires_at), then complete the upload."
        )
    if (uploaded.metadata.get(META_UPLOADED_BY) != principal.siret
            or uploaded.metadata.get(META_INVOICE_ID) != invoice.id):  # fmt: skip
        raise NotFound(f"No attachment upload {upload_id} of yours on invoice {invoice.id}.")
    # The copy is what gets checked and recorded; it is locked (a legal record) only once recorded: a refused file,
    # or one whose record failed, locked for the whole retention could not be deleted.
    originals.copy(staging, key, retain=False)
    head = originals.head(key)
    try:
        if head is None:
            raise InvalidInput("The upload could not be read back; upload the file again.")
        name, extension = _attachment_name(unquote(head.metadata.get(META_NAME, "")))
        if head.size < 1:
            raise InvalidInput("The attachment is empty.")
        _check_size(invoice, head.size)
        _check_content(name, extension, originals.get_range(key, 0, min(head.size, SNIFF_BYTES)))
    except (InvalidInput, PayloadTooLarge, UnsupportedMediaType):
        _discard(originals, key, staging)
        raise
    return name, extension, head.size


def attachment_download_url(
    principal: Principal, invoice_id: str, attachment_id: str, *, invoices: InvoiceRepository, originals: ObjectStore
) -> str:
    invoice = visible_invoice(principal, invoice_id, invoices=invoices)
    attachment = next((a for a in invoice.attachments if a.id == attachment_id), None)
    if attachment is None or not invoice.sees_attachment(attachment, principal.siret):
        raise NotFound(f"No attachment {attachment_id} on invoice {invoice_id}.")
    return originals.download_url(attachment.key, attachment.name)
