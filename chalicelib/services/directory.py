"""The structure directory: look-ups for everyone, administration for administrators."""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import replace

from ..domain.directory import (
    ADMINISTRATOR,
    MAX_SERVICE_CODE_CHARACTERS,
    ROLES,
    SIRET_RULE,
    Principal,
    Service,
    Structure,
    hash_api_key,
    is_valid_siret,
    name_position,
    search_key,
)
from ..domain.invoice import BIDI_OVERRIDES, has_visible_character
from ..formats.jsontext import NOT_XML_CHARS
from .authentication import require_admin
from .clock import utc_now
from .errors import (
    ConcurrentUpdate,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    Unprocessable,
    refuse_unknown_fields,
)
from .paging import PAGE_BYTES, decode_cursor, encode_cursor, page_limit

ADMIN = ADMINISTRATOR
MAX_LIMIT = 100
# Rows are checked, then written 16 at a time: 1,000 rows stay well within API Gateway's 29 s.
MAX_IMPORT_ROWS = 1000
# A structure's services are stored in its one record (DynamoDB: 400 KB an item). 1,000 services with 100-character
# codes and 200-character French names take ~360 KB (tests/unit/adapters/test_structure_item_size.py); names
# mostly of multi-byte characters could still pass 400 KB, which the write refuses with a 422 (structure_full).
MAX_SERVICES = 1000
# What an administrator's fields may hold (the OpenAPI input schemas read them too): a name (a structure's or a
# service's), a service code (domain.directory: subscriptions' filters take the same), and an imported API key's
# least length (issued keys are far longer).
MAX_NAME_CHARACTERS = 200
MIN_IMPORTED_KEY_CHARACTERS = 16
# A change is written only over the version it was made on; when another request wrote first, it is made again
# on what that one wrote, this many times at most before a 409.
WRITE_ATTEMPTS = 5
ISSUE_KEY_ROUTE = "POST /v1/admin/structures/{siret}/api-keys"
STRUCTURE_FIELDS = ("siret", "name", "roles", "active", "requires_service_code", "requires_engagement", "services")
SERVICE_FIELDS = ("code", "name", "active", "requires_engagement")
# A CSV cell's yes/no spellings, compared lowercased: French Excel writes VRAI/FAUX.
CSV_TRUE = ("true", "1", "yes", "vrai", "oui")
CSV_FALSE = ("false", "0", "no", "faux", "non")

log = logging.getLogger(__name__)

# A name or code is one line of text that invoices and XML documents carry: none of the characters XML refuses,
# and no line break, tab, DEL or C1 control (a name is shown in every invoice's supplier/recipient), nor a
# bidirectional override (domain.invoice.BIDI_OVERRIDES: embeddings, overrides, isolates): they reorder how the
# rest of a name is displayed ("Trojan Source" spoofing of a supplier or service name in every party's listing).
_NOT_IN_NAMES = re.compile(f"{NOT_XML_CHARS.pattern}|[\t\n\r\x7f-\x9f\u2028\u2029{''.join(sorted(BIDI_OVERRIDES))}]")


# Who runs imports from the command line (the local stack's seed, operations scripts).
SYSTEM_ADMIN = Principal("admin", "Chorale administrator", (ADMIN,))  # type: ignore[arg-type]


def _cursor_fits(after: str, query: str) -> bool:
    """A name-search cursor is "<folded name>#<siret>" of a structure the same `q` found."""
    name, _, siret = after.rpartition("#")
    return is_valid_siret(siret) and name.startswith(search_key(query))


SEARCH_PARAMETERS = ("q", "siret", "role", "limit", "cursor")


