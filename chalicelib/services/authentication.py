"""Who is calling: an API key identifies one structure; an administrator key identifies none."""

from __future__ import annotations

import re

from ..domain.directory import Principal, Role, hash_api_key
from .errors import Forbidden, Unauthenticated
from .ports import Directory

# `Authorization: Bearer <key>`, the scheme in any case. API Gateway checks the header with this very expression
# (infra: the authorizer's identityValidationExpression) and answers a mismatch as a missing header (401
# UNAUTHORIZED: "Send your API key as..."), not as a refused key; the local gateway does the same (devstack). Plain
# character classes only, so that Java's regex engine (API Gateway) and Python's read it alike.
BEARER_HEADER_PATTERN = r"^[ \t]*[Bb][Ee][Aa][Rr][Ee][Rr] [ \t]*([^ \t].*?)[ \t]*$"


def bearer_token(authorization: str | None) -> str | None:
    match = re.fullmatch(BEARER_HEADER_PATTERN, authorization or "")
    return match.group(1) if match else None


def authenticate(authorization: str | None, directory: Directory, *, consistent: bool = False) -> Principal | None:
    """The active structure behind `Authorization: Bearer <key>`, or None. `consistent`: a key revoked a moment
    ago is already unknown (the structure is always read consistently)."""
    token = bearer_token(authorization)
    if token is None:
        return None
    siret = directory.siret_for_key(hash_api_key(token), consistent=consistent)
    structure = directory.structure(siret) if siret else None
    if structure is None or not structure.active:
        return None
    return Principal(structure.siret, structure.name, structure.roles)


ADMINISTRATOR_IS_NO_STRUCTURE = (
    "An administrator key cannot act as a structure: deposits, invoices, flows, uploads and subscriptions need "
    "the API key of the structure concerned (an administrator issues one with "
    "POST /v1/admin/structures/{siret}/api-keys). Administrator keys are for /v1/admin/... and directory look-ups."
)


def require_structure(principal: Principal) -> Principal:
    """The caller acts as its structure: 403 for an administrator key, which has none (it would otherwise
    deposit, search or subscribe under a pseudo-structure)."""
    if principal.is_administrator:
        raise Forbidden(ADMINISTRATOR_IS_NO_STRUCTURE)
    return principal


def require_active(principal: Principal, directory: Directory, authorization: str | None) -> Principal:
    """Re-authenticate a write: API Gateway caches the authorizer's answer for a minute, but a deactivated structure
    or a revoked key must stop writing at once (two strongly consistent directory reads: the key, then its
    structure; an eventually consistent read may still return a key deleted a second ago). Reads (GET) trust the
    cache."""
    require_structure(principal)
    current = authenticate(authorization, directory, consistent=True)
    if current is None or current.siret != principal.siret:
        raise Unauthenticated("The API key is unknown, revoked or its structure inactive.")
    return current


def is_administrator_key(authorization: str | None, admin_key_hashes: frozenset[str]) -> bool:
    """Whether `Authorization: Bearer <key>` carries one of the configured administrators' keys."""
    token = bearer_token(authorization)
    return bool(token) and hash_api_key(token) in admin_key_hashes


def require_current_administrator(
    principal: Principal, authorization: str | None, admin_key_hashes: frozenset[str]
) -> Principal:
    """Re-check an administration write: API Gateway caches the authorizer's answer for a minute, but a key a
    redeploy removed from the configuration must stop at once (no read: the keys are configuration). A structure's
    key is a 403 here, before the route reads its body (it would otherwise parse an import for a tenant)."""
    require_admin(principal)
    if not is_administrator_key(authorization, admin_key_hashes):
        raise Unauthenticated("The administrator key is unknown or no longer configured.")
    return principal


def require_admin(principal: Principal) -> None:
    """403 unless the caller holds an administrator key."""
    if not principal.is_administrator:
        raise Forbidden("This route needs an administrator key.")


_ROLE_REFUSALS: dict[str, str] = {"supplier": "Only a structure with the supplier role may deposit invoices."}


def require_role(principal: Principal, role: Role) -> Principal:
    """403 unless the caller's structure has this role (the supplier's: deposits, flows, uploads)."""
    if not principal.has_role(role):
        raise Forbidden(_ROLE_REFUSALS.get(role, f"Only a structure with the {role} role may do this."))
    return principal
