"""Flows in DynamoDB (one table, see tables.FlowItemRecord)."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from ..domain.batching import chunks
from ..domain.flows import PENDING, RECEIVED, REJECTED, Flow, FlowFile, FlowProgress
from ..domain.invoice import Error
from .tables import ErrorAttribute, FlowFileAttribute, FlowItemRecord, is_conditional_failure, kept_until

HEADER = "#"
# Files per item: at most 50, and at most ~300 KB of names and errors (DynamoDB's item limit is 400 KB).
# Names and error texts are stored cut to their first characters: an archive's member names are the
# sender's, of any length, and an unsafe name appears in its error's message and location too.
FILES_PER_ITEM = 50
ITEM_BUDGET = 300_000
STORED_TEXT = 500  # characters of a name, an error message or a location


def _cut(text: str) -> str:
    """At most STORED_TEXT characters, and always UTF-8 (a hostile name or JSON key may carry a lone surrogate)."""
    text = text.encode("utf-8", "backslashreplace").decode()
    return text if len(text) <= STORED_TEXT else text[: STORED_TEXT - 1] + "…"


def _stored_size(f: FlowFile) -> int:
    return 100 + len(f.name.encode()) + sum(len(e.message.encode()) + len(e.location.encode()) + 60 for e in f.errors)


def _flow_pk(flow_id: str) -> str:
    return f"flow#{flow_id}"


def _errors(errors: list[Error]) -> list[ErrorAttribute]:
    return [ErrorAttribute(**e.as_dict()) for e in errors]


class DynamoFlowRepository:
    def create(self, flow: Flow) -> bool:
        record = FlowItemRecord(
            _flow_pk(flow.id),
            HEADER,
            supplier_siret=flow.supplier_siret,
            created_at=flow.created_at,
            updated_at=flow.updated_at,
            phase=flow.phase,
            source=flow.source,
            inbox_sha256=flow.inbox_sha256,
            expires=kept_until(flow.created_at),
        )
        try:
            record.save(condition=FlowItemRecord.pk.does_not_exist())
        except PutError as exc:
            if is_conditional_failure(exc):
                return False
            raise
        return True

    def get(self, flow_id: str) -> Flow | None:
        items = list(FlowItemRecord.query(_flow_pk(flow_id), consistent_read=True))
        header = next((i for i in items if i.sk == HEADER), None)
        if header is None:
            return None
        flow = Flow(
            id=flow_id,
            supplier_siret=header.supplier_siret or "",
            created_at=header.created_at or "",
            updated_at=header.updated_at or "",
            source=header.source or "api",
            phase=header.phase or RECEIVED,
            error=header.error,
            total_files=int(header.total_files) if header.total_files is not None else None,
            ignored_files=int(header.ignored_files or 0),
            inbox_sha256=header.inbox_sha256,
            ignored_upload_at=header.ignored_upload_at,
        )
        if header.accepted_files is not None and header.rejected_files is not None:
            flow.noted_counts = (int(header.accepted_files), int(header.rejected_files))
        for item in items:
            for f in item.files or []:
                flow.files.append(
                    FlowFile(
                        key=f.key,
                        name=f.name,
                        invoice_id=f.invoice_id,
                        outcome=REJECTED if f.errors else PENDING,
                        errors=[Error(e.rule, e.severity, e.message, e.location) for e in f.errors or []],
                    )
                )
        flow.files.sort(key=lambda f: f.key)
        return flow

    def add_files(self, flow_id: str, files: list[FlowFile], created_at: str) -> None:
        """Chunks of files, each keyed by its first file: writing them again rewrites the same items. They expire
        with the flow's header (its `created_at`)."""
        expires = kept_until(created_at)
        files = [
            FlowFile(f.key, _cut(f.name), f.invoice_id, f.outcome, f.status_code,
                     [Error(e.rule, e.severity, _cut(e.message), _cut(e.location)) for e in f.errors])
            for f in files
        ]  # fmt: skip
        with FlowItemRecord.batch_write() as batch:
            for chunk in chunks(files, count=FILES_PER_ITEM, budget=ITEM_BUDGET, size=_stored_size):
                batch.save(
                    FlowItemRecord(
                        _flow_pk(flow_id),
                        f"files#{chunk[0].key}",
                        files=[
                            FlowFileAttribute(key=f.key, name=f.name, invoice_id=f.invoice_id,
                                              errors=_errors(f.errors) or None)
                            for f in chunk
                        ],
                        expires=expires,
                    )
                )  # fmt: skip

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
        FlowItemRecord(_flow_pk(flow_id), HEADER).update(
            actions=[
                FlowItemRecord.phase.set(phase),
                FlowItemRecord.total_files.set(total_files),
                FlowItemRecord.objects_total.set(objects),
                FlowItemRecord.ignored_files.set(ignored),
                FlowItemRecord.updated_at.set(at),
                *([FlowItemRecord.error.set(error)] if error else []),
            ]
        )

    def note_ignored_upload(self, flow_id: str, at: str) -> None:
        FlowItemRecord(_flow_pk(flow_id), HEADER).update(actions=[FlowItemRecord.ignored_upload_at.set(at)])

    def progress(self, flow_id: str) -> FlowProgress | None:
        try:
            return _progress(FlowItemRecord.get(_flow_pk(flow_id), HEADER, consistent_read=True))
        except DoesNotExist:
            return None

    def mark_object_done(self, flow_id: str, object_name: str) -> FlowProgress | None:
        header = FlowItemRecord(_flow_pk(flow_id), HEADER)
        try:  # the update returns the whole item; an unknown flow gets no stray item
            header.update(actions=[FlowItemRecord.objects_done.add({object_name})],
                          condition=FlowItemRecord.pk.exists())  # fmt: skip
        except UpdateError as exc:
            if is_conditional_failure(exc):
                return None
            raise
        return _progress(header)

    def mark_completed(
        self, flow_id: str, at: str, revision: int = 1, announced: str | None = None, report: Flow | None = None
    ) -> bool:
        actions = [FlowItemRecord.completed_at.set(at), FlowItemRecord.revision.set(revision)]
        if announced is not None:
            actions.append(FlowItemRecord.announced.set(announced))
        if report is not None:
            actions += _report_actions(report)
        condition = None
        if revision > 1:  # the previous revision is still the last one noted (a flow announced before revisions: 1)
            previous = FlowItemRecord.revision == revision - 1
            condition = previous | FlowItemRecord.revision.does_not_exist() if revision == 2 else previous
        try:
            FlowItemRecord(_flow_pk(flow_id), HEADER).update(actions=actions, condition=condition)
        except UpdateError as exc:
            if is_conditional_failure(exc):
                return False
            raise
        return True

    def note_report(self, flow_id: str, report: Flow) -> bool:
        # Never back in time: of two processes noting at once, the one that read the later decisions wins.
        later = FlowItemRecord.updated_at.does_not_exist() | (FlowItemRecord.updated_at <= report.updated_at)
        condition = FlowItemRecord.pk.exists() & later  # and no stray item for a flow that is gone
        try:
            FlowItemRecord(_flow_pk(flow_id), HEADER).update(actions=_report_actions(report), condition=condition)
        except UpdateError as exc:
            if is_conditional_failure(exc):
                return False
            raise
        return True


def _report_actions(report: Flow) -> list:
    """The header's copy of a flow's report (its outcomes read): its counts and updated_at (its last decision)."""
    counts = report.counts()
    return [
        FlowItemRecord.accepted_files.set(counts["accepted"]),
        FlowItemRecord.rejected_files.set(counts["rejected"]),
        FlowItemRecord.updated_at.set(report.updated_at),
    ]


def _progress(header: FlowItemRecord) -> FlowProgress:
    revision = header.revision
    return FlowProgress(
        phase=header.phase or RECEIVED,
        objects_total=None if header.objects_total is None else int(header.objects_total),
        objects_done=len(header.objects_done or ()),
        completed_at=header.completed_at,
        revision=int(revision) if revision is not None else (1 if header.completed_at else 0),
        announced=header.announced,
    )
