"""The media types of the routes whose bodies are files, and API Gateway's binary media types derived from them.

API Gateway hands Lambda a body whose Content-Type is not a binary media type as UTF-8 text: the bytes of a
PDF, a ZIP or a Latin-1 CSV would be corrupted. So every media type a file route accepts is registered as
binary (app.py), from the very constants the routes check, and a file route refuses (415) any other type.
JSON stays text: the JSON routes (and the JSON invoice deposit) read it as such, and a binary response type
would make Chalice require a matching Accept header.
"""

from __future__ import annotations

from ..services import deposit, lifecycle
from ..services import flows as flow_service

JSON = "application/json"
OCTET_STREAM = "application/octet-stream"
FORM = "application/x-www-form-urlencoded"  # what curl --data-binary sends unless told otherwise

INVOICE_MEDIA_TYPES: tuple[str, ...] = tuple(deposit.SUPPORTED_MEDIA_TYPES)
ARCHIVE_MEDIA_TYPES: tuple[str, ...] = tuple(flow_service.ARCHIVE_MEDIA_TYPES)
# Attachments are sniffed (their content must match their file name's type), so the declared type only
# has to reach the Lambda intact: application/octet-stream (recommended), the types of the accepted
# extensions, and curl's default.
ATTACHMENT_MEDIA_TYPES: tuple[str, ...] = (
    OCTET_STREAM,
    *sorted(set(lifecycle.ATTACHMENT_TYPES.values()) | {"text/xml"}),
    FORM,
)

# (path, method) of every route whose body is a file → the media types it accepts.
FILE_ROUTES: dict[tuple[str, str], tuple[str, ...]] = {
    ("/v1/invoices", "POST"): INVOICE_MEDIA_TYPES,
    ("/v1/flows", "POST"): ARCHIVE_MEDIA_TYPES,
    ("/v1/invoices/{invoice_id}/attachments", "POST"): ATTACHMENT_MEDIA_TYPES,
}
TEXT_MEDIA_TYPES = frozenset({JSON})  # never binary: JSON bodies and JSON responses stay text
BINARY_MEDIA_TYPES: list[str] = sorted({m for types in FILE_ROUTES.values() for m in types} - TEXT_MEDIA_TYPES)
