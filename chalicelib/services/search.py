"""Searching a party's invoices (Chorus Pro's rechercherFacture*), with delta sync on updated_since."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime

from ..domain.directory import Principal, is_valid_siret
from ..domain.ids import is_ulid
from ..domain.invoice import Invoice
from ..domain.statuses import STATUSES
from .errors import InvalidInput
from .paging import PAGE_BYTES, decode_cursor, encode_cursor, page_limit, query_scope
from .ports import InvoiceQuery, InvoiceRepository

PARAMETERS = (
    "role", "status", "number", "counterpart", "service_code", "issued_from", "issued_to", "updated_since", "limit",
    "cursor",
)  # fmt: skip
MAX_LIMIT = 100
DEFAULT_LIMIT = 25
# Index entries a filtered search evaluates per shard and request, then it answers with the matches found so far
# and a cursor (a filter that matches little used to read the caller's whole partition: ~40 requests per 1,000
# invoices, past API Gateway's 29 s at ~100,000). An entry is ~250 bytes (keys and the filters), so with the default
# 4 shards a request reads at most ~1 MB of index, ~128 read units, in at most 6 DynamoDB requests per shard
# (pages double from 25): well under a second. A client pages through 100,000 invoices in ~25 requests.
SHARD_READ_BUDGET = 1000


def _fits(position: str) -> bool:
    """An invoice search's position is "<updated_at>#<invoice id>" (the indexes' sort key)."""
    updated_at, _, invoice_id = position.rpartition("#")
    return is_ulid(invoice_id) and _is_timestamp(updated_at)


def _is_timestamp(value: str) -> bool:
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _date(params: dict, name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise InvalidInput(f"'{name}' must be a date, YYYY-MM-DD.") from None


def _statuses(value: str | None) -> tuple[int, ...]:
    """`status`: one status code or several, comma-separated (any of them matches), in ascending order."""
    if value is None:
        return ()
    codes = value.split(",")
    # ASCII digits only (str.isdigit() also takes '²', which int() refuses), and few of them (int() refuses
    # over 4,300 digits): either would be a 500.
    if not all(c.isascii() and c.isdigit() and len(c) <= 9 and int(c) in STATUSES for c in codes):
        raise InvalidInput(f"'status' must be one of {sorted(STATUSES)}, or several of them comma-separated.")
    return tuple(sorted({int(c) for c in codes}))


def _counterpart(value: str | None) -> str | None:
    if value and not is_valid_siret(value):
        raise InvalidInput("'counterpart' must be a SIRET: 14 digits with a valid check digit.")
    return value or None


def _timestamp(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))  # RFC 3339 allows "z"
    except ValueError:
        raise InvalidInput("'updated_since' must be an ISO 8601 timestamp, e.g. 2026-11-26T08:00:00Z.") from None
    if parsed.tzinfo is None:
        raise InvalidInput("'updated_since' needs a time zone (e.g. a trailing Z).")
    try:  # 0001-01-01T00:00:00+01:00 is before year 1 in UTC, 9999-12-31T23:59:59-01:00 after year 9999
        in_utc = parsed.astimezone(UTC)
    except OverflowError:
        raise InvalidInput("'updated_since' is out of range: in UTC it must fall between years 1 and 9999.") from None
    return in_utc.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def empty_range(updated_since: str | None, before: str | None) -> bool:
    """True when no position is both after `updated_since` (exclusive: every key of that instant sorts below
    "<instant>#U+FFFF", as the repository bounds it) and before the cursor's position `before`: a cursor taken
    before `updated_since` was moved past it. DynamoDB refuses such a BETWEEN (lower bound above the upper)."""
    return bool(updated_since and before and before <= f"{updated_since}#\uffff")


def search_invoices(
    principal: Principal,
    params: dict[str, str],
    *,
    invoices: InvoiceRepository,
    item_bytes: Callable[[Invoice], int] | None = None,
) -> tuple[list[Invoice], str | None]:
    """A page of the caller's invoices and the next page's cursor. `item_bytes`: what an invoice weighs in the
    answer; the page then stops within PAGE_BYTES (a hundred invoices with long findings would be over 6 MB)."""
    role = params.get("role") or ("supplier" if principal.has_role("supplier") else "recipient")
    if role not in ("supplier", "recipient"):
        raise InvalidInput("'role' is supplier or recipient.")
    limit = page_limit(params.get("limit"), DEFAULT_LIMIT, MAX_LIMIT)
    query = InvoiceQuery(
        role=role,
        siret=principal.siret,  # a party only ever searches its own invoices
        limit=limit,
        statuses=_statuses(params.get("status")),
        number=params.get("number") or None,
        counterpart=_counterpart(params.get("counterpart")),
        service_code=params.get("service_code") or None,
        issued_from=_date(params, "issued_from"),
        issued_to=_date(params, "issued_to"),
        updated_since=_timestamp(params.get("updated_since")),
        read_budget=SHARD_READ_BUDGET,
        page_bytes=PAGE_BYTES if item_bytes is not None else None,
        item_bytes=item_bytes,
    )
    # A cursor is a position in this query's listing: with another role, filter or updated_since it would page
    # through another listing from there (a status changed while paging ended it early, as if complete).
    # One status is scoped as a number and service_code only when given: the cursors of queries without a status
    # list or a service_code keep the scope they had before either existed.
    status = query.statuses[0] if len(query.statuses) == 1 else list(query.statuses) or None
    service = [query.service_code] if query.service_code else []
    scope = query_scope(query.siret, query.role, status, query.number, query.counterpart, query.issued_from,
                        query.issued_to, query.updated_since, *service)  # fmt: skip
    if params.get("cursor"):
        query = replace(query, before=decode_cursor(params["cursor"], _fits, scope))
    if empty_range(query.updated_since, query.before):
        # A client that moved updated_since past its cursor has nothing left to page through: the last page (an
        # empty one without next_cursor) is the answer a paging loop expects, not an error; DynamoDB is not asked.
        return [], None
    # A filtered page can be short, even empty, with a next_cursor (the read budget was used up), and any page can
    # hold fewer than `limit` (the byte budget): only the cursor's absence means there is nothing more.
    page, before = invoices.search(query)
    return page, encode_cursor(before, scope)