def search_structures(
    params: dict[str, str], *, directory, item_bytes: Callable[[Structure], int] | None = None
) -> tuple[list[Structure], str | None]:
    """By SIRET, or by name prefix (case- and accent-insensitive), optionally by role; paginated. `item_bytes`: a
    structure's size in the answer: a page stops within PAGE_BYTES (a structure lists up to 1,000 services, and
    Lambda answers at most 6 MB), its cursor after the last structure it holds."""
    role = params.get("role") or None
    if role is not None and role not in ROLES:
        raise InvalidInput(f"'role' is one of {list(ROLES)}.")
    limit = page_limit(params.get("limit"), 25, MAX_LIMIT)
    if params.get("siret"):
        structure = directory.structure(params["siret"])
        found = [structure] if structure and (role is None or structure.has_role(role)) else []
        return found, None
    query = (params.get("q") or "").strip()
    if not query:
        raise InvalidInput("Search by 'q' (the start of a name) or 'siret'.")
    after = decode_cursor(params["cursor"]) if params.get("cursor") else None
    if after is not None and not _cursor_fits(after, query):
        raise InvalidInput("'cursor' is not a cursor this API returned for this 'q'.")
    found, next_after = directory.search(query, role, limit, after)
    if item_bytes is not None:
        room = PAGE_BYTES
        for kept, structure in enumerate(found):
            room -= item_bytes(structure)
            if kept and room < 0:  # a page holds at least one structure
                return found[:kept], encode_cursor(name_position(found[kept - 1]))
    return found, encode_cursor(next_after)


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


def _text(
    body: dict, name: str, default: str | None = None, limit: int = MAX_NAME_CHARACTERS, sent: dict | None = None
) -> str:
    value = body.get(name, default)
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise Unprocessable(f"'{name}' must be a non-empty string of at most {limit} characters.")
    # Checked when sent (`sent`: the request's fields, when `body` also holds stored ones): a structure or service
    # stored before this check can still be deactivated without renaming it. Once stripped (a trailing line break is
    # dropped, as before).
    control = _NOT_IN_NAMES.search(value.strip()) if name in (body if sent is None else sent) else None
    if control:
        raise Unprocessable(
            f"'{name}' holds a control character, line break or bidirectional override (U+{ord(control.group()):04X}): "
            "it must be one line of plain text."
        )
    return value.strip()


def service_from(body: object, where: str = "service", kept: dict | None = None) -> Service:
    """A service from its JSON shape; `kept`: the stored service's fields the request does not replace."""
    if not isinstance(body, dict):
        raise Unprocessable(f"'{where}' must be an object.")
    refuse_unknown_fields(body, SERVICE_FIELDS, f"'{where}'")
    merged = {**(kept or {}), **body}
    code = _text(merged, "code", limit=MAX_SERVICE_CODE_CHARACTERS, sent=body)
    if not has_visible_character(code):  # only invisible characters (U+200B...): a code no supplier can write
        raise Unprocessable(f"'{where}' code must have a visible character.")
    return Service(
        code=code,
        name=_text(merged, "name", merged.get("code"), sent=body),
        active=_bool(merged, "active", True),
        requires_engagement=_bool(merged, "requires_engagement", False),
    )


def structure_from(body: object, now: str, existing: Structure | None = None) -> Structure:
    """A structure from its JSON shape (the seed file's entry shape without its API keys), over `existing` for
    updates: the fields `body` carries replace, the others keep `existing`'s values."""
    if not isinstance(body, dict):
        raise Unprocessable("The structure must be a JSON object.")
    if "api_keys" in body:
        raise Unprocessable(
            f"'api_keys' is not accepted: API keys are created with {ISSUE_KEY_ROUTE}, which generates the key and "
            "shows it once; plaintext keys chosen by a caller are not accepted.",
            unknown_fields=["api_keys"],
        )
    refuse_unknown_fields(body, STRUCTURE_FIELDS, "a structure")
    base = existing or Structure(siret="", name="", roles=())
    siret = _siret(body.get("siret", base.siret))
    if existing is not None and siret != existing.siret:
        raise Unprocessable("A structure's SIRET cannot change.")
    roles = body.get("roles", list(base.roles))
    if not isinstance(roles, list) or not roles or any(r not in ROLES for r in roles):
        raise Unprocessable(f"'roles' must be a non-empty list of {list(ROLES)}.")
    services = body.get("services")
    # a structure stored over the cap (before it) may still be trimmed: only growing past it is refused
    if isinstance(services, list) and len(services) > max(MAX_SERVICES, len(base.services)):
        raise _too_many_services(len(services))
    if isinstance(services, list):
        services = tuple(service_from(s, f"services[{i}]") for i, s in enumerate(services))
        _refuse_repeated_codes(services)
    elif "services" in body:
        raise Unprocessable("'services' must be a list of services.")
    return Structure(
        siret=siret,
        name=_text(body, "name", base.name or None),
        roles=tuple(dict.fromkeys(roles)),
        active=_bool(body, "active", base.active),
        requires_service_code=_bool(body, "requires_service_code", base.requires_service_code),
        requires_engagement=_bool(body, "requires_engagement", base.requires_engagement),
        services=services if isinstance(services, tuple) else base.services,
        updated_at=now,
        version=base.version,
    )


