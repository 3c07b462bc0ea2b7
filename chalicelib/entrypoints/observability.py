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

logger = Logger(service=SERVICE)
metrics = Metrics(namespace="Chorale", service=SERVICE)
tracer = Tracer(service=SERVICE)

# Health checks and reads emit no metric; that is expected, not worth a warning per request.
warnings.filterwarnings("ignore", message="No application metrics to publish")


def route_module_logs(source: Logger, own_handler: bool) -> None:
    """The modules' standard loggers (`logging.getLogger(__name__)` under `chalicelib`) log at `source`'s level.

    With `own_handler` (on Lambda, and on the local stack) they write through its JSON handler, with its keys (the
    request's ids): the runtime's root logger stays at WARNING, so without this their INFO lines were never written.
    Otherwise (tests) they keep propagating to the root logger's handlers."""
    package = logging.getLogger("chalicelib")  # registers the package's logger: the modules' loggers are its children
    if own_handler:
        copy_config_to_registered_loggers(source_logger=source, include={package.name})
    else:
        package.setLevel(source.log_level)


route_module_logs(logger, own_handler=bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME")))
