"""The structure directory: look-ups for everyone, administration for administrators."""

from __future__ import annotations

import base64
import binascii
import csv
import io
import secrets
from collections.abc import Callable
from dataclasses import replace

from ..domain.directory import ROLES, Principal, Service, Structure, hash_api_key, is_valid_siret, search_key
from .clock import utc_now
from .errors import Forbidden, InvalidInput, NotFound, Unprocessable

ADMIN = "admin"
MAX_LIMIT = 100


# Who runs imports from the command line (the local stack's seed, operations scripts).
SYSTEM_ADMIN = Principal("admin", "Chorale administrator", (ADMIN,))  # type: ignore[arg-type]


def require_admin(principal: Principal) -> None:
    if ADMIN not in principal.roles:
        raise Forbidden("This route needs an administrator key.")


def _cursor(value: str | None) -> str | None:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=") if value else None


def _uncursor(value: str) -> str:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInput("'cursor' is not a cursor this API returned.") from None


def _cursor_fits(after: str, query: str) -> bool:
    """A name-search cursor is "<folded name>#<siret>" of a structure the same `q` found."""
    name, _, siret = after.rpartition("#")
    return is_valid_siret(siret) and name.startswith(search_key(query))


def search_structures(params: dict[str, str], *, directory) -> tuple[list[Structure], str | None]:
    """By SIRET, or by name prefix (case- and accent-insensitive), optionally by role; paginated."""
    role = params.get("role") or None
    if role is not None and role not in ROLES:
        raise InvalidInput(f"'role' is one of {list(ROLES)}.")
    try:
        limit = int(params.get("limit", 25))
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"'limit' must be an integer from 1 to {MAX_LIMIT}.")
    if params.get("siret"):
        structure = directory.structure(params["siret"])
        found = [structure] if structure and (role is None or structure.has_role(role)) else []
        return found, None
    query = (params.get("q") or "").strip()
    if not query:
        raise InvalidInput("Search by 'q' (the start of a name) or 'siret'.")
    after = _uncursor(params["cursor"]) if params.get("cursor") else None
    if after is not None and not _cursor_fits(after, query):
        raise InvalidInput("'cursor' is not a cursor this API returned for this 'q'.")
    found, next_after = directory.search(query, role, limit, after)
    return found, _cursor(next_after)


def get_structure(siret: str, *, directory) -> Structure:
    structure = directory.structure(siret)
    if structure is None:
        raise NotFound(f"No structure {siret} in the directory.")
    return structure


# --- administration ---------------------------------------------------------------------------


def _bool(body: dict, name: str, default: bool) -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise Unprocessable(f"'{name}' must be true or false.")
    return value


def _text(body: dict, name: str, default: str | None = None, limit: int = 200) -> str:
    value = body.get(name, default)
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise Unprocessable(f"'{name}' must be a non-empty string of at most {limit} characters.")
    return value.strip()


def service_from(body: object, where: str = "service") -> Service:
    if not isinstance(body, dict):
        raise Unprocessable(f"'{where}' must be an object.")
    return Service(
        code=_text(body, "code", limit=100),
        name=_text(body, "name", body.get("code")),
        active=_bool(body, "active", True),
        requires_engagement=_bool(body, "requires_engagement", False),
    )


def structure_from(body: object, now: str, existing: Structure | None = None) -> Structure:
    """A structure from its JSON shape (the seed file's entry shape), over `existing` for updates."""
    if not isinstance(body, dict):
        raise Unprocessable("The structure must be a JSON object.")
    base = existing or Structure(siret="", name="", roles=())
    siret = str(body.get("siret", base.siret))
    if existing is not None and siret != existing.siret:
        raise Unprocessable("A structure's SIRET cannot change.")
    if not is_valid_siret(siret):
        raise Unprocessable(f"'siret' {siret!r} is not a valid SIRET (14 digits, Luhn check).")
    roles = body.get("roles", list(base.roles))
    if not isinstance(roles, list) or not roles or any(r not in ROLES for r in roles):
        raise Unprocessable(f"'roles' must be a non-empty list of {list(ROLES)}.")
    services = body.get("services")
    return Structure(
        siret=siret,
        name=_text(body, "name", base.name or None),
        roles=tuple(dict.fromkeys(roles)),
        active=_bool(body, "active", base.active),
        requires_service_code=_bool(body, "requires_service_code", base.requires_service_code),
        requires_engagement=_bool(body, "requires_engagement", base.requires_engagement),
        services=tuple(service_from(s, f"services[{i}]") for i, s in enumerate(services))
        if isinstance(services, list)
        else base.services,
        updated_at=now,
    )


