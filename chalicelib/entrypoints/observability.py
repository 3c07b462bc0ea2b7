"""Powertools logger (JSON, invoice id as correlation id), metrics (EMF) and tracer, one set per process."""

from __future__ import annotations

import os
import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer

# One per stage on AWS (chorale-<stage>, set by infra/): the `service` dimension of every metric, so stages in one
# account never share a metric or an alarm.
SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or "chorale"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace="Chorale", service=SERVICE)
tracer = Tracer(service=SERVICE)

# Health checks and reads emit no metric; that is expected, not worth a warning per request.
warnings.filterwarnings("ignore", message="No application metrics to publish")
