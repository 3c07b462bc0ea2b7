"""The subscriptions API (/v1/subscriptions): webhooks and e-mail notifications of a structure's invoices."""

from __future__ import annotations

import functools
import html

from chalice import Blueprint, Response

from ..domain.events import FLOW_EVENT_TYPE
from ..domain.subscriptions import Subscription
from ..services import subscriptions as service
from ..services.clock import utc_iso
from ..services.subscriptions_ports import DeliveryAttempt
from . import dependencies as deps
from .api import active_caller, caller, idempotency_key, json_body, json_response, public_base_url, query_params
from .api import route as shared_route
from .links import api_path

subscriptions_api = Blueprint(__name__)


route = functools.partial(shared_route, blueprint=subscriptions_api)
CONFIRMATIONS = "/v1/subscription-confirmations"  # public: the mailed link is the credential


def subscription_resource(subscription: Subscription) -> dict:
    base = api_path(f"/v1/subscriptions/{subscription.id}")
    return {
        "id": subscription.id,
        "channel": subscription.channel,
        "url": subscription.url,
        "email": subscription.email,
        "events": list(subscription.events),
        "filter": subscription.filter.as_dict(),
        "status": subscription.state,
        "confirmation_expires_at": (
            utc_iso(subscription.confirmation_expires)
            if subscription.pending and subscription.confirmation_expires
            else None
        ),
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


@route("/v1/subscriptions", methods=("POST",), content_types=["*/*"])
def create_subscription():
    principal = active_caller()
    base = public_base_url()
    subscription = service.create_subscription(
        principal,
        json_body(),
        store=deps.subscription_store(),
        resolver=deps.resolver(),
        policy=deps.url_policy(),
        queue=deps.delivery_queue(),
        confirmation_url=lambda token: f"{base}{CONFIRMATIONS}/{token}",
        idempotency_key=idempotency_key(),
    )
    body = subscription_resource(subscription)
    if subscription.secret:
        body["secret"] = subscription.secret  # shown this once (and to a retry with the same Idempotency-Key)
    return json_response(body, 201, {"Location": body["links"]["self"], "Cache-Control": "no-store"})


@route("/v1/subscriptions")
def list_subscriptions():
    principal = caller()
    query_params(())  # it takes none: `?status=failing` would otherwise list every subscription (review r45 L2)
    found = service.list_subscriptions(principal, store=deps.subscription_store())
    return json_response({"subscriptions": [subscription_resource(s) for s in found]})


@route("/v1/subscriptions/{subscription_id}")
def get_subscription(subscription_id: str):
    return json_response(
        subscription_resource(service.own_subscription(caller(), subscription_id, store=deps.subscription_store()))
    )


@route("/v1/subscriptions/{subscription_id}", methods=("DELETE",))
def delete_subscription(subscription_id: str):
    principal = active_caller()
    service.delete_subscription(principal, subscription_id, store=deps.subscription_store())
    return Response(body="", status_code=204)


@route("/v1/subscriptions/{subscription_id}/test", methods=("POST",), content_types=["*/*"])
def send_test(subscription_id: str):
    principal = active_caller()
    event = service.send_test_event(
        principal, subscription_id, store=deps.subscription_store(), queue=deps.delivery_queue()
    )
    links = {"deliveries": api_path(f"/v1/subscriptions/{subscription_id}/deliveries")}
    return json_response({"event_id": event["id"], "type": event["type"], "links": links}, 202)


@route("/v1/subscriptions/{subscription_id}/rotate-secret", methods=("POST",), content_types=["*/*"])
def rotate_secret(subscription_id: str):
    principal = active_caller()
    rotated = service.rotate_secret(principal, subscription_id, store=deps.subscription_store())
    body = {
        "id": rotated.id,
        "secret": rotated.secret,
        "previous_secret_valid_until": utc_iso(rotated.previous_secret_expires or 0),
        "detail": "Deliveries carry one v1= signature per valid secret until the previous one expires.",
    }
    return json_response(body, 200, {"Cache-Control": "no-store"})


@route("/v1/subscriptions/{subscription_id}/deliveries")
def list_deliveries(subscription_id: str):
    principal = caller()
    query_params(())  # the newest attempts, no filter nor paging
    attempts = service.recent_deliveries(
        principal, subscription_id, store=deps.subscription_store(), log=deps.delivery_log()
    )
    return json_response({"subscription_id": subscription_id, "deliveries": [delivery_resource(a) for a in attempts]})


# --- e-mail double opt-in: the address's owner opens the mailed link (GET: a page with a button; it changes
# nothing, so mail scanners that follow links confirm nothing) and confirms (POST).


def _wants_html() -> bool:
    return "text/html" in (subscriptions_api.current_request.headers.get("accept") or "")


def _confirmation_page(title: str, text: str, with_button: bool = False) -> Response:
    # no action: the form posts back to the very URL that was opened (the stage prefix included)
    form = '<form method="post"><button type="submit">Confirmer</button></form>' if with_button else ""
    body = (
        f'<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>{html.escape(title)}</title></head>'
        f"<body><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>{form}</body></html>"
    )
    headers = {
        "Content-Type": "text/html; charset=utf-8",
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
    }
    return Response(body=body, status_code=200, headers=headers)


def _confirmation_resource(subscription: Subscription) -> dict:
    return {"subscription_id": subscription.id, "email": subscription.email, "status": subscription.state}


@route(f"{CONFIRMATIONS}/{{token}}", public=True)
def show_confirmation(token: str):
    subscription = service.subscription_to_confirm(token, store=deps.subscription_store())
    if not _wants_html():
        return json_response(_confirmation_resource(subscription), headers={"Cache-Control": "no-store"})
    if not subscription.pending:
        return _confirmation_page("Abonnement confirmé", f"{subscription.email} reçoit les notifications.")
    flows = " et à la fin de chacun de ses flux" if FLOW_EVENT_TYPE in subscription.events else ""
    text = (
        f"{subscription.email} recevra une notification à chaque changement de statut des factures de la structure "
        f"{subscription.siret}{flows}."
    )
    return _confirmation_page("Confirmer l'abonnement", text, with_button=True)


@route(f"{CONFIRMATIONS}/{{token}}", methods=("POST",), public=True, content_types=["*/*"])
def confirm(token: str):
    subscription = service.confirm_subscription(token, store=deps.subscription_store(), directory=deps.directory())
    if _wants_html():
        return _confirmation_page("Abonnement confirmé", f"{subscription.email} reçoit désormais les notifications.")
    return json_response(_confirmation_resource(subscription), headers={"Cache-Control": "no-store"})
