"""Bulk flows: an archive (or an upload) fanned out into invoices that the normal pipeline validates.

1. Receive: POST /v1/flows (small archives) or a presigned upload writes the file to `inbox/<flow id>`.
2. Expand (the inbox queue's handler): every member is checked (hostile names, links, bombs, formats);
   readable invoices are written as originals under `originals/`, in bundles of a few dozen (one object
   each, formats.bundles) with their flow in their metadata, so the bucket notification → validation
   queue → handler validates them in parallel, bundle by bundle, like any deposit.
   Member invoice ids are derived from the flow id and the member's position: expanding twice (a
   redelivered message) rewrites the same keys.
3. Report: when the flow is read, each file's outcome is its invoice's decision (read by id, nothing is
   written per invoice for the report). Counts and the flow's state are derived from the files until the flow
   is complete; then the counts (and its last decision) noted with its announcement are answered, and a report
   reads only its page's invoices.
4. Complete: each original object (a bundle, or a large original alone) is marked done on the flow when
   processing has decided all its invoices; the flow is complete once expanded with every object done, and
   its supplier is told (a `flow.completed` event), so nobody has to poll. Marking an object is idempotent
   (a set), so redelivered messages cannot miscount.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from ..domain.batching import chunks
from ..domain.directory import Principal
from ..domain.events import FlowCompleted
from ..domain.flows import (
    ACCEPTED,
    EXPANDED,
    PENDING,
    RECEIVED,
    REJECTED,
    UNREADABLE,
    Flow,
    FlowFile,
    FlowProgress,
)
from ..domain.ids import base32, derived_id, is_ulid, new_id
from ..domain.invoice import Error, Invoice
from ..domain.statuses import MISE_A_DISPOSITION, REJETEE
from ..formats import archives, bundles, facturx, sniffing
from . import controls, intake, layout
from .authentication import require_role
from .clock import utc_now
from .errors import (
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    ServiceError,
    Unprocessable,
    UnsupportedMediaType,
    is_infrastructure_error,
)
from .paging import PAGE_BYTES, decode_cursor, encode_cursor, page_limit
from .ports import (
    Directory,
    EventPublisher,
    FlowRepository,
    InvoiceRepository,
    ObjectHead,
    ObjectStore,
    UploadSigner,
)
from .uploads import PresignedUpload, checksum_fields, presign_upload, upload_name_fields

log = logging.getLogger(__name__)

META_SOURCE = "source"
# The types a ZIP or a tar.gz is declared with, as sniffing knows them (one list: they cannot disagree).
ARCHIVE_MEDIA_TYPES = (*sniffing.MEDIA_TYPES[sniffing.ZIP], *sniffing.MEDIA_TYPES[sniffing.GZIP])
EMPTY_ARCHIVE = "The archive contains no file."
RULE = "CHORALE-FLOW-01"  # a file of the flow that is not (or could not become) an invoice
MAX_FILE_ERRORS = 10  # per file in the report: 1 000 files stay well under the 6 MB response limit
WRITERS = 16  # parallel S3 writes while fanning out
# Originals are written in bundles (formats.bundles): one S3 object, notification and GET per bundle. A bundle
# is one unit of the validation queue, so the flow is still validated in parallel, bundle by bundle.
BUNDLE_MEMBERS = 25
BUNDLE_BYTES = 2 * 1024 * 1024  # a validation batch (10 messages) stays a few seconds of work
BUNDLED_MEMBER_MAX = 4 * 1024 * 1024  # larger originals keep their own object (downloads over a presigned URL)


def member_invoice_id(flow_id: str, index: int) -> str:
    """A ULID with the flow's time part and a random part derived from (flow, position): stable across retries."""
    digest = int.from_bytes(hashlib.sha256(f"{flow_id}:{index}".encode()).digest()[:10], "big")
    return flow_id[:10] + base32(digest, 16)


def file_key(index: int) -> str:
    return f"file#{index:05d}"


def file_index(key: str) -> int:
    """The 1-based archive position a file key stands for (file_key's inverse)."""
    return int(key.removeprefix("file#"))


# --- receiving ----------------------------------------------------------------------------------


