"""Powertools logger (JSON, invoice id as correlation id), metrics (EMF) and tracer, one set per process."""

from __future__ import annotations

import logging
import os
import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

# One per stage on AWS (chorale-<stage>, set by infra/): the `service` dimension of every metric, so stages in one
# account never share a metric or an alarm.
SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or "chorale"

logger = Logger(service=SERVICE, name="%(name)s")  # which module wrote a line (a key clear_state keeps)
metrics = Metrics(namespace="Chorale", service=SERVICE)
tracer = Tracer(service=SERVICE)

# Health checks and reads emit no metric; that is expected, not worth a warning per request.
warnings.filterwarnings("ignore", message="No application metrics to publish")


def annotate_invoice(invoice_id: str) -> None:
    """X-Ray: the invoice's id as an annotation, the logs' key (`annotation.invoice_id = "…"` finds its traces). In a
    subsegment of its own: a (sub)segment holds one value per key, and a validation batch has many invoices. A no-op
    while tracing is off (tests, the local stack) or the trace is not sampled. Never raises, as
    tracer.put_annotation does not: it runs beside the work it describes (a give-up, a decision already saved)."""
    if tracer.disabled:
        return
    try:
        with tracer.provider.in_subsegment("## invoice") as subsegment:
            if subsegment is not None:  # no open segment (outside Lambda's): the SDK has logged it
                subsegment.put_annotation("invoice_id", invoice_id)
    except Exception:  # e.g. AWS_XRAY_CONTEXT_MISSING=RUNTIME_ERROR without a segment
        logger.warning("could not annotate the trace with invoice %s", invoice_id, exc_info=True,
                       extra={"invoice_id": invoice_id})  # fmt: skip


def send_module_logs_through(source: Logger) -> None:
    """The modules' standard loggers (`logging.getLogger(__name__)` under `chalicelib`) write through `source`'s
    JSON handler, at its level and with its keys (the request's ids). On Lambda the runtime's root logger stays at
    WARNING: without this their INFO lines were never written. Elsewhere (tests, scripts) they are left to the root
    logger's configuration; the local stack calls this as Lambda does."""
    package = logging.getLogger("chalicelib")  # registers the package's logger: the modules' loggers are its children
    copy_config_to_registered_loggers(source_logger=source, include={package.name})


if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
    send_module_logs_through(logger)