def create_structure(principal: Principal, body: object, *, directory, now: Callable[[], str] = utc_now) -> Structure:
    require_admin(principal)
    structure = structure_from(body, now())
    directory.put_structure(structure, create_only=True)
    return structure


def update_structure(
    principal: Principal, siret: str, body: object, *, directory, now: Callable[[], str] = utc_now
) -> Structure:
    """Partial update (deactivation is {"active": false}); takes effect for new deposits at once."""
    require_admin(principal)
    structure = structure_from(body, now(), get_structure(siret, directory=directory))
    directory.put_structure(structure)
    return structure


def put_service(
    principal: Principal, siret: str, code: str, body: object, *, directory, now: Callable[[], str] = utc_now
) -> Structure:
    require_admin(principal)
    structure = get_structure(siret, directory=directory)
    if not isinstance(body, dict):
        raise Unprocessable("The service must be a JSON object.")
    existing = structure.service(code)
    current = (
        {"name": existing.name, "active": existing.active, "requires_engagement": existing.requires_engagement}
        if existing
        else {}
    )
    merged = {**current, **body, "code": code}
    service = service_from(merged)
    services = tuple(s for s in structure.services if s.code != code) + (service,)
    updated = replace(structure, services=services, updated_at=now())
    directory.put_structure(updated)
    return updated


def issue_api_key(principal: Principal, siret: str, *, directory, now: Callable[[], str] = utc_now) -> tuple[str, str]:
    """A new key for the structure: (key, key id). The key is shown once and only its hash is kept."""
    require_admin(principal)
    get_structure(siret, directory=directory)
    key = f"chk_{secrets.token_urlsafe(32)}"
    key_hash = hash_api_key(key)
    directory.put_api_key(key_hash, siret, now())
    return key, key_hash


def revoke_api_key(principal: Principal, siret: str, key_id: str, *, directory) -> None:
    require_admin(principal)
    if not directory.revoke_api_key(siret, key_id):
        raise NotFound(f"No key {key_id} for structure {siret}.")


CSV_COLUMNS = ("siret", "name", "roles", "active", "requires_service_code", "requires_engagement")


def structures_from_csv(text: str) -> list[dict]:
    """CSV import: siret,name,roles (supplier|recipient separated by '|' or ' '),active,requires_* (true/false)."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("siret", "name", "roles") if c not in (reader.fieldnames or [])]
    if missing:
        raise Unprocessable(f"The CSV needs the columns {list(CSV_COLUMNS)}; missing {missing}.")
    rows = []
    for line, row in enumerate(reader, start=2):
        entry: dict = {"siret": (row.get("siret") or "").strip(), "name": (row.get("name") or "").strip()}
        entry["roles"] = [r for r in (row.get("roles") or "").replace("|", " ").split() if r]
        for flag in ("active", "requires_service_code", "requires_engagement"):
            raw = (row.get(flag) or "").strip().lower()
            if raw:
                if raw not in ("true", "false", "1", "0", "yes", "no"):
                    raise Unprocessable(f"line {line}: '{flag}' must be true or false.")
                entry[flag] = raw in ("true", "1", "yes")
        entry["_line"] = line
        rows.append(entry)
    return rows


def import_structures(
    principal: Principal, entries: list, *, directory, now: Callable[[], str] = utc_now
) -> list[Structure]:
    """Create or replace every structure of a seed-format list, all checked before any is written.
    API keys in the seed are registered too (hashed)."""
    require_admin(principal)
    if not isinstance(entries, list) or not entries:
        raise Unprocessable('Send {"structures": [...]} (the seed format) or a CSV with a header line.')
    at = now()
    parsed = []
    for index, entry in enumerate(entries):
        where = f"line {entry.get('_line')}" if isinstance(entry, dict) and "_line" in entry else f"structures[{index}]"
        try:
            structure = structure_from({k: v for k, v in entry.items() if k not in ("_line", "api_keys")}, at)
        except Unprocessable as error:
            raise Unprocessable(f"{where}: {error.detail}") from None
        keys = entry.get("api_keys") or []
        if not isinstance(keys, list) or not all(isinstance(k, str) and len(k) >= 16 for k in keys):
            raise Unprocessable(f"{where}: 'api_keys' must be a list of keys of at least 16 characters.")
        parsed.append((structure, keys))
    for structure, keys in parsed:
        directory.put_structure(structure)
        for key in keys:
            directory.put_api_key(hash_api_key(key), structure.siret, at)
    return [structure for structure, _ in parsed]