def receive_archive(
    principal: Principal,
    body: bytes,
    content_type: str | None,
    *,
    flows: FlowRepository,
    inbox: ObjectStore,
    max_bytes: int,
    idempotency_key: str | None = None,
    invoices: InvoiceRepository | None = None,
    now: Callable[[], str] = utc_now,
    max_files: int = archives.Limits().max_files,
) -> Flow:
    """POST /v1/flows: keep the archive in the inbox (its notification drives the expansion); 202 IN_RECU.

    With an `idempotency_key`, the flow id is derived from (supplier, key) and the archive is written only if
    absent: a retry answers the flow as it is now (its files' outcomes read from `invoices`), or refuses the key
    (409, another archive)."""
    require_role(principal, "supplier")
    media = sniffing.media_type(content_type)
    if media not in ARCHIVE_MEDIA_TYPES:
        raise UnsupportedMediaType(
            f"Content-Type {media or '(none)'!r} is not accepted here: send a ZIP (application/zip) or a tar.gz "
            "(application/gzip) archive of invoices.",
            accepted=list(ARCHIVE_MEDIA_TYPES),
        )
    if not body:
        raise InvalidInput("The request body is empty: send the archive as the body.")
    if len(body) > max_bytes:
        raise PayloadTooLarge(
            f"The body is {len(body)} bytes; archives over {max_bytes} bytes go through POST /v1/uploads.",
            limit_bytes=max_bytes,
        )
    intake.check_declared(body, media)
    if sniffing.sniff(body) not in (sniffing.ZIP, sniffing.GZIP):
        raise UnsupportedMediaType(
            f"The body is {sniffing.describe(sniffing.sniff(body))}, not a ZIP or tar.gz archive.",
            found=sniffing.sniff(body),
        )
    files = None
    if sniffing.sniff(body) == sniffing.ZIP:  # its central directory only: a tar.gz is read by its expansion
        try:
            files = archives.zip_file_count(body)
        except archives.UnreadableArchive as exc:
            raise Unprocessable(exc.detail, reason="unreadable") from None
    if files == 0:
        raise Unprocessable(f"{EMPTY_ARCHIVE} Put the invoices in it.")
    if files is not None and files > max_files:  # refused whole, as the expansion would (a tar.gz: IN_REJETE)
        raise Unprocessable(archives.too_many_files(str(files), max_files).detail, reason="too_many_files",
                            max_files=max_files, files=files)  # fmt: skip
    fingerprint = hashlib.sha256(body).hexdigest()
    # With a key, the flow id is the key's (per supplier): a retry targets the same inbox object (as deposits do).
    flow_id = derived_id("flow", principal.siret, idempotency_key) if idempotency_key else new_id()
    at = now()
    flow = Flow(flow_id, principal.siret, at, at, source="api")
    metadata = {**_inbox_metadata(principal.siret, at, "api"), layout.META_SHA256: fingerprint}
    # The archive first: once it is in the inbox the flow exists (GET reads it from the object's metadata, and the
    # expansion writes its record).
    if not idempotency_key:
        inbox.put(layout.inbox_key(flow_id), body, media, metadata)
    else:
        existing = inbox.put_if_absent(layout.inbox_key(flow_id), body, media, metadata)
        if existing is not None:  # a replay, or the retry of an attempt whose answer was lost: nothing new
            intake.refuse_other_body(existing, fingerprint)
            replayed = flows.get(flow_id) or received_flow(flow_id, inbox, existing)
            if replayed is None:
                raise RuntimeError(f"flow {flow_id} has an inbox object without its supplier")
            if invoices is not None:
                _read_outcomes(replayed, invoices)
            return replayed
    try:
        flows.create(flow)
    except Exception:
        # Answering an error would make the client send the archive again: a second flow, all DOUBLON.
        log.warning("flow %s: its archive is in the inbox but its record could not be written; the expansion "
                    "writes it", flow_id, exc_info=True)  # fmt: skip
    return flow


def _inbox_metadata(supplier: str, at: str, source: str) -> dict[str, str]:
    return {layout.META_SUPPLIER: supplier, layout.META_RECEIVED_AT: at, META_SOURCE: source}


