"""The small interfaces services need from the outside world (AWS adapters and in-memory fakes)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from ..domain.directory import Structure
from ..domain.events import FlowCompleted, StatusChanged
from ..domain.flows import Flow, FlowFile, FlowProgress
from ..domain.invoice import Invoice


@dataclass(frozen=True, slots=True)
class StoredObject:
    data: bytes
    content_type: str
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ObjectHead:
    """What a HEAD tells about an object: its size and type, and its user metadata (x-amz-meta-*)."""

    size: int
    content_type: str
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class InvoiceQuery:
    """A party's invoices, most recently updated first; `before` is the cursor (exclusive).

    `counterpart` is the other party: the supplier for a recipient; for a supplier, the recipient the invoice was
    routed to or, when it was routed to no one (rejected), the buyer the invoice names."""

    role: str  # "supplier" | "recipient"
    siret: str
    limit: int = 25
    statuses: tuple[int, ...] = ()  # any of them
    number: str | None = None
    counterpart: str | None = None
    service_code: str | None = None  # the recipient's service the invoice is routed to (checked on the invoice)
    issued_from: str | None = None  # ISO dates, inclusive
    issued_to: str | None = None
    updated_since: str | None = None  # ISO timestamp, exclusive
    before: str | None = None
    # Index entries a filtered search evaluates per shard and request (None: until the page is full). When it is
    # used up the page holds the matches found so far, and the cursor resumes where the evaluation stopped.
    read_budget: int | None = None
    # A page stops before the invoice that would take the sum of `item_bytes` past `page_bytes` (at least one
    # invoice a page); the cursor resumes at that invoice. None: `limit` alone bounds the page.
    page_bytes: int | None = None
    item_bytes: Callable[[Invoice], int] | None = None


class InvoiceRepository(Protocol):
    def get(self, invoice_id: str) -> Invoice | None: ...

    def get_many(self, invoice_ids: list[str]) -> dict[str, Invoice]:
        """The invoices that exist among these ids, by id."""

    def search(self, query: InvoiceQuery) -> tuple[list[Invoice], str | None]:
        """One page and the cursor of the next (None on the last page). Index queries only, never a scan. With a
        `read_budget` a page can be short, even empty, and still have a next one."""

    def save(self, invoice: Invoice, claim_number: str | None = None) -> None:
        """Write a changed record; ConcurrentUpdate when someone else changed it since it was read.

        With `claim_number`, atomically claim that (supplier, year, number) key for this invoice:
        DuplicateNumber when another invoice holds it (and nothing is written).
        """

    def claim_number(self, claim_number: str, invoice_id: str) -> None:
        """Claim that (supplier, year, number) key for this invoice, alone (then `save` it without the claim):
        DuplicateNumber when another invoice holds it. A claim this invoice holds succeeds again."""

    def release_number(self, claim_number: str, invoice_id: str) -> bool:
        """Remove the claim only if this invoice holds it (another invoice's is never touched); whether it did."""


class ObjectStore(Protocol):
    """The invoice bucket: originals and bundles, renditions, the inbox, attachments (keys: services/layout)."""

    def put(self, key: str, data: bytes, content_type: str, metadata: dict[str, str], *, retain: bool = True) -> None:
        """Write the object; a legal record is locked unless not `retain` (then retain() locks it later)."""

    def put_if_absent(
        self, key: str, data: bytes, content_type: str, metadata: dict[str, str], *, retain: bool = True
    ) -> ObjectHead | None:
        """Write the object unless one is already at `key`: None when written, else the head of the one there
        (`retain` as for put)."""

    def get(self, key: str) -> StoredObject | None: ...

    def head(self, key: str) -> ObjectHead | None:
        """The object's size, type and metadata without its bytes; None when there is no such object."""

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        """`length` bytes of the object from `offset` (a bundled original, the first bytes of an upload)."""

    def copy(self, source_key: str, key: str, *, retain: bool = True) -> None:
        """Copy an object with its type and metadata (server-side); a legal record is locked unless not `retain`."""

    def retain(self, key: str, since: str | None = None) -> None:
        """Give an object the stage's legal retention when it is a legal record (a client wrote it, or it was
        written without `retain` until it was recorded)."""

    def delete(self, key: str) -> None:
        """Remove the object (no error when it is already gone)."""

    def download_url(self, key: str, filename: str) -> str: ...


class Directory(Protocol):
    def structure(self, siret: str) -> Structure | None: ...

    def siret_for_key(self, key_hash: str, *, consistent: bool = False) -> str | None:
        """The SIRET the key authenticates as; `consistent` sees a revocation at once (twice a plain read's cost)."""


class StructureBatch(Protocol):
    def structures(self, sirets: list[str], *, consistent: bool = True) -> dict[str, Structure]:
        """The existing structures among `sirets`, by SIRET, in one batched read."""


class EventPublisher(Protocol):
    def publish(self, events: list[StatusChanged | FlowCompleted]) -> None: ...


class IdempotencyGuard(Protocol):
    def run_once(self, key: str, fingerprint: str, action: Callable[[], str]) -> str:
        """Run `action` once per key; a replay returns its first result; another fingerprint raises Conflict."""


class FlowRepository(Protocol):
    def create(self, flow: Flow) -> bool:
        """Create the flow header; False (and no change) when it exists."""

    def get(self, flow_id: str) -> Flow | None:
        """The flow with its files, in archive order."""

    def add_files(self, flow_id: str, files: list[FlowFile], created_at: str) -> None:
        """Write the files of the flow created at `created_at` (they expire with it); rewriting is harmless."""

    def finish_expansion(
        self,
        flow_id: str,
        phase: str,
        total_files: int,
        error: str | None,
        at: str,
        objects: int = 0,
        ignored: int = 0,
    ) -> None:
        """The expansion's outcome: its phase, its files, how many original objects it wrote, and how many OS
        metadata entries of the archive it skipped."""

    def note_ignored_upload(self, flow_id: str, at: str) -> None:
        """A later file posted with the flow's upload ticket was not taken in (the flow says so)."""

    def progress(self, flow_id: str) -> FlowProgress | None: ...

    def mark_object_done(self, flow_id: str, object_name: str) -> FlowProgress | None:
        """Processing has decided every invoice of this object (marking it again changes nothing); None for a
        flow that does not exist."""

    def mark_completed(
        self, flow_id: str, at: str, revision: int = 1, announced: str | None = None, report: Flow | None = None
    ) -> bool:
        """Note the flow.completed just published; for a revision after the first, only if the last one noted is
        still revision - 1 (False otherwise: another process announced in between). With `report` (the flow, its
        outcomes read), note its counts and updated_at too (see note_report)."""

    def note_report(self, flow_id: str, report: Flow) -> bool:
        """Note the counts and updated_at of a complete flow (its outcomes read) on the flow itself: `get` then
        gives them (Flow.noted_counts), and its report reads only its page's invoices. Never over a later
        updated_at (False then)."""


class UploadSigner(Protocol):
    def presigned_post(self, key: str, fields: dict[str, str], max_bytes: int, expires_in: int) -> dict:
        """{"url", "fields"} of a browser-style S3 POST for exactly this key, these fields and at most max_bytes."""