def _siret(value: object) -> str:
    """A SIRET sent, checked: a string (a JSON number would lose a leading zero) of a valid SIRET."""
    if not isinstance(value, str):
        raise Unprocessable("'siret' must be a string of 14 digits: a number would lose a SIRET's leading zero.")
    if not is_valid_siret(value):
        raise Unprocessable(f"'siret' {value!r} is not a valid SIRET ({SIRET_RULE}).")
    return value


def _refuse_repeated_codes(services: tuple[Service, ...]) -> None:
    """422 naming the codes given more than once (as stored: stripped). Routing takes a code's first service, so a
    second one would be listed to suppliers and never used."""
    places: dict[str, list[str]] = {}
    for index, service in enumerate(services):
        places.setdefault(service.code, []).append(f"services[{index}]")
    repeated = {code: where for code, where in places.items() if len(where) > 1}
    if repeated:
        parts = "; ".join(f"{code!r} in {', '.join(where)}" for code, where in repeated.items())
        raise Unprocessable(
            f"A service code may appear once in a structure's 'services': {parts}. Send each service once.",
            repeated_service_codes=list(repeated),
        )


def _too_many_services(count: int) -> Unprocessable:
    return Unprocessable(
        f"A structure has at most {MAX_SERVICES} services and this one would have {count}: send its 'services' "
        "without those it no longer uses (PATCH /v1/admin/structures/{siret}).",
        reason="too_many_services",
        max_services=MAX_SERVICES,
        services=count,
    )


def _write_over_current(siret: str, change: Callable[[Structure], Structure], directory) -> Structure:
    """Read the structure, change it, and write it unless another request wrote it in between; then read it again
    and make the change on what that one wrote. Two administrators' changes never overwrite each other."""
    for _ in range(WRITE_ATTEMPTS):
        current = get_structure(siret, directory=directory)
        structure = change(current)
        if _unchanged(structure, current):
            return current
        try:
            directory.put_structure(structure)
            return structure
        except ConcurrentUpdate:
            continue
    raise ConcurrentUpdate(f"Structure {siret} is being changed by other requests right now: retry in a moment.")


def _unchanged(structure: Structure, current: Structure | None) -> bool:
    """Whether a change leaves the stored structure as it is but for its updated_at (and version, which equality
    ignores): it is then not written, its updated_at kept, so that updated_at says when it last changed and a
    re-imported file spends no write (nor a version another administrator's change would then retry over)."""
    return current is not None and replace(structure, updated_at=current.updated_at) == current


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
    return _write_over_current(siret, lambda current: structure_from(body, now(), current), directory)


def put_service(
    principal: Principal, siret: str, code: str, body: object, *, directory, now: Callable[[], str] = utc_now
) -> Structure:
    require_admin(principal)
    get_structure(siret, directory=directory)  # 404 before 422
    if not isinstance(body, dict):
        raise Unprocessable("The service must be a JSON object.")
    # As service_from stores it: 'SERV-TECH ' (a path's %20) updates SERV-TECH instead of adding a second one.
    code = code.strip()

    def with_service(structure: Structure) -> Structure:
        existing = structure.service(code)
        current = (
            {"name": existing.name, "active": existing.active, "requires_engagement": existing.requires_engagement}
            if existing
            else {}
        )
        service = service_from({**body, "code": code}, kept=current)
        if existing is None and len(structure.services) >= MAX_SERVICES:  # replacing one never adds
            raise _too_many_services(len(structure.services) + 1)
        others = tuple(s for s in structure.services if s.code != code)
        # in the place of the code's first service (a change keeps the order; copies stored before are dropped)
        first = structure.services.index(existing) if existing else len(others)
        services = (*others[:first], service, *others[first:])
        return replace(structure, services=services, updated_at=now())

    return _write_over_current(siret, with_service, directory)


def issue_api_key(principal: Principal, siret: str, *, directory, now: Callable[[], str] = utc_now) -> tuple[str, str]:
    """A new key for the structure: (key, key id). The key is shown once and only its hash is kept."""
    require_admin(principal)
    get_structure(siret, directory=directory)
    key = f"chk_{secrets.token_urlsafe(32)}"
    key_hash = hash_api_key(key)
    try:
        directory.put_api_key(key_hash, siret, now())
    except Exception:
        # The write may have landed (its answer lost): a key whose secret nobody was shown must not stay.
        _delete_unconfirmed_key(directory, key_hash, siret)
        raise
    return key, api_key_id(key_hash)


