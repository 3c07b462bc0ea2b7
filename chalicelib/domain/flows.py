"""Bulk flows: a file received for deposit, its files (one per archive member) and their outcomes, and the
flow's state derived from them (Chorus Pro's flow states). Pure."""

from __future__ import annotations

from dataclasses import dataclass, field

from .invoice import Error

RECEIVED, EXPANDED, UNREADABLE = "received", "expanded", "unreadable"
PENDING, ACCEPTED, REJECTED = "pending", "accepted", "rejected"

IN_RECU = "IN_RECU"
IN_EN_COURS_TRAITEMENT = "IN_EN_COURS_TRAITEMENT"
IN_INTEGRE = "IN_INTEGRE"
IN_INTEGRE_PARTIEL = "IN_INTEGRE_PARTIEL"
IN_REJETE = "IN_REJETE"


@dataclass(slots=True)
class FlowFile:
    key: str  # "file#00001": archive order
    name: str
    invoice_id: str | None = None
    outcome: str = PENDING
    status_code: int | None = None
    errors: list[Error] = field(default_factory=list)
    decided_at: str | None = None  # when its invoice was decided


@dataclass(slots=True)
class Flow:
    id: str
    supplier_siret: str
    created_at: str
    updated_at: str
    source: str = "api"
    phase: str = RECEIVED
    error: str | None = None
    total_files: int | None = None
    ignored_files: int = 0  # OS metadata entries of the archive (__MACOSX/, .DS_Store…): skipped, not files
    files: list[FlowFile] = field(default_factory=list)
    inbox_sha256: str | None = None  # of the file the flow was expanded from (absent on flows from before it)
    # when a second file was posted with the flow's upload ticket: it is not taken in (a ticket is for one file)
    ignored_upload_at: str | None = None
    # The whole flow's accepted and rejected files, noted when its completion was announced: its report then reads
    # only its page's invoices. None before (and on flows announced before they were noted): derived from the files.
    noted_counts: tuple[int, int] | None = None

    def counts(self) -> dict[str, int]:
        if self.noted_counts is not None:
            accepted, rejected = self.noted_counts
            return {"files": len(self.files), "accepted": accepted, "rejected": rejected,
                    "pending": len(self.files) - accepted - rejected}  # fmt: skip
        outcomes = [f.outcome for f in self.files]
        return {
            "files": len(self.files),
            "accepted": outcomes.count(ACCEPTED),
            "rejected": outcomes.count(REJECTED),
            "pending": outcomes.count(PENDING),
        }

    @property
    def state(self) -> str:
        """Chorus Pro's flow states, from the files' outcomes."""
        if self.phase == UNREADABLE:
            return IN_REJETE
        if self.phase == RECEIVED and not self.files:
            return IN_RECU
        counts = self.counts()
        if self.phase != EXPANDED or counts["pending"]:
            return IN_EN_COURS_TRAITEMENT
        if counts["accepted"] == counts["files"] and counts["files"]:
            return IN_INTEGRE
        if counts["accepted"]:
            return IN_INTEGRE_PARTIEL
        return IN_REJETE


@dataclass(frozen=True, slots=True)
class FlowProgress:
    """Where a flow's processing stands: its phase, how many original objects expansion wrote and how many
    processing has finished, and whether its completion was already announced."""

    phase: str
    objects_total: int | None = None  # known once expanded
    objects_done: int = 0
    completed_at: str | None = None
    revision: int = 0  # of the last flow.completed published (0: none yet)
    announced: str | None = None  # the counts it announced (announced_counts)

    @property
    def complete(self) -> bool:
        expanded = self.phase == UNREADABLE or (self.phase == EXPANDED and self.objects_total is not None)
        return expanded and self.objects_done >= (self.objects_total or 0)
