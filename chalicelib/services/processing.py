"""Processing a deposited original (or a bundle of a flow's originals): validate, extract, decide 203 or 213.

Safe to run twice: a decided invoice is left as it is."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from ..domain.invoice import Error, Invoice, InvoiceSummary
from ..domain.statuses import REJETEE
from ..domain.summary import (
    business_term_locations,
    cii_date_format,
    credit_note_due_date,
    due_date_text,
    issue_date_text,
    non_decimal_term,
    repeated_term,
    summarize,
)
from ..formats import bundles
from ..validation.parsing import declared_encoding
from . import controls, intake, layout
from .clock import utc_now
from .errors import ConcurrentUpdate, DuplicateNumber
from .ports import Directory, InvoiceRepository, ObjectStore, StoredObject

REJECTION_SEMANTIC = controls.REJECTION_SEMANTIC  # reform reason: EN 16931 semantic rejection
# A rejection for the document itself (not readable as an invoice, over the size limit): its finding, so that a 213
# always lists at least one error.
DOCUMENT_RULE = "CHORALE-DOCUMENT"

log = logging.getLogger(__name__)


def validate_en16931(data: bytes):
    """The EN 16931 engine, loaded on first use (keeps the rule tables out of the API's cold start)."""
    from ..validation import validate

    return validate(data)


class OriginalMissing(Exception):
    """The notification names an object we cannot read: retried, then dead-lettered."""


class BundleIncomplete(Exception):
    """Some invoices of a bundle failed (the others are decided): retried, then dead-lettered."""

    def __init__(self, message: str, processed: Processed, failed_ids: list[str] | None = None):
        super().__init__(message)
        self.processed = processed  # what this attempt did decide (its metrics are counted once, now)
        self.failed_ids = failed_ids or []  # the members it could not: the logs name them


@dataclass(slots=True)
class Processed:
    """What one object's notification did: every invoice it holds (decided), and those decided by this call.

    A redelivered message finds its invoices already decided: they are in `invoices`, not in `decided_now`, so
    metrics count each invoice once."""

    invoices: list[Invoice] = field(default_factory=list)
    decided_now: list[Invoice] = field(default_factory=list)

    def add(self, decision: _Decision) -> None:
        self.invoices.append(decision.invoice)
        if decision.saved:
            self.decided_now.append(decision.invoice)


@dataclass(frozen=True, slots=True)
class _Decision:
    invoice: Invoice
    saved: bool  # False when another delivery of the same message had already decided it


def process_object(
    key: str,
    *,
    invoices: InvoiceRepository,
    originals: ObjectStore,
    directory: Directory,
    validate: Callable | None = None,
    now: Callable[[], str] = utc_now,
    look_first: bool = False,
) -> Processed:
    """A new object under originals/: one original, or a bundle of a flow's originals. Nothing for other keys.

    `look_first` (a redelivered message): read each invoice's record before validating it, and keep those an
    earlier attempt decided. A first delivery does not: its saves are conditional creates (see _decide_unread)."""
    if layout.is_bundle_key(key):
        return _process_bundle(key, invoices, originals, _BundleDirectory(directory), validate, now, look_first)
    processed = Processed()
    invoice_id = layout.invoice_id_from_key(key)
    if invoice_id is None:
        return processed
    if look_first and (decided := _decided(invoices, invoice_id)) is not None:
        processed.invoices.append(decided)
        return processed
    stored = originals.get(key)
    if stored is None:
        raise OriginalMissing(f"no object at {key}")
    decision = _decide_unread(invoice_id, key, stored, invoices=invoices, originals=originals,
                              directory=_BundleDirectory(directory), validate=validate, now=now,
                              retried=look_first)  # fmt: skip
    processed.add(decision)
    return processed


def _process_bundle(
    key: str,
    invoices: InvoiceRepository,
    originals: ObjectStore,
    directory: Directory,
    validate: Callable | None,
    now: Callable[[], str],
    look_first: bool = False,
) -> Processed:
    """Every original of a bundle to its first status, one after the other (members already decided are kept)."""
    processed, failures = Processed(), []
    for invoice_id, stored, offset in _bundle_members(key, originals):
        try:  # one invoice that cannot be processed must not hold back the others of its bundle
            if look_first and (decided := _decided(invoices, invoice_id)) is not None:
                processed.invoices.append(decided)
                continue
            decision = _decide_unread(invoice_id, key, stored, invoices=invoices, originals=originals,
                                      directory=directory, validate=validate, now=now, offset=offset,
                                      retried=look_first)  # fmt: skip
        except Exception as exc:
            failures.append((invoice_id, exc))
            continue
        processed.add(decision)
    if failures:  # the message is retried for them (the others are kept), then dead-lettered
        failed_ids = [i for i, _ in failures]
        raise BundleIncomplete(f"{len(failures)} invoice(s) of {key} failed: {failed_ids}", processed,
                               failed_ids) from failures[0][1]  # fmt: skip
    return processed


class _BundleDirectory:
    """The directory as one bundle (or one original) sees it: a bundle's invoices share their supplier and mostly
    a few buyers, so each structure is read once per bundle (within one invocation: a deactivation still applies
    next)."""

    def __init__(self, directory: Directory):
        self._directory = directory
        self._structures: dict = {}

    def structure(self, siret: str):
        if siret not in self._structures:
            self._structures[siret] = self._directory.structure(siret)
        return self._structures[siret]

    def siret_for_key(self, key_hash: str) -> str | None:
        return self._directory.siret_for_key(key_hash)


def _bundle_members(key: str, originals: ObjectStore) -> list[tuple[str, StoredObject, int]]:
    stored = originals.get(key)
    if stored is None:
        raise OriginalMissing(f"no object at {key}")
    return [
        (member.name, StoredObject(member.data, member.metadata.get(layout.META_MEDIA, ""), member.metadata),
         member.offset)
        for member in bundles.read_bundle(stored.data)
    ]  # fmt: skip


def _decided(invoices: InvoiceRepository, invoice_id: str) -> Invoice | None:
    """The invoice if an earlier attempt decided it. A 213 gives back the claim that attempt may have left: it may
    have died between its save and the release (a rare path: redeliveries only)."""
    invoice = invoices.get(invoice_id)
    if invoice is None or invoice.processing != "done":
        return None
    if _is_rejected(invoice):
        _release_number(invoices, invoice, invoice.summary)
    return invoice


class NotMarkedFailed(Exception):
    """Giving up, some invoices could not be flagged failed (each was tried, and logged): they stay pending."""

    def __init__(self, message: str, marked: list[Invoice], unmarked_ids: list[str]):
        super().__init__(message)
        self.marked = marked  # those that were flagged
        self.unmarked_ids = unmarked_ids  # those left pending


class UnclaimedNumber(Exception):
    """An invoice passed the controls with no number to claim (a bug in them): it is retried, then flagged failed,
    never accepted."""


class _EarlierAttempt(Exception):
    """A record was there when this attempt created its own: an earlier attempt's, flagged failed (see mark_failed)."""

    def __init__(self, record: Invoice):
        super().__init__(record.id)
        self.record = record


def _decide_unread(invoice_id: str, key: str, stored: StoredObject, **ports) -> _Decision:
    """Decide an invoice without reading its record first: records are written once, with their decision, so the
    save is a conditional create, and a record already there is an earlier attempt's (a redelivered message). A
    decided one stands; one flagged failed (a redrive) is decided again over it. The first attempt, nearly every
    one, saves the consistent read per invoice that looking first would cost."""
    try:
        return _decide(invoice_id, key, stored, None, **ports)
    except _EarlierAttempt as earlier:
        return _decide(invoice_id, key, stored, earlier.record, **ports)


def _decide(
    invoice_id: str,
    key: str,
    stored: StoredObject,
    invoice: Invoice | None,
    *,
    invoices: InvoiceRepository,
    originals: ObjectStore,
    directory: Directory,
    validate: Callable | None,
    now: Callable[[], str],
    offset: int | None = None,
    retried: bool = False,
) -> _Decision:
    """Validate one original, run the platform's controls, and save 203 or 213.

    `retried`: the message was received before. That attempt, or one flagged failed (`invoice` given), may have
    claimed the invoice's number and died before its record: a rejection then gives that claim back."""
    earlier_attempt = retried or invoice is not None
    if invoice is None:  # a flow's invoice, or a deposit that crashed between the S3 write and the record write
        # Built here and written once, with its decision (saving a version-less record is a conditional create).
        invoice = _record_from_metadata(invoice_id, key, stored, directory, offset)

    source = intake.validation_source(invoice_id, stored, originals)  # the XML of a Factur-X PDF, the UBL of a JSON
    report = (validate or validate_en16931)(source.xml)
    if source.refusal is not None:  # e.g. a Factur-X MINIMUM profile: not a complete invoice
        report.findings.insert(0, source.refusal)
    summary = summarize(report.invoice) if report.invoice is not None else InvoiceSummary()
    findings = [Error(f.rule, f.severity, f.message, f.location) for f in report.findings]
    # Each decision is timed (`now()`) after the directory reads and the number claim, right before its save: a call
    # retried under throttling must not leave a record written seconds after its updated_at, past a poller's overlap.
    # A flow's invoice was sent with an upload ticket or a POST taken while its depositor could deposit: it must
    # still be an active supplier. Its structure is the one _record_from_metadata read (once per bundle or
    # object, see _BundleDirectory); a direct deposit was checked by its route a moment ago and costs no read.
    depositor = (
        controls.depositor_failure(directory.structure(invoice.supplier_siret), invoice.supplier_siret)
        if invoice.flow_id
        else None
    )
    if depositor is not None:
        recipient = _buyer_structure(summary, directory)
        invoice.reject(summary, recipient.name if recipient else None, [_finding(depositor, {}), *findings],
                       depositor.reason_code, depositor.message, now(), report.omitted)  # fmt: skip
        return _save_rejection(invoices, invoice, summary, earlier_attempt)
    if not report.valid:
        fatal = sorted({f.rule for f in report.findings if f.severity == "fatal"})
        comment = (
            f"EN 16931: {len(fatal)} rule(s) failed: {', '.join(fatal[:10])}{'…' if len(fatal) > 10 else ''}"
            if fatal and source.refusal is None
            else source.refusal.message
            if source.refusal is not None
            else (report.error["detail"] if report.error else "The document could not be read.")
        )
        if not any(f.severity == "fatal" for f in findings):  # the document itself, or the engine: say why
            findings.insert(0, Error(DOCUMENT_RULE, "fatal", comment, "/"))
        recipient = _buyer_structure(summary, directory)
        invoice.reject(
            summary, recipient.name if recipient else None, findings, REJECTION_SEMANTIC, comment, now(), report.omitted
        )
        return _save_rejection(invoices, invoice, summary, earlier_attempt)

    locations = business_term_locations(report.invoice)
    encoding = declared_encoding(source.xml)  # for the messages' hints; read already by the parse that validated it
    # The texts' lengths first: the other controls' messages quote them. A term read where the XSD has none (a
    # CreditNote's cbc:DueDate, before its count: it is allowed no time) or twice next: the record holds one. BT-1
    # and BT-2 next: no acceptance without a number claim. Then the other data the payer reads from the record: the
    # due date, the payment identifiers. Then the amounts, quantities and prices a payer reads.
    failure = (
        controls.text_length_failure(summary)
        or controls.credit_note_due_date_failure(credit_note_due_date(report.invoice))
        or controls.cardinality_failure(repeated_term(report.invoice))
        or controls.number_failure(summary, encoding)
        or controls.issue_date_failure(summary, issue_date_text(report.invoice), invoice.created_at)
        or controls.due_date_failure(summary, due_date_text(report.invoice), cii_date_format(report.invoice.due_date))
        or controls.payment_text_failure(summary, encoding)
        or controls.seller_name_failure(summary, encoding)
        or controls.decimal_failure(non_decimal_term(report.invoice))
    )
    if failure is not None:
        recipient = _buyer_structure(summary, directory)
        invoice.reject(summary, recipient.name if recipient else None, [_finding(failure, locations), *findings],
                       failure.reason_code, failure.message, now(), report.omitted)  # fmt: skip
        return _save_rejection(invoices, invoice, summary, earlier_attempt)
    findings += [_finding(warning, locations) for warning in controls.iban_warnings(summary)]
    failure = controls.supplier_failure(summary, invoice.supplier_siret)
    recipient, routing = controls.routing_failure(summary, directory, invoice.supplier_siret)
    failure = failure or routing
    recipient_name = recipient.name if recipient else None
    if failure is not None:
        invoice.reject(summary, recipient_name, [_finding(failure, locations), *findings], failure.reason_code,
                       failure.message, now(), report.omitted)  # fmt: skip
        return _save_rejection(invoices, invoice, summary, earlier_attempt)

    claim_number = controls.number_claim_key(summary, invoice.supplier_siret)
    if claim_number is None:  # the controls above guarantee one: never a 203 that escapes the duplicate control
        raise UnclaimedNumber(f"invoice {invoice_id} passed the controls with no number claim (BT-1 and BT-2)")
    try:
        invoices.claim_number(claim_number, invoice.id)
    except DuplicateNumber:
        duplicate = controls.duplicate_failure(summary, invoice.supplier_siret)
        # The rejection is made on a fresh copy (the record an earlier attempt flagged failed, or a new one whose
        # conditional create meets any record written meanwhile).
        fresh = invoices.get(invoice_id) if invoice.version is not None else None
        if fresh is not None and fresh.processing == "done":
            return _Decision(fresh, saved=False)
        fresh = fresh or _record_from_metadata(invoice_id, key, stored, directory, offset)
        fresh.reject(summary, recipient_name, [_finding(duplicate, locations), *findings], duplicate.reason_code,
                     duplicate.message, now(), report.omitted)  # fmt: skip
        return _save_decision(invoices, fresh)
    invoice.accept(summary, recipient_name, findings, now(), report.omitted)
    return _save_decision(invoices, invoice, claimed=claim_number)


def _buyer_structure(summary: InvoiceSummary, directory: Directory):
    """The structure the invoice names as its buyer, for the record's recipient name (none for an unusable SIRET)."""
    siret = summary.buyer_siret
    return directory.structure(siret) if siret and len(siret) <= 100 else None


def _finding(failure: controls.ControlFailure | controls.ControlWarning, locations: dict[str, str]) -> Error:
    location = failure.location or locations.get(failure.where or failure.business_term, "/")
    return Error(failure.rule, failure.severity, failure.message, location)


def _is_rejected(invoice: Invoice) -> bool:
    """Decided 213: final (no party can move it on), and holding no number."""
    return invoice.processing == "done" and invoice.status is not None and invoice.status.code == REJETEE.code


def _release_number(invoices: InvoiceRepository, invoice: Invoice, summary: InvoiceSummary) -> None:
    """Give back the number claim a 213 invoice may hold from an earlier attempt (one that claimed, then died before
    its record). The delete is conditional on the claim naming this invoice: another invoice's is never removed."""
    claim_number = controls.number_claim_key(summary, invoice.supplier_siret)
    if claim_number is not None:
        invoices.release_number(claim_number, invoice.id)


def _save_rejection(
    invoices: InvoiceRepository, invoice: Invoice, summary: InvoiceSummary, earlier_attempt: bool
) -> _Decision:
    """Save a 213, then, when an attempt came before (retried, or a record was already there), give back the
    number it may have claimed. After the save, never before: until the 213 stands, a concurrent delivery may still
    accept the invoice with that claim. A first attempt claimed nothing and writes nothing more."""
    decision = _save_decision(invoices, invoice)
    if (earlier_attempt or not decision.saved) and _is_rejected(decision.invoice):
        _release_number(invoices, decision.invoice, summary)
    return decision


def _save_decision(invoices: InvoiceRepository, invoice: Invoice, claimed: str | None = None) -> _Decision:
    """Save a decision; `claimed`: the number claim this attempt made for it."""
    try:
        invoices.save(invoice)
    except ConcurrentUpdate:
        current = invoices.get(invoice.id)
        if current is not None and current.processing == "done":
            if claimed is not None and _is_rejected(current):
                # Another delivery saved a 213 (and gave back the claim) before this one claimed: give it back.
                invoices.release_number(claimed, invoice.id)
            return _Decision(current, saved=False)  # another delivery of the same message decided it: that stands
        if current is not None and invoice.version is None:
            raise _EarlierAttempt(current) from None
        raise
    return _Decision(invoice, saved=True)


def mark_failed(
    key: str,
    *,
    invoices: InvoiceRepository,
    originals: ObjectStore,
    directory: Directory,
    now: Callable[[], str] = utc_now,
) -> list[Invoice]:
    """Last attempt failed: flag the undecided records so people can see them (the message goes to the DLQ).
    NotMarkedFailed, after trying every invoice of the object, when some could not be flagged."""
    if layout.is_bundle_key(key):
        try:
            members = _bundle_members(key, originals)
        except Exception:  # an unreadable bundle: nothing to flag; the DLQ keeps the message
            return []
    else:
        invoice_id = layout.invoice_id_from_key(key)
        stored = originals.get(key) if invoice_id else None
        members = [(invoice_id, stored, None)] if invoice_id else []
    failed, unmarked = [], []
    for invoice_id, stored, offset in members:
        try:  # each on its own: one that cannot be saved (an outage, often the cause) must not keep the others pending
            invoice = _marked_failed(invoice_id, key, stored, offset, invoices, directory, now)
        except Exception as exc:
            log.exception("could not mark invoice %s of %s failed: it stays pending until the DLQ is redriven",
                          invoice_id, key, extra={"invoice_id": invoice_id})  # fmt: skip
            unmarked.append((invoice_id, exc))
            continue
        if invoice is not None:
            failed.append(invoice)
    if unmarked:
        ids = [invoice_id for invoice_id, _ in unmarked]
        raise NotMarkedFailed(f"{len(ids)} invoice(s) of {key} could not be marked failed: {ids}", failed, ids) from (
            unmarked[0][1]
        )
    return failed


def _marked_failed(
    invoice_id: str,
    key: str,
    stored: StoredObject | None,
    offset: int | None,
    invoices: InvoiceRepository,
    directory: Directory,
    now: Callable[[], str],
) -> Invoice | None:
    """The invoice flagged failed; None when it is decided (or flagged) already, or has neither record nor object."""
    invoice = invoices.get(invoice_id)
    if invoice is None and stored is not None:
        invoice = _record_from_metadata(invoice_id, key, stored, directory, offset)
    if invoice is None or invoice.processing != "pending":
        return None
    invoice.fail(now())
    try:
        invoices.save(invoice)
    except ConcurrentUpdate:
        return None  # decided meanwhile
    return invoice


def _record_from_metadata(
    invoice_id: str, key: str, stored: StoredObject, directory: Directory, offset: int | None = None
) -> Invoice:
    invoice = layout.deposited_invoice(invoice_id, key, stored.content_type, len(stored.data), stored.metadata, offset)
    # a flow's invoice (its metadata has no name), or a name cut to fit the metadata: the directory's
    if not invoice.supplier_name or layout.name_was_cut(stored.metadata):
        structure = directory.structure(invoice.supplier_siret) if invoice.supplier_siret else None
        invoice.supplier_name = structure.name if structure else invoice.supplier_name
    invoice.original_sha256 = invoice.original_sha256 or hashlib.sha256(stored.data).hexdigest()
    if not invoice.created_at:
        invoice.created_at = invoice.updated_at = utc_now()
    return invoice
