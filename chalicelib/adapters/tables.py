"""PynamoDB table definitions. Names come from the environment; endpoints from AWS_ENDPOINT_URL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pynamodb.attributes import (
    BinaryAttribute,
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    VersionAttribute,
)
from pynamodb.constants import STREAM_NEW_AND_OLD_IMAGE
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

from ..config import settings
from .aws import DynamoTimeouts

_settings = settings()

CONDITIONAL_CHECK_FAILED = "ConditionalCheckFailedException"


def is_conditional_failure(exc: BaseException) -> bool:
    """Whether a write failed only because its condition was false (the item exists, is gone, or changed): an
    expected outcome the caller answers. Any other error (throttling, the network, a validation error) is not.

    Takes PynamoDB's errors (PutError, UpdateError, DeleteError...: the cause's code) and botocore's ClientError
    (the response's code) alike.
    """
    code = getattr(exc, "cause_response_code", None)
    if code is None:
        code = (getattr(exc, "response", None) or {}).get("Error", {}).get("Code")
    return code == CONDITIONAL_CHECK_FAILED


def is_item_too_large(exc: BaseException) -> bool:
    """Whether a write was refused because the item would be over DynamoDB's 400 KB (a ValidationException)."""
    code = getattr(exc, "cause_response_code", None)
    message = getattr(exc, "cause_response_message", None)
    if code is None:
        error = (getattr(exc, "response", None) or {}).get("Error", {})
        code, message = error.get("Code"), error.get("Message")
    return code == "ValidationException" and "item size" in (message or "").lower()


DYNAMODB_ITEM_BYTES = 400 * 1024


def kept_until(created_at: str | None = None) -> datetime:
    """The `expires` (DynamoDB TTL) of an item describing what was received at `created_at` (ISO 8601 as stored;
    None: now): the stage's legal retention later, as the S3 lifecycle expires the objects (RETENTION_DAYS after
    they are written), so a record and its original go together."""
    start = datetime.fromisoformat(created_at.replace("Z", "+00:00")) if created_at else datetime.now(UTC)
    return start + timedelta(days=settings().retention_days)


def _value_bytes(value: dict) -> int:
    """DynamoDB's size of a serialized attribute value, rounded up: UTF-8 strings and binaries their bytes, numbers
    at most their digits, 1 byte a boolean or null, and 3 bytes plus 1 a member for a list or map (a map's members
    count their names too)."""
    ((kind, inner),) = value.items()
    if kind in ("S", "N"):
        return len(inner.encode())
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + _value_bytes(v) for v in inner)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + _value_bytes(v) for k, v in inner.items())
    if kind in ("SS", "NS"):
        return sum(len(v.encode()) for v in inner)
    if kind == "BS":
        return sum(len(v) for v in inner)
    raise ValueError(f"unknown DynamoDB attribute type {kind}")


def item_bytes(model: Model) -> int:
    """The size DynamoDB counts for an item against its 400 KB (never less): attribute names plus values."""
    return sum(len(name.encode()) + _value_bytes(value) for name, value in model.serialize().items())


class ErrorAttribute(MapAttribute):
    rule = UnicodeAttribute()
    severity = UnicodeAttribute()
    message = UnicodeAttribute()
    location = UnicodeAttribute()


# A party's invoices, most recently updated first. Partition key "<siret>#<shard>": spreading one
# structure over INDEX_SHARDS partitions keeps a busy recipient from becoming a hot partition.
# Sort key "<updated_at>#<id>": unique and time-ordered (listing, and delta sync with updated_since).
# The indexes carry only what search filters on: an index entry stays far below 1 KB (one write unit per
# index write, however many errors or history entries the invoice has); the page is then read from the
# table by id (BatchGetItem, eventually consistent: reads cost a fifth of writes).
LISTING_FILTERS = ["status_code", "number", "supplier_siret", "recipient_siret", "issue_date"]


class SupplierIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-supplier"
        projection = IncludeProjection(LISTING_FILTERS)

    supplier_pk = UnicodeAttribute(hash_key=True)
    updated_key = UnicodeAttribute(range_key=True)


class RecipientIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-recipient"
        projection = IncludeProjection(LISTING_FILTERS)

    recipient_pk = UnicodeAttribute(hash_key=True)
    updated_key = UnicodeAttribute(range_key=True)


class InvoiceRecord(Model):
    """One invoice. What queries, conditions and indexes use is stored as plain attributes; everything else
    (parties' names, totals, history, errors, attachments, where the original lies...) is one zlib-compressed
    JSON attribute, `details` (adapters/invoice_repository.py): a decided flow invoice fits in one write unit
    (1 KB) instead of two, and so does every later status change."""

    class Meta(DynamoTimeouts):
        table_name = _settings.invoice_table
        region = _settings.region
        stream_view_type = STREAM_NEW_AND_OLD_IMAGE  # status changes are published from the stream

    id = UnicodeAttribute(hash_key=True)
    supplier_siret = UnicodeAttribute()
    recipient_siret = UnicodeAttribute(null=True)
    number = UnicodeAttribute(null=True)
    issue_date = UnicodeAttribute(null=True)
    status_code = NumberAttribute(null=True)  # denormalised from history, for indexes
    processing = UnicodeAttribute()
    details = BinaryAttribute(legacy_encoding=False)
    # Both indexes are sparse: an invoice enters them when processing has decided (one index write each,
    # instead of a write at deposit and a delete + write when the decision moves its sort key).
    supplier_pk = UnicodeAttribute(null=True)
    recipient_pk = UnicodeAttribute(null=True)  # absent until routed
    updated_key = UnicodeAttribute()
    by_supplier = SupplierIndex()
    by_recipient = RecipientIndex()
    version = VersionAttribute()
    expires = TTLAttribute(null=True)  # kept_until(created_at); absent on records written before 2026-11-28


