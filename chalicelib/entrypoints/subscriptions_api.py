"""The subscriptions API (/v1/subscriptions): webhooks and e-mail notifications of a structure's invoices."""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime

from chalice import Blueprint, Response

from ..domain.subscriptions import Subscription
from ..services import subscriptions as service
from ..services.errors import InvalidInput
from ..services.subscriptions_ports import DeliveryAttempt
from . import webhook_deps as deps
from .api import caller, json_response
from .api import route as shared_route

subscriptions_api = Blueprint(__name__)


route = functools.partial(shared_route, blueprint=subscriptions_api)


def subscription_resource(subscription: Subscription) -> dict:
    base = f"/v1/subscriptions/{subscription.id}"
    return {
        "id": subscription.id,
        "channel": subscription.channel,
        "url": subscription.url,
        "email": subscription.email,
        "events": list(subscription.events),
        "filter": subscription.filter.as_dict(),
        "status": subscription.state,
        "failing_since": subscription.failing_since,
        "last_error": subscription.last_error,
        "created_at": subscription.created_at,
        "links": {"self": base, "deliveries": f"{base}/deliveries"},
    }


def delivery_resource(attempt: DeliveryAttempt) -> dict:
    return {
        "event_id": attempt.event_id,
        "event_type": attempt.event_type,
        "attempt": attempt.attempt,
        "at": attempt.at,
        "outcome": attempt.outcome,
        "status": attempt.status,
        "latency_ms": attempt.latency_ms,
        "error": attempt.error,
        "next_attempt_in": attempt.next_attempt_in,
    }


def _json_body():
    raw = subscriptions_api.current_request.raw_body or b""
    try:
        return json.loads(raw)
    except ValueError:
        raise InvalidInput("The body must be JSON.") from None


@route("/v1/subscriptions", methods=("POST",), content_types=["application/json"])
def create_subscription():
    subscription = service.create_subscription(
        caller(), _json_body(), store=deps.store(), resolver=deps.resolver(), policy=deps.policy()
    )
    body = subscription_resource(subscription)
    if subscription.secret:
        body["secret"] = subscription.secret  # shown this once
    return json_response(body, 201, {"Location": body["links"]["self"], "Cache-Control": "no-store"})


@route("/v1/subscriptions")
def list_subscriptions():
    found = service.list_subscriptions(caller(), store=deps.store())
    return json_response({"subscriptions": [subscription_resource(s) for s in found]})


@route("/v1/subscriptions/{subscription_id}")
def get_subscription(subscription_id: str):
    return json_response(subscription_resource(service.own_subscription(caller(), subscription_id, store=deps.store())))


@route("/v1/subscriptions/{subscription_id}", methods=("DELETE",))
def delete_subscription(subscription_id: str):
    service.delete_subscription(caller(), subscription_id, store=deps.store())
    return Response(body="", status_code=204)


@route("/v1/subscriptions/{subscription_id}/test", methods=("POST",), content_types=["*/*"])
def send_test(subscription_id: str):
    event = service.send_test_event(caller(), subscription_id, store=deps.store(), queue=deps.queue())
    links = {"deliveries": f"/v1/subscriptions/{subscription_id}/deliveries"}
    return json_response({"event_id": event["id"], "type": event["type"], "links": links}, 202)


@route("/v1/subscriptions/{subscription_id}/rotate-secret", methods=("POST",), content_types=["*/*"])
def rotate_secret(subscription_id: str):
    rotated = service.rotate_secret(caller(), subscription_id, store=deps.store())
    body = {
        "id": rotated.id,
        "secret": rotated.secret,
        "previous_secret_valid_until": datetime.fromtimestamp(rotated.previous_secret_expires or 0, UTC)
        .isoformat(timespec="seconds")
        .replace("+00:00", "Z"),
        "detail": "Deliveries carry one v1= signature per valid secret until the previous one expires.",
    }
    return json_response(body, 200, {"Cache-Control": "no-store"})


@route("/v1/subscriptions/{subscription_id}/deliveries")
def list_deliveries(subscription_id: str):
    attempts = service.recent_deliveries(caller(), subscription_id, store=deps.store(), log=deps.delivery_log())
    return json_response({"subscription_id": subscription_id, "deliveries": [delivery_resource(a) for a in attempts]})