# A key's public id is derived from its stored hash, never the hash itself: that hash is the key's verifier (an
# unsalted SHA-256), and keys a person chose (seed, imports) could be brute-forced from it. The id travels in
# listings, DELETE paths and so access logs; 64 bits tell a structure's keys apart.
_KEY_ID_PREFIX = "chorale-api-key-id:"


def api_key_id(key_hash: str) -> str:
    return hashlib.sha256(f"{_KEY_ID_PREFIX}{key_hash}".encode()).hexdigest()[:16]


def _delete_unconfirmed_key(directory, key_hash: str, siret: str) -> None:
    try:
        directory.delete_api_key(key_hash, siret)
    except Exception:
        key_id = api_key_id(key_hash)
        log.exception("API key %s of %s may be registered, its secret never shown, and could not be deleted: "
                      "revoke it", key_id, siret, extra={"key_id": key_id, "siret": siret})  # fmt: skip


def list_api_keys(principal: Principal, siret: str, *, directory) -> list[tuple[str, str]]:
    """The structure's keys: (key id, created at); never the keys themselves. NotFound for an unknown structure."""
    require_admin(principal)
    if directory.structure(siret) is None:
        raise NotFound(f"No structure {siret}.")
    return [(api_key_id(key_hash), created_at) for key_hash, created_at in directory.api_keys(siret)]


def revoke_api_key(principal: Principal, siret: str, key_id: str, *, directory) -> None:
    """Revoke the structure's key of this id (api_key_id; the key's hash, the id once given, still works)."""
    require_admin(principal)
    # The structure's keys are listed from an index that follows writes within about a second: a key issued just
    # before is told to retry, never left valid silently.
    key_hash = next((h for h, _ in directory.api_keys(siret) if key_id in (api_key_id(h), h)), None)
    if key_hash is None or not directory.revoke_api_key(siret, key_hash):
        raise NotFound(
            f"No key {key_id} for structure {siret}. A key issued in the last seconds may not be listed yet: "
            "retry in a moment."
        )


CSV_COLUMNS = ("siret", "name", "roles", "active", "requires_service_code", "requires_engagement")


def structures_from_csv(text: str) -> tuple[list[dict], list[str]]:
    """CSV import: siret,name,roles (supplier|recipient separated by '|' or ' '),active,requires_* (true/false).
    The rows as import entries, and where each is ("line N", for import_structures' `places`).
    A structure's services and API keys have no column: an import keeps those of existing structures.
    Lines may end in LF, CRLF or CR alone (Excel for Mac). A file the reader cannot take whole (a quote left open,
    a row with more non-empty cells than the header has columns, a cell over 128 KiB) is a 422 naming the line."""
    text = text.removeprefix("\ufeff")  # the byte order mark spreadsheets write
    header = re.split("[\r\n]", text, maxsplit=1)[0]
    # Excel writes ';' where the decimal separator is a comma (France): take the header's separator.
    delimiter = ";" if header.count(";") > header.count(",") else ","
    # strict: a quote left open is an error at the end of the file, not the rest of the file read as one cell
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records = []
    line = 1  # where the record being read starts (a quoted cell may span lines)
    try:
        for cells in reader:
            if cells:  # a blank line
                records.append((line, cells))
            line = reader.line_num + 1
    except csv.Error as error:
        raise Unprocessable(
            f"line {line}: the CSV cannot be read from there ({error}; read up to line {reader.line_num}): "
            "check its quotes (a cell holding a quote, a separator or a line break is quoted whole, its quotes "
            'doubled: "ACME ""Nord"" SA", not "ACME" Nord SA). Nothing was imported.'
        ) from None
    header = records[0][1] if records else []
    columns = _csv_columns(header)
    missing = [c for c in ("siret", "name", "roles") if c not in columns]
    if missing:
        raise Unprocessable(f"The CSV needs the columns {list(CSV_COLUMNS)}; missing {missing}.")
    rows, places = [], []
    for line, cells in records[1:]:
        filled = [number for number, cell in enumerate(cells, 1) if number > len(columns) and cell.strip()]
        # the header's trailing unnamed columns are dropped while empty in every row, as a trailing separator
        if unnamed := [number for number in filled if number <= len(header)]:
            raise _unnamed_columns(unnamed, f" (line {line} has data under it)")
        if filled:
            raise Unprocessable(
                f"line {line}: {len(cells)} cells where the header has {len(columns)} columns "
                "(a separator inside a cell that is not quoted?). Nothing was imported."
            )
        # fewer cells: the last columns are empty (some exports drop a row's trailing empty cells); empty cells past
        # the header's columns (a trailing separator) are dropped
        row = dict(zip(columns, cells[: len(columns)], strict=False))
        entry: dict = {"siret": (row.get("siret") or "").strip()}
        # An empty cell is an absent field: a new structure needs it, an existing one keeps its value.
        if (row.get("name") or "").strip():
            entry["name"] = row["name"].strip()
        roles = [r for r in (row.get("roles") or "").replace("|", " ").split() if r]
        if roles:
            entry["roles"] = roles
        for flag in ("active", "requires_service_code", "requires_engagement"):
            raw = (row.get(flag) or "").strip().lower()
            if raw:
                if raw not in CSV_TRUE + CSV_FALSE:
                    raise Unprocessable(
                        f"line {line}: '{flag}' must be true or false, spelled {', '.join(CSV_TRUE)} "
                        f"or {', '.join(CSV_FALSE)} (any case)."
                    )
                entry[flag] = raw in CSV_TRUE
        rows.append(entry)
        places.append(f"line {line}")
    return rows, places