class ServiceAttribute(MapAttribute):
    code = UnicodeAttribute()
    name = UnicodeAttribute()
    active = BooleanAttribute(default=True)
    requires_engagement = BooleanAttribute(default=False)


class StructureNameIndex(GlobalSecondaryIndex):
    """Name-prefix search: partition = first character of the folded name, sort = the folded name + SIRET."""

    class Meta:
        index_name = "by-name"
        projection = AllProjection()

    name_initial = UnicodeAttribute(hash_key=True)
    name_sort = UnicodeAttribute(range_key=True)


class StructureRecord(Model):
    class Meta(DynamoTimeouts):
        table_name = _settings.structure_table
        region = _settings.region

    siret = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    name_key = UnicodeAttribute()  # case- and accent-folded name, for prefix search
    name_initial = UnicodeAttribute()
    name_sort = UnicodeAttribute()  # "<name_key>#<siret>": unique
    by_name = StructureNameIndex()
    roles = ListAttribute(of=UnicodeAttribute)
    active = BooleanAttribute(default=True)
    requires_service_code = BooleanAttribute(default=False)
    requires_engagement = BooleanAttribute(default=False)
    services = ListAttribute(of=ServiceAttribute, null=True)
    updated_at = UnicodeAttribute()
    # Every write is conditional on the version read, so two administrators' changes never overwrite each other
    # (a record written before versions existed has none, and takes the first write).
    version = VersionAttribute()


class ApiKeyStructureIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-structure"
        projection = AllProjection()

    siret = UnicodeAttribute(hash_key=True)


class ApiKeyRecord(Model):
    """An API key, stored only as its SHA-256."""

    class Meta(DynamoTimeouts):
        table_name = _settings.api_key_table
        region = _settings.region

    key_hash = UnicodeAttribute(hash_key=True)
    siret = UnicodeAttribute()
    created_at = UnicodeAttribute()
    by_structure = ApiKeyStructureIndex()


class NumberClaimRecord(Model):
    """(supplier, year of issue, BT-1) → the invoice holding that number: duplicates fail atomically."""

    class Meta(DynamoTimeouts):
        table_name = _settings.number_table
        region = _settings.region

    key = UnicodeAttribute(hash_key=True)
    invoice_id = UnicodeAttribute()
    expires = TTLAttribute(null=True)  # kept_until() the claim: never before its invoice's record


class FlowFileAttribute(MapAttribute):
    key = UnicodeAttribute()  # "file#00001": archive order
    name = UnicodeAttribute()
    invoice_id = UnicodeAttribute(null=True)
    errors = ListAttribute(of=ErrorAttribute, null=True)  # why the file did not become an invoice


class FlowItemRecord(Model):
    """Flows (issue #5), one table: the flow ("flow#<id>", "#") and its files, FILES_PER_ITEM to an item
    ("flow#<id>", "files#<n>"). A file's outcome is its invoice's (read when the flow is read), so nothing is
    written per invoice; a flow invoice's way back to its file is on the invoice (flow_id, flow_file)."""

    class Meta(DynamoTimeouts):
        table_name = _settings.flow_table
        region = _settings.region

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    supplier_siret = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)
    phase = UnicodeAttribute(null=True)  # flow: received | expanded | unreadable
    source = UnicodeAttribute(null=True)  # flow: api | upload
    error = UnicodeAttribute(null=True)  # flow: why the archive could not be read
    total_files = NumberAttribute(null=True)
    ignored_files = NumberAttribute(null=True)  # flow: OS metadata entries of the archive, skipped
    objects_total = NumberAttribute(null=True)  # flow: original objects written by the expansion
    objects_done = UnicodeSetAttribute(null=True)  # flow: objects whose invoices are all decided (a set: idempotent)
    completed_at = UnicodeAttribute(null=True)  # flow: when flow.completed was published
    revision = NumberAttribute(null=True)  # flow: of the last flow.completed (absent on flows announced before it)
    announced = UnicodeAttribute(null=True)  # flow: the counts it announced ("files/accepted/rejected")
    # flow: its accepted and rejected files, noted with its announcement (with updated_at, its last decision then)
    accepted_files = NumberAttribute(null=True)
    rejected_files = NumberAttribute(null=True)
    inbox_sha256 = UnicodeAttribute(null=True)  # flow: of the file it was expanded from
    ignored_upload_at = UnicodeAttribute(null=True)  # flow: a later file posted with its ticket, not taken in
    files = ListAttribute(of=FlowFileAttribute, null=True)  # a chunk of the flow's files
    expires = TTLAttribute(null=True)  # every item of a flow: kept_until(the flow's created_at)


ALL_TABLES: tuple[type[Model], ...] = (InvoiceRecord, StructureRecord, ApiKeyRecord, NumberClaimRecord, FlowItemRecord)