def received_flow(flow_id: str, inbox: ObjectStore, head: ObjectHead | None = None) -> Flow | None:
    """The flow of a file in the inbox whose expansion has not started: IN_RECU, read from the object's metadata
    (its `head`, when the caller has it)."""
    head = head or inbox.head(layout.inbox_key(flow_id))
    if head is None or not head.metadata.get(layout.META_SUPPLIER):
        return None
    meta = head.metadata
    at = meta.get(layout.META_RECEIVED_AT, "")
    return Flow(flow_id, meta[layout.META_SUPPLIER], at, at, source=meta.get(META_SOURCE, "upload"))


def create_upload(
    principal: Principal,
    *,
    signer: UploadSigner,
    max_bytes: int,
    expires_in: int,
    sha256: object = None,
    name: object = None,
    now: Callable[[], str] = utc_now,
) -> PresignedUpload:
    """POST /v1/uploads: a presigned S3 POST for one file (an invoice or an archive) into the inbox; the upload
    id is its flow's id. With `sha256` (base64), S3 takes only the file that has it; `name` names a single invoice's
    file in its flow report."""
    require_role(principal, "supplier")
    asked = checksum_fields(sha256) | upload_name_fields(name)  # refused before anything is signed
    upload_id = new_id()
    at = now()
    fields = {f"x-amz-meta-{k}": v for k, v in _inbox_metadata(principal.siret, at, "upload").items()} | asked
    return presign_upload(signer, layout.inbox_key(upload_id), upload_id, fields, max_bytes=max_bytes,
                          expires_in=expires_in, issued_at=at)  # fmt: skip


# --- expanding ----------------------------------------------------------------------------------


