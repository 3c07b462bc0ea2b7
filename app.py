"""Chorale's Chalice application: wiring only. The code lives in chalicelib/."""

import functools

from aws_lambda_powertools.logging import correlation_paths
from chalice import Chalice, ConvertToMiddleware

from chalicelib.entrypoints import directory_api  # noqa: F401  (registers the directory routes on `api`)
from chalicelib.entrypoints.api import api
from chalicelib.entrypoints.events import events
from chalicelib.entrypoints.flows_api import flow_events  # formats, flows and uploads: routes on `api`, handlers
from chalicelib.entrypoints.media import BINARY_MEDIA_TYPES
from chalicelib.entrypoints.middleware import problem_details
from chalicelib.entrypoints.observability import logger, metrics, tracer
from chalicelib.entrypoints.subscriptions_api import subscriptions_api
from chalicelib.entrypoints.webhook_events import webhook_events

app = Chalice(app_name="chorale")
# Files (invoices, archives, attachments) travel as bytes (base64 through API Gateway), never re-encoded as text:
# every media type a file route accepts is binary (chalicelib/entrypoints/media.py); JSON stays text.
app.api.binary_types.extend(BINARY_MEDIA_TYPES)

# correlation_id: API Gateway's request id (the one a problem's request_id names); events have none.
app.register_middleware(
    ConvertToMiddleware(
        logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
    )
)
app.register_middleware(ConvertToMiddleware(metrics.log_metrics))
app.register_middleware(ConvertToMiddleware(functools.partial(tracer.capture_lambda_handler, capture_response=False)))
app.register_middleware(problem_details, "http")

app.register_blueprint(api)
app.register_blueprint(events)
app.register_blueprint(flow_events)
app.register_blueprint(subscriptions_api)
app.register_blueprint(webhook_events)
