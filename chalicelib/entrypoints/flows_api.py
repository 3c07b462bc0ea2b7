"""Flow and upload routes, and the event handler of bulk deposits (inbox expansion)."""

from __future__ import annotations

import json

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from chalice import Blueprint

from ..config import settings
from ..domain.flows import Flow, FlowFile
from ..formats import archives
from ..services import flows as flow_service
from ..services import layout
from ..services.errors import refuse_unknown_fields
from . import dependencies as deps
from . import formats_api  # noqa: F401  (registers the formats routes on `api`)
from .api import active_caller, api, caller, idempotency_key, json_body, json_response, query_params, route
from .events import is_last_receive, receive_count
from .links import api_path
from .observability import logger, tracer
from .representations import upload_resource
from .s3_notifications import s3_keys

flow_events = Blueprint(__name__)

_inbox_batch = BatchProcessor(event_type=EventType.SQS)


def flow_resource(flow: Flow, files: list[FlowFile] | None = None,
                  next_cursor: str | None = None) -> dict:  # fmt: skip
    """The flow report; `files`: a page of them (all by default), `next_cursor` the next page's."""
    return {
        "id": flow.id,
        "state": flow.state,
        "source": flow.source,
        "error": flow.error,
        "counts": flow.counts(),
        "ignored_files": flow.ignored_files,
        "next_cursor": next_cursor,
        "files": [
            {
                "index": flow_service.file_index(f.key),
                "name": f.name,
                "invoice_id": f.invoice_id,
                "status": f.outcome,
                "status_code": f.status_code,
                "errors": [e.as_dict() for e in f.errors],
                **({"links": {"invoice": api_path(f"/v1/invoices/{f.invoice_id}")}} if f.invoice_id else {}),
            }
            for f in (flow.files if files is None else files)
        ],
        "created_at": flow.created_at,
        "updated_at": flow.updated_at,
        "links": {"self": api_path(f"/v1/flows/{flow.id}")},
        **({"ignored_upload_at": flow.ignored_upload_at} if flow.ignored_upload_at else {}),
    }


@route("/v1/flows", methods=("POST",), content_types=["*/*"])
def post_flow():
    principal = active_caller()
    request = api.current_request
    flow = flow_service.receive_archive(
        principal,
        request.raw_body or b"",
        request.headers.get("content-type"),
        flows=deps.flows(),
        inbox=deps.originals(),
        max_bytes=settings().max_sync_bytes,
        idempotency_key=idempotency_key(),
        invoices=deps.invoices(),
        max_files=settings().max_flow_files,
    )
    return json_response(flow_resource(flow), 202, {"Location": api_path(f"/v1/flows/{flow.id}")})


@route("/v1/flows/{flow_id}")
def get_flow(flow_id: str):
    params = query_params(flow_service.FILES_PAGE_PARAMETERS)
    flow, files, next_cursor = flow_service.flow_report(
        caller(), flow_id, flows=deps.flows(), invoices=deps.invoices(), inbox=deps.originals(),
        cursor=params.get("cursor"), limit=params.get("limit"),
    )  # fmt: skip
    return json_response(flow_resource(flow, files, next_cursor))


@route("/v1/uploads", methods=("POST",), content_types=["*/*"])
def post_upload():
    principal = active_caller()  # a ticket taken before a deactivation deposits nothing (its flow is IN_REJETE)
    body = json_body() if api.current_request.raw_body else {}  # optional: {"sha256": …, "name": …}
    refuse_unknown_fields(body, ("sha256", "name"), "an upload")
    upload = flow_service.create_upload(
        principal,
        signer=deps.upload_signer(),
        max_bytes=settings().upload_max_bytes,
        expires_in=settings().upload_url_seconds,
        sha256=body.get("sha256"),
        name=body.get("name"),
    )
    flow = api_path(f"/v1/flows/{upload.upload_id}")
    return json_response(upload_resource(upload, {"flow": flow}), 201, {"Location": flow})


def expand_message(record: SQSRecord) -> None:
    for key in s3_keys(json.loads(record.body)):
        flow_id = layout.flow_id_from_inbox_key(key)
        # Its lines name the inbox key and flow (what the runbook searches for), and only its lines.
        if flow_id:
            tracer.put_annotation("flow_id", flow_id)  # X-Ray; batch_size=1: one flow an invocation
        with logger.append_context_keys(object_key=key, **({"flow_id": flow_id} if flow_id else {})):
            try:
                _expand(key)
            except Exception:
                # batch_size=1: the whole batch fails, and Powertools' error names neither the key nor the flow
                if is_last_receive(record, settings().inbox_max_receives):
                    logger.exception("giving up on %s: the message goes to the DLQ", key)
                else:
                    logger.warning("expanding %s failed (receive %s): the message comes back", key,
                                   receive_count(record), exc_info=True,
                                   extra={"receive_count": receive_count(record)})  # fmt: skip
                raise


def _expand(key: str) -> None:
    limits = archives.Limits(max_files=settings().max_flow_files)
    flow = flow_service.expand_inbox(
        key, flows=deps.flows(), store=deps.originals(), directory=deps.directory(), limits=limits
    )
    if flow is not None:
        logger.info("flow expanded", extra={"flow_id": flow.id, "files": len(flow.files), "state": flow.state})
        completed = flow_service.announce_if_complete(
            flow.id, flows=deps.flows(), invoices=deps.invoice_records(), publisher=deps.publisher()
        )
        if completed is not None:
            logger.info("flow completed", extra={"flow_id": flow.id, "state": completed.state})


@flow_events.on_sqs_message(queue=settings().inbox_queue, batch_size=1)
def expand_inbox(event):
    """S3 notifications of inbox/ (uploads, posted archives) → flows fanned out into originals/."""
    return process_partial_response(
        event=event.to_dict(), record_handler=expand_message, processor=_inbox_batch, context=event.context
    )