def expand_inbox(
    key: str,
    *,
    flows: FlowRepository,
    store: ObjectStore,
    directory: Directory,
    limits: archives.Limits = archives.Limits(),
    now: Callable[[], str] = utc_now,
) -> Flow | None:
    """The inbox handler's use case: an archive becomes a flow of invoices; a single invoice, a flow of one.
    A depositor that is no longer an active supplier (deactivated after its upload ticket or its POST) gets
    its flow rejected (IN_REJETE, with the reason) and none of its files taken in: one directory read a flow (a
    redelivery of a flow an earlier attempt took in finishes it)."""
    flow_id = layout.flow_id_from_inbox_key(key)
    if flow_id is None:
        return None
    stored = store.get(key)
    if stored is None:
        raise FileNotFoundError(f"no object at {key}")
    meta = stored.metadata
    if meta.get(META_SOURCE, "upload") == "upload":
        store.retain(key)  # written by the client's presigned POST, which cannot carry the legal retention
    supplier = meta.get(layout.META_SUPPLIER, "")
    received_at = meta.get(layout.META_RECEIVED_AT) or now()
    sha256 = hashlib.sha256(stored.data).hexdigest()
    source = meta.get(META_SOURCE, "upload")
    flows.create(Flow(flow_id, supplier, received_at, received_at, source=source, inbox_sha256=sha256))
    flow = flows.get(flow_id)
    if flow is not None and flow.phase != RECEIVED:
        if flow.inbox_sha256 not in (None, sha256) and flow.ignored_upload_at is None:
            # Not a redelivery: another file posted with the same upload ticket. A ticket is for one file; the
            # flow keeps the one it was expanded from and says that a later one was not taken in.
            log.warning("flow %s: a second file was posted with its upload ticket and is not taken in", flow_id)
            flows.note_ignored_upload(flow_id, now())
            flow = flows.get(flow_id) or flow
        return flow  # redelivery: already expanded
    # A flow with files was taken in by an earlier attempt that died before finishing (its bundles may be decided,
    # 203 included): this redelivery finishes it, and processing's own depositor control rejects what is undecided.
    taken_in = flow is not None and bool(flow.files)
    refusal = None if taken_in else controls.depositor_failure(directory.structure(supplier) if supplier else None,
                                                               supplier)  # fmt: skip
    if refusal is not None:
        flows.finish_expansion(flow_id, UNREADABLE, 0, f"{refusal.message} The flow is not taken in.", now(),
                               objects=0)  # fmt: skip
        return flows.get(flow_id)
    kind = sniffing.sniff(stored.data)
    if kind in (sniffing.ZIP, sniffing.GZIP, sniffing.TAR):
        try:
            members = archives.read_members(stored.data, limits)
        except archives.UnreadableArchive as exc:
            flows.finish_expansion(flow_id, UNREADABLE, 0, exc.detail, now(), objects=0)
            return flows.get(flow_id)
        if all(m.ignored for m in members):  # no file (empty, folders or OS metadata only): rejected, and why
            flows.finish_expansion(flow_id, UNREADABLE, 0, EMPTY_ARCHIVE, now(), objects=0, ignored=len(members))
            return flows.get(flow_id)
    else:  # an upload of a single invoice: the invoice id is the upload id
        named = meta.get(layout.META_UPLOAD_NAME)  # as POST /v1/uploads was told
        members = [archives.Member(layout.decode_name(named) if named else "invoice", stored.data)]
    files, writes = [], []
    renditions = 0  # bytes of XML extracted from PDF members or written from JSON members, held until written
    pdfs = facturx.FlowBudget(limits.max_total_bytes)  # what the PDF members inflate to together, read or refused
    for index, member in enumerate(members, start=1):
        if member.ignored:  # OS metadata: not a file of the flow (counted apart); the others keep their positions
            continue
        entry = FlowFile(file_key(index), member.name)
        files.append(entry)
        if member.error is not None:
            entry.outcome = REJECTED
            entry.errors = [Error(RULE, "fatal", member.error, member.name)]
            continue
        try:
            with pdfs.applied():
                prepared = intake.prepare_member(member.data or b"")
        except ServiceError as exc:
            entry.outcome = REJECTED
            entry.errors = _errors_of(exc, member.name)
            continue
        except Exception as exc:
            if is_infrastructure_error(exc):
                raise  # the message fails and is retried: not the file's fault
            # A hostile file that reached an unexpected failure: rejected alone, never the whole flow stuck IN_RECU.
            # Its position, not its name: a member's name may carry personal data (facture_dupont_jean.xml).
            log.exception("flow %s: file %d could not be read", flow_id, index)
            entry.outcome = REJECTED
            entry.errors = [Error(RULE, "fatal", f"The file could not be read as an invoice ({type(exc).__name__}).",
                                  member.name)]  # fmt: skip
            continue
        rendition = len(prepared.rendition or b"")
        if renditions + rendition > limits.max_total_bytes:  # held until written, beside the members
            entry.outcome = REJECTED
            entry.errors = [Error(RULE, "fatal", f"The flow's PDF and JSON files give more than "
                                  f"{limits.max_total_bytes} bytes of invoice XML: this file is over the limit; "
                                  "send it in another flow.", member.name)]  # fmt: skip
            continue
        renditions += rendition
        entry.invoice_id = flow_id if kind not in (sniffing.ZIP, sniffing.GZIP, sniffing.TAR) else (
            member_invoice_id(flow_id, index))  # fmt: skip
        writes.append((entry, member.data, prepared))
    # Before the originals; a redelivery writes the same files again (their outcomes are read from the invoices).
    flows.add_files(flow_id, files, flow.created_at if flow is not None else received_at)

    def metadata_of(entry: FlowFile, data: bytes, prepared: intake.Prepared) -> dict[str, str]:
        return {
            layout.META_INVOICE_ID: entry.invoice_id or "",
            layout.META_SUPPLIER: supplier,
            layout.META_FORMAT: prepared.format,
            layout.META_SHA256: hashlib.sha256(data).hexdigest(),
            layout.META_RECEIVED_AT: received_at,
            layout.META_FLOW_ID: flow_id,
            layout.META_FLOW_FILE: entry.key,
            **prepared.metadata,
        }

    def write_alone(job) -> None:
        entry, data, prepared = job
        intake.store_rendition(store, entry.invoice_id, prepared, {layout.META_INVOICE_ID: entry.invoice_id})
        store.put(layout.original_key(entry.invoice_id), data, prepared.media, metadata_of(entry, data, prepared))

    def write_bundle(numbered) -> None:
        number, jobs = numbered
        for entry, _, prepared in jobs:  # renditions first: processing looks for them
            intake.store_rendition(store, entry.invoice_id, prepared, {layout.META_INVOICE_ID: entry.invoice_id})
        members = [
            bundles.BundleMember(entry.invoice_id, data,
                                 {**metadata_of(entry, data, prepared), layout.META_MEDIA: prepared.media})
            for entry, data, prepared in jobs
        ]  # fmt: skip
        store.put(layout.bundle_key(flow_id, number), bundles.write_bundle(members), bundles.MEDIA_TYPE,
                  {layout.META_FLOW_ID: flow_id, layout.META_SUPPLIER: supplier})  # fmt: skip

    alone = [job for job in writes if len(job[1]) > BUNDLED_MEMBER_MAX]
    tasks = [(write_alone, job) for job in alone] + [
        (write_bundle, numbered)
        for numbered in enumerate(
            chunks(
                [j for j in writes if j not in alone],
                count=BUNDLE_MEMBERS,
                budget=BUNDLE_BYTES,
                size=lambda job: len(job[1]),
            ),
            start=1,
        )
    ]
    if tasks:
        with ThreadPoolExecutor(max_workers=min(WRITERS, len(tasks))) as pool:
            list(pool.map(lambda task: task[0](task[1]), tasks))
    ignored = sum(m.ignored for m in members)
    flows.finish_expansion(flow_id, EXPANDED, len(files), None, now(), objects=len(tasks), ignored=ignored)
    return flows.get(flow_id)