def _csv_columns(header: list[str]) -> list[str]:
    """The header's column names, matched without regard to case or surrounding spaces (a spreadsheet's "SIRET",
    "Active "); trailing empty cells (a trailing separator) dropped. A name not in CSV_COLUMNS is a 422 as a JSON
    row's unknown field is (a misspelt "requires_engagment" would drop the change without a word), and so are a
    column named twice and an unnamed one."""
    while header and not header[-1].strip():
        header = header[:-1]
    columns = [cell.strip().lower() for cell in header]
    refuse_unknown_fields(
        {cell: None for cell, column in zip(header, columns, strict=True) if column and column not in CSV_COLUMNS},
        CSV_COLUMNS,
        "a CSV import's header",
    )
    unnamed = [number for number, column in enumerate(columns, 1) if not column]
    if unnamed:
        raise _unnamed_columns(unnamed)
    repeated = sorted({column for column in columns if columns.count(column) > 1})
    if repeated:
        raise Unprocessable(
            f"The CSV header names {repeated} more than once: which cell would count is not clear.",
            repeated_columns=repeated,
        )
    return columns


def _unnamed_columns(numbers: list[int], where: str = "") -> Unprocessable:
    return Unprocessable(
        f"The CSV header's column {', '.join(map(str, numbers))} has no name{where}: name it or remove it."
    )


