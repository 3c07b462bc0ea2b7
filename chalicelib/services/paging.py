"""Paged listings: the opaque cursors the API hands out, and the `limit` query parameter.

A cursor is the position where the next page starts, base64url-encoded without padding. Each listing checks
that a decoded cursor has the shape of its own positions (`fits`): a cursor of another listing is refused. A
listing whose filters decide what the next pages hold binds its cursors to them (`scope`, see query_scope): a
cursor reused with other filters is refused, not read as a position of another listing (a silently short one).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable

from .errors import InvalidInput

NOT_A_CURSOR = "'cursor' is not a cursor this API returned."
OTHER_QUERY = (
    "'cursor' was returned for another query: page on with the role, filters and updated_since of the page that "
    "returned it, or start again without a cursor."
)
SCOPE_MARK = "~"  # between a cursor's scope and its position; in no scope (base64url) and no scoped position
# The decoded cursor goes into DynamoDB as a sort-key value (the invoice search's `updated_key < :before`, the
# directory's exclusive start key), which takes at most 1,024 bytes: anything longer is DynamoDB's
# ValidationException, a 500 (moto does not enforce it). 1,000 bytes stays under that limit for every listing and
# holds the cursors the API hands out: an invoice's "<updated_at>#<id>" is 51 bytes, a flow file's key a dozen,
# a structure's "<folded name>#<siret>" a few hundred at most (a name has at most 200 characters; only characters
# that NFKD folding expands several-fold could take it past 1,000 bytes).
MAX_CURSOR_BYTES = 1000
_MAX_CURSOR_CHARS = (MAX_CURSOR_BYTES + 2) // 3 * 4  # its base64 length, before decoding anything longer
# What a page of a listing may weigh: Lambda answers at most 6 MB (the proxy envelope, body JSON-escaped once more,
# and the headers), so a page stops short of `limit` rather than become a 502 at the same cursor on every retry.
PAGE_BYTES = 4 * 1024 * 1024


def query_scope(*query: str | int | list[int] | None) -> str:
    """A short digest of what a listing was asked (its caller, role, filters): 48 bits of SHA-256, 8 characters."""
    digest = hashlib.sha256(json.dumps(query, separators=(",", ":")).encode()).digest()[:6]
    return base64.urlsafe_b64encode(digest).decode()


def encode_cursor(position: str | None, scope: str | None = None) -> str | None:
    """The cursor of the next page (None: this page is the last), bound to its query's `scope` if given."""
    if not position:
        return None
    text = f"{scope}{SCOPE_MARK}{position}" if scope else position
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, fits: Callable[[str], bool] | None = None, scope: str | None = None) -> str:
    """The position a cursor stands for; InvalidInput for anything this API did not return: undecodable, too
    long for a key, or (`fits` False) not a position of this listing. With `scope`, a cursor bound to another
    query is refused (OTHER_QUERY); one bound to none (encoded before scopes existed) is read as before."""
    if not isinstance(cursor, str) or len(cursor) > _MAX_CURSOR_CHARS:
        raise InvalidInput(NOT_A_CURSOR)
    try:
        # validate: a character out of the alphabet is refused, not skipped ('%%%' is not an empty cursor)
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
        position = raw.decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInput(NOT_A_CURSOR) from None
    given = None
    if scope is not None and SCOPE_MARK in position:
        given, _, position = position.partition(SCOPE_MARK)
    if not raw or len(raw) > MAX_CURSOR_BYTES or (fits is not None and not fits(position)):
        raise InvalidInput(NOT_A_CURSOR)
    if given is not None and given != scope:
        raise InvalidInput(OTHER_QUERY)
    return position


def page_limit(raw: str | None, default: int, maximum: int) -> int:
    """The `limit` query parameter: ASCII digits from 1 to `maximum` (`default` when absent), else InvalidInput."""
    if raw is None:
        return default
    # str.isdigit() alone takes '²' or '٣', which int() refuses or reads as another number: ASCII digits only.
    if not (isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 9 and 1 <= int(raw) <= maximum):
        raise InvalidInput(f"'limit' must be an integer from 1 to {maximum}.")
    return int(raw)