def _errors_of(exc: ServiceError, name: str) -> list[Error]:
    detailed = exc.extra.get("errors") or []
    if detailed:
        return [Error("JSON-SCHEMA", "fatal", e["message"], e["pointer"] or "/") for e in detailed[:MAX_FILE_ERRORS]]
    return [Error(RULE, "fatal", exc.detail, name)]


# --- reporting ----------------------------------------------------------------------------------


def file_outcome(file: FlowFile, invoice: Invoice | None) -> None:
    """A file's outcome is its invoice's first decision (203 or 213), or that its processing failed."""
    if invoice is None or invoice.processing == "pending":
        return
    if invoice.processing == "failed":
        file.outcome, file.errors = REJECTED, [Error(RULE, "fatal", "The invoice could not be processed.", "/")]
        file.decided_at = invoice.updated_at
        return
    decision = next((h for h in invoice.history if h.code in (MISE_A_DISPOSITION.code, REJETEE.code)), None)
    file.status_code = decision.code if decision else None
    if file.status_code == REJETEE.code:
        file.outcome = REJECTED
        file.errors = [e for e in invoice.errors if e.severity == "fatal"][:MAX_FILE_ERRORS]
    else:
        file.outcome = ACCEPTED
    file.decided_at = decision.at if decision is not None else invoice.updated_at


# --- completing ---------------------------------------------------------------------------------


def object_name(key: str) -> str:
    """How a flow names one of its original objects: the bundle's number, or the invoice id of a lone original."""
    bundle = layout.bundle_flow_and_number(key)
    return f"bundle-{bundle[1]}" if bundle is not None else key.rsplit("/", 1)[-1]


def flow_of_object(key: str, decided: list[Invoice], originals: ObjectStore | None = None) -> str | None:
    """The flow an original object belongs to: a bundle's key names it, a lone original's invoice carries it.
    With `originals`, a lone original whose invoice could not even be recorded is asked its metadata."""
    bundle = layout.bundle_flow_and_number(key)
    if bundle is not None:
        return bundle[0]
    flow_id = next((i.flow_id for i in decided if i.flow_id), None)
    if flow_id is None and originals is not None:
        head = originals.head(key)
        flow_id = head.metadata.get(layout.META_FLOW_ID) if head is not None else None
    return flow_id


def object_processed(
    key: str,
    decided: list[Invoice],
    *,
    flows: FlowRepository,
    invoices: InvoiceRepository,
    publisher: EventPublisher,
    originals: ObjectStore | None = None,
    now: Callable[[], str] = utc_now,
) -> FlowCompleted | None:
    """Processing has decided (or given up on) every invoice of the object `key`: if it belongs to a flow, mark
    it done, and announce the flow when it was the last one. `originals` only when processing gave up (see
    flow_of_object): a single deposit costs no look-up. An object processed after the announcement is a redrive
    (or a redelivery): the flow is announced again if its counts have changed."""
    flow_id = flow_of_object(key, decided, originals)
    if flow_id is None:
        return None  # a single deposit
    progress = flows.mark_object_done(flow_id, object_name(key))
    ports = {"flows": flows, "invoices": invoices, "publisher": publisher, "now": now}
    if progress is not None and progress.completed_at:
        return reannounce_if_changed(flow_id, progress, **ports)
    return complete_if_done(flow_id, progress, **ports)