def import_structures(
    principal: Principal,
    entries: list,
    *,
    directory,
    now: Callable[[], str] = utc_now,
    places: list[str] | None = None,
) -> list[Structure]:
    """Create the new structures of a seed-format list and update the existing ones in place: the fields a row
    carries replace, the others (services, API keys...) are kept. Every row is checked before any is written;
    a SIRET may appear once per import. API keys in a JSON row are registered too (hashed), next to the
    structure's existing keys; a key that already authenticates as another structure is refused (422). `places`:
    how errors name each entry (a CSV's lines), else structures[i]."""
    require_admin(principal)
    if not isinstance(entries, list) or not entries:
        raise Unprocessable('Send {"structures": [...]} (the seed format) or a CSV with a header line.')
    if len(entries) > MAX_IMPORT_ROWS:
        raise PayloadTooLarge(
            f"An import takes at most {MAX_IMPORT_ROWS} structures and this one has {len(entries)}: "
            f"split the file into imports of at most {MAX_IMPORT_ROWS} rows.",
            max_rows=MAX_IMPORT_ROWS,
            rows=len(entries),
        )
    rows: list[tuple[str, dict, list[str]]] = []
    for index, entry in enumerate(entries):
        where = places[index] if places else f"structures[{index}]"
        if not isinstance(entry, dict):
            raise Unprocessable(f"{where}: the structure must be a JSON object.")
        fields = {k: v for k, v in entry.items() if k != "api_keys"}
        try:
            fields["siret"] = _siret(fields.get("siret", ""))
        except Unprocessable as error:
            raise Unprocessable(f"{where}: {error.detail}") from None
        keys = entry.get("api_keys", [])  # null is no list of keys
        if not isinstance(keys, list) or not all(
            isinstance(k, str) and len(k) >= MIN_IMPORTED_KEY_CHARACTERS for k in keys
        ):
            raise Unprocessable(
                f"{where}: 'api_keys' must be a list of keys of at least {MIN_IMPORTED_KEY_CHARACTERS} characters."
            )
        rows.append((where, fields, keys))
    _refuse_repeats([(fields["siret"], where) for where, fields, _ in rows], "SIRET", show=True)
    _refuse_repeats([(key, where) for where, _, keys in rows for key in keys], "API key", show=False)
    at = now()
    written, pending = _merged(rows, at, directory)  # every row checked before anything is written
    keys = [(key_hash, siret, at) for key_hash, siret in _refuse_keys_of_others(rows, directory)]
    for _ in range(WRITE_ATTEMPTS):
        changed = set(directory.put_structures(pending, keys))
        if not changed:
            return [written[fields["siret"]] for _, fields, _ in rows]
        # Rows whose structure another request wrote since it was read: merged again over what it wrote.
        keys = []
        again, pending = _merged([row for row in rows if row[1]["siret"] in changed], at, directory)
        written.update(again)
    raise ConcurrentUpdate(
        f"Structures {sorted(changed)} are being changed by other requests right now: the other rows are imported; "
        "send the import again in a moment (it is safe to repeat)."
    )


def _merged(
    rows: list[tuple[str, dict, list[str]]], at: str, directory
) -> tuple[dict[str, Structure], list[Structure]]:
    """Each row's structure, over the structure's current record if it exists, by SIRET; and those to write: the
    new and the changed ones (a row that changes nothing keeps its record, updated_at included)."""
    existing = directory.structures([fields["siret"] for _, fields, _ in rows])
    merged, changed = {}, []
    for where, fields, _ in rows:
        current = existing.get(fields["siret"])
        try:
            structure = structure_from(fields, at, current)
        except Unprocessable as error:
            raise Unprocessable(f"{where}: {error.detail}", **error.extra) from None
        if _unchanged(structure, current):
            structure = current
        else:
            changed.append(structure)
        merged[fields["siret"]] = structure
    return merged, changed


def _refuse_keys_of_others(rows: list[tuple[str, dict, list[str]]], directory) -> list[tuple[str, str]]:
    """The (key hash, siret) of the rows' keys not registered yet; 422 naming the rows whose key already
    authenticates as another structure (an import never moves a key: it would let one structure's key act as
    another). The adapter's conditional write holds the same rule against a concurrent write."""
    wanted = [(hash_api_key(key), fields["siret"], where) for where, fields, keys in rows for key in keys]
    owners = directory.key_owners([key_hash for key_hash, _, _ in wanted])
    taken = [(where, owners[key_hash]) for key_hash, siret, where in wanted if owners.get(key_hash, siret) != siret]
    if taken:
        parts = [f"{where} (a key of {owner})" for where, owner in taken]
        raise Unprocessable(
            "An API key belongs to one structure and an import does not move it: "
            + "; ".join(parts)
            + ". Remove the key from the row, or revoke it first. Nothing was imported.",
            taken_keys=[{"row": where, "siret": owner} for where, owner in taken],
        )
    return [(key_hash, siret) for key_hash, siret, _ in wanted if key_hash not in owners]


def _refuse_repeats(values: list[tuple[str, str]], what: str, *, show: bool) -> None:
    """422 naming the rows where a value appears more than once (the value itself only when `show`)."""
    seen: dict[str, list[str]] = {}
    for value, where in values:
        seen.setdefault(value, []).append(where)
    repeated = {value: wheres for value, wheres in seen.items() if len(wheres) > 1}
    if not repeated:
        return
    parts = [f"{value if show else 'a key'} in {', '.join(wheres)}" for value, wheres in repeated.items()]
    detail = f"Each {what} may appear once per import: " + "; ".join(parts) + ". Nothing was imported."
    if show:
        raise Unprocessable(detail, duplicates=[{"siret": v, "rows": w} for v, w in repeated.items()])
    raise Unprocessable(detail, duplicates=[{"rows": w} for w in repeated.values()])
