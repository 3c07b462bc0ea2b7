"""Directory routes: structure look-ups for every caller, administration with administrator keys."""

from __future__ import annotations

from ..formats.sniffing import media_type
from ..services import directory as directory_service
from ..services import subscription_administration
from ..services.errors import InvalidInput, UnsupportedMediaType, refuse_unknown_fields
from . import dependencies as deps
from .api import (
    active_administrator,
    answer_bytes,
    api,
    built_once,
    caller,
    json_body,
    json_response,
    query_params,
    route,
)
from .links import api_path
from .representations import structure_resource
from .subscriptions_api import subscription_resource


@route("/v1/structures", admin_keys=True)
def search_structures():
    resource = built_once(lambda structure: structure.siret, structure_resource)
    found, cursor = directory_service.search_structures(
        query_params(directory_service.SEARCH_PARAMETERS),
        directory=deps.directory(),
        item_bytes=lambda structure: answer_bytes(resource(structure)),
    )
    return json_response({"items": [resource(s) for s in found], "next_cursor": cursor})


@route("/v1/structures/{siret}", admin_keys=True)
def get_structure(siret: str):
    return json_response(structure_resource(directory_service.get_structure(siret, directory=deps.directory())))


@route("/v1/admin/structures", methods=("POST",), content_types=["*/*"], admin_keys=True)
def create_structure():
    structure = directory_service.create_structure(active_administrator(), json_body(), directory=deps.directory())
    location = api_path(f"/v1/structures/{structure.siret}")
    return json_response(structure_resource(structure), 201, {"Location": location})


@route("/v1/admin/structures/{siret}", methods=("PATCH",), content_types=["*/*"], admin_keys=True)
def update_structure(siret: str):
    structure = directory_service.update_structure(
        active_administrator(), siret, json_body(), directory=deps.directory()
    )
    return json_response(structure_resource(structure))


@route("/v1/admin/structures/{siret}/services/{code}", methods=("PUT",), content_types=["*/*"], admin_keys=True)
def put_service(siret: str, code: str):
    structure = directory_service.put_service(
        active_administrator(), siret, code, json_body(), directory=deps.directory()
    )
    return json_response(structure_resource(structure))


@route("/v1/admin/structures/{siret}/api-keys", methods=("POST",), content_types=["*/*"], admin_keys=True)
def issue_api_key(siret: str):
    key, key_id = directory_service.issue_api_key(active_administrator(), siret, directory=deps.directory())
    return json_response(
        {"siret": siret, "key_id": key_id, "api_key": key, "note": "Store this key now: it is never shown again."},
        201,
    )


@route("/v1/admin/structures/{siret}/api-keys", admin_keys=True)
def list_api_keys(siret: str):
    principal = caller()
    query_params(())  # it takes none (review r45 L2)
    keys = directory_service.list_api_keys(principal, siret, directory=deps.directory())
    return json_response({"siret": siret, "keys": [{"key_id": k, "created_at": at} for k, at in keys]})


@route("/v1/admin/structures/{siret}/api-keys/{key_id}", methods=("DELETE",), admin_keys=True)
def revoke_api_key(siret: str, key_id: str):
    directory_service.revoke_api_key(active_administrator(), siret, key_id, directory=deps.directory())
    return json_response({"siret": siret, "key_id": key_id, "revoked": True})


@route("/v1/admin/structures/{siret}/subscriptions", admin_keys=True)
def list_structure_subscriptions(siret: str):
    principal = caller()
    query_params(())  # it takes none (review r45 L2)
    found = subscription_administration.structure_subscriptions(
        principal, siret, store=deps.subscription_store(), directory=deps.directory()
    )
    # links are the structure's own routes, which an administrator key cannot use
    items = [{k: v for k, v in subscription_resource(s).items() if k != "links"} for s in found]
    return json_response({"siret": siret, "subscriptions": items})


@route("/v1/admin/structures/{siret}/subscriptions/{subscription_id}", methods=("DELETE",), admin_keys=True)
def delete_structure_subscription(siret: str, subscription_id: str):
    subscription_administration.delete_structure_subscription(
        active_administrator(), siret, subscription_id, store=deps.subscription_store(), directory=deps.directory()
    )
    return json_response({"siret": siret, "subscription_id": subscription_id, "deleted": True})


@route("/v1/admin/imports", methods=("POST",), content_types=["*/*"], admin_keys=True)
def import_structures():
    principal = active_administrator()  # a structure key gets its 403, a removed key its 401, before the body is read
    request = api.current_request
    media = media_type(request.headers.get("content-type"))
    places = None  # a CSV's rows are named by their lines, a JSON import's by their index
    if media == "text/csv":
        try:
            entries, places = directory_service.structures_from_csv((request.raw_body or b"").decode("utf-8-sig"))
        except UnicodeDecodeError:
            raise InvalidInput("The CSV must be UTF-8.") from None
    elif media == "application/json":
        body = json_body()
        refuse_unknown_fields(body, ("structures",), "an import")
        entries = body.get("structures")
    else:
        raise UnsupportedMediaType(
            "Import the seed format (application/json) or CSV (text/csv).", accepted=["application/json", "text/csv"]
        )
    imported = directory_service.import_structures(principal, entries, directory=deps.directory(), places=places)
    return json_response({"imported": len(imported), "sirets": [s.siret for s in imported]})