def announce_if_complete(
    flow_id: str,
    *,
    flows: FlowRepository,
    invoices: InvoiceRepository,
    publisher: EventPublisher,
    now: Callable[[], str] = utc_now,
) -> FlowCompleted | None:
    """After an expansion: a flow with nothing to validate is complete now, and so is one whose objects were all
    processed while it was being expanded."""
    progress = flows.progress(flow_id)
    return complete_if_done(flow_id, progress, flows=flows, invoices=invoices, publisher=publisher, now=now)


def complete_if_done(
    flow_id: str,
    progress: FlowProgress | None,
    *,
    flows: FlowRepository,
    invoices: InvoiceRepository,
    publisher: EventPublisher,
    now: Callable[[], str] = utc_now,
) -> FlowCompleted | None:
    """Publish `flow.completed` once the flow is complete, then note it. Two processes finishing the last objects
    at once may both publish: the event id is the same, and receivers deduplicate on it (at least once)."""
    if progress is None or not progress.complete or progress.completed_at:
        return None
    flow = flows.get(flow_id)
    if flow is None:
        return None
    _read_outcomes(flow, invoices)
    if flow.counts()["pending"]:
        return None  # an object marked done while one of its invoices is not decided: not complete
    event = _completed(flow, now(), revision=1)
    publisher.publish([event])
    flows.mark_completed(flow_id, event.completed_at, 1, announced_counts(event.counts), report=flow)
    return event


REANNOUNCE_ATTEMPTS = 5


def reannounce_if_changed(
    flow_id: str,
    progress: FlowProgress,
    *,
    flows: FlowRepository,
    invoices: InvoiceRepository,
    publisher: EventPublisher,
    now: Callable[[], str] = utc_now,
) -> FlowCompleted | None:
    """A redrive has decided invoices of an announced flow (they were counted as failed): publish the next
    revision of flow.completed if the counts changed. Compared on every object processed after the announcement,
    so a publication that failed is made by the message's retry.

    Two redriven objects finishing at once may publish the same revision with different counts (one id: a
    receiver keeps either). The one that cannot note its revision therefore always announces the next one, read
    afresh, with both outcomes: the highest revision has the truth."""
    shadowed = False
    for _ in range(REANNOUNCE_ATTEMPTS):
        flow = flows.get(flow_id)
        if flow is None:
            return None
        noted = (flow.noted_counts, flow.updated_at)
        _read_outcomes(flow, invoices)
        counts = flow.counts()
        if counts["pending"]:
            return None
        if announced_counts(counts) == progress.announced and not shadowed:
            # Nothing to announce, but a decision may have moved (a failed invoice now rejected): the report's.
            if noted != ((counts["accepted"], counts["rejected"]), flow.updated_at):
                flows.note_report(flow_id, flow)
            return None
        event = _completed(flow, now(), revision=progress.revision + 1)
        publisher.publish([event])
        if flows.mark_completed(flow_id, event.completed_at, event.revision, announced_counts(counts), report=flow):
            return event
        shadowed = True
        progress = flows.progress(flow_id) or progress
    log.warning("flow %s: gave up re-announcing after %d concurrent revisions", flow_id, REANNOUNCE_ATTEMPTS)
    return None


def announced_counts(counts: dict[str, int]) -> str:
    """How the flow header records the counts a flow.completed announced (compared on a redrive)."""
    return "{files}/{accepted}/{rejected}".format(**counts)


def _completed(flow: Flow, at: str, *, revision: int) -> FlowCompleted:
    return FlowCompleted(flow.id, flow.supplier_siret, flow.state, flow.source, flow.counts(), flow.created_at, at,
                         flow.error, revision)  # fmt: skip


def flow_report(
    principal: Principal,
    flow_id: str,
    *,
    flows: FlowRepository,
    invoices: InvoiceRepository,
    inbox: ObjectStore,
    cursor: str | None = None,
    limit: str | None = None,
) -> tuple[Flow, list[FlowFile], str | None]:
    """The flow, a page of its files (files_page) with their outcomes, and the next page's cursor; only its
    supplier sees it. A complete flow reads only the page's invoices (its counts were noted with its announcement);
    one still running (or announced before its counts were noted) reads every invoice, its counts derive from them.
    So does a complete flow whose page shows a decision its noted counts do not hold yet (a redrive's, before the
    flow is told of it): the report never contradicts itself.

    A file that has landed in the inbox is a flow IN_RECU even before its notification is handled, so a client
    polling right after its upload (or POST) never sees a 404.
    """
    flow = flows.get(flow_id) if is_ulid(flow_id) else None
    if flow is None and is_ulid(flow_id):
        flow = received_flow(flow_id, inbox)
    if flow is None or flow.supplier_siret != principal.siret:
        raise NotFound(
            f"No flow {flow_id} is visible to you. An upload appears here once its file has reached the inbox."
        )
    if flow.noted_counts is None:
        _read_outcomes(flow, invoices)
    else:
        start, count = _page_bounds(flow, cursor, limit)
        page, noted_at = flow.files[start : start + count], flow.updated_at  # the files the page can hold
        _read_outcomes(flow, invoices, page)
        if _outdates_noted_counts(flow, page, noted_at):
            _read_outcomes(flow, invoices)
    return flow, *files_page(flow, cursor=cursor, limit=limit)


def _outdates_noted_counts(flow: Flow, page: list[FlowFile], noted_at: str) -> bool:
    """Whether the page's outcomes (read) show the flow's noted counts stale: a file decided after they were noted,
    or more files of an outcome than they hold (a decision timed by a clock behind the one that noted them)."""
    if any((f.decided_at or "") > noted_at for f in page):
        return True
    held = flow.counts()
    return any(sum(f.outcome == outcome for f in page) > held[outcome] for outcome in (ACCEPTED, REJECTED, PENDING))


# A report's files come in pages: `limit` files at most, and never more than the response can carry (Lambda
# answers at most 6 MB: an archive's member names and error texts are the sender's, up to 500 characters each).
FILES_PAGE_MAX = 1000
FILES_PAGE_BYTES = PAGE_BYTES


# The query parameters of a flow's report (its files' pages).
FILES_PAGE_PARAMETERS = ("limit", "cursor")


def files_page(flow: Flow, *, cursor: str | None = None, limit: str | None = None) -> tuple[list[FlowFile], str | None]:
    """The report's files from `cursor` on (archive order), and the cursor of the next page (None on the last)."""
    start, count = _page_bounds(flow, cursor, limit)
    page, budget = [], FILES_PAGE_BYTES
    for file in flow.files[start:]:
        budget -= _report_size(file)
        if len(page) == count or (page and budget < 0):
            return page, encode_cursor(file.key)
        page.append(file)
    return page, None


def _page_bounds(flow: Flow, cursor: str | None, limit: str | None) -> tuple[int, int]:
    """Where a page starts among the flow's files, and how many it holds at most (fewer if over its bytes)."""
    start = 0
    if cursor:
        first = decode_cursor(cursor, _is_file_key)
        start = next((i for i, f in enumerate(flow.files) if f.key >= first), len(flow.files))
    return start, page_limit(limit, FILES_PAGE_MAX, FILES_PAGE_MAX)


def _report_size(file: FlowFile) -> int:
    """Bytes of a file's entry in the JSON report, generously (escaped non-ASCII text takes up to 6 bytes a char)."""
    texts = len(file.name) + sum(len(e.message) + len(e.location) + len(e.rule) for e in file.errors)
    return 250 + 6 * texts + 80 * len(file.errors)


def _is_file_key(position: str) -> bool:
    return position.startswith("file#")


def _read_outcomes(flow: Flow, invoices: InvoiceRepository, files: list[FlowFile] | None = None) -> None:
    """The outcomes of `files` (all the flow's by default: its counts then derive from them) read from their
    invoices; the flow's updated_at is its last decision."""
    if files is None:
        files, flow.noted_counts = flow.files, None
    found = invoices.get_many([f.invoice_id for f in files if f.invoice_id])
    for file in files:
        if file.invoice_id:
            file_outcome(file, found.get(file.invoice_id))
            flow.updated_at = max(flow.updated_at, file.decided_at or "")
