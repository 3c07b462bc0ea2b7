"""Runtime settings, read from the environment (set by .chalice/config.json, infra/ or the local stack)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True, slots=True)
class Settings:
    """The settings; each default is in settings(), beside its environment variable."""

    region: str
    invoice_bucket: str
    invoice_table: str
    structure_table: str
    api_key_table: str
    idempotency_table: str
    number_table: str
    validation_queue: str
    events_topic_arn: str
    max_sync_bytes: int
    validation_max_receives: int
    download_url_seconds: int
    local_stack: bool
    index_shards: int
    admin_key_hashes: frozenset[str]
    # Webhooks and e-mail notifications (issue #6)
    subscription_table: str
    delivery_log_table: str
    mail_outbox_table: str  # local stack only: e-mails are captured, not sent
    webhook_events_queue: str  # subscribed to the events topic: fan-out
    webhook_delivery_queue: str  # one message per (subscription, event) attempt
    # The jobs given up after the retry age (a receiver down): held for an operator, never consumed, not the DLQ
    webhook_given_up_queue: str
    webhook_timeout_seconds: float
    webhook_retry_base_seconds: float  # first retry delay; doubles per attempt, with jitter
    webhook_retry_max_delay_seconds: float
    webhook_retry_max_age_seconds: float  # then the job goes to the given-up queue, the subscription is failing
    mail_sender: str
    public_base_url: str  # the API's public address for links mailed out; default: API Gateway's own
    # Formats and bulk (issue #5)
    flow_table: str
    inbox_queue: str  # S3 notifications of inbox/ (uploads and posted archives)
    inbox_max_receives: int  # the inbox queue's maxReceiveCount (the expander gives up at it)
    upload_max_bytes: int
    upload_url_seconds: int
    max_flow_files: int
    # S3 Object Lock of the legal records (services/layout.LEGAL_RECORD_PREFIXES): "" when the bucket has none
    object_lock_mode: str  # GOVERNANCE or COMPLIANCE
    object_lock_days: int
    # The legal retention: the S3 lifecycle expires records' objects after it, and DynamoDB's TTL (`expires`) the
    # invoice, flow and number-claim items that describe them
    retention_days: int


# API Gateway → Lambda carries at most 6 MB, and binary bodies travel base64-encoded (4/3):
# 4 MiB of invoice is what reliably fits. Larger files use the upload route.
DEFAULT_MAX_SYNC_BYTES = 4 * 1024 * 1024


@lru_cache(maxsize=1)
def settings() -> Settings:
    env = os.environ
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "eu-west-3"
    return Settings(
        region=region,
        invoice_bucket=env.get("INVOICE_BUCKET", "chorale-invoices"),
        invoice_table=env.get("INVOICE_TABLE", "chorale-invoices"),
        structure_table=env.get("STRUCTURE_TABLE", "chorale-structures"),
        api_key_table=env.get("API_KEY_TABLE", "chorale-api-keys"),
        idempotency_table=env.get("IDEMPOTENCY_TABLE", "chorale-idempotency"),
        number_table=env.get("NUMBER_TABLE", "chorale-invoice-numbers"),
        validation_queue=env.get("VALIDATION_QUEUE", "chorale-validation"),
        events_topic_arn=env.get("EVENTS_TOPIC_ARN", f"arn:aws:sns:{region}:123456789012:chorale-events"),
        max_sync_bytes=int(env.get("MAX_SYNC_BYTES", DEFAULT_MAX_SYNC_BYTES)),
        validation_max_receives=int(env.get("VALIDATION_MAX_RECEIVES", "5")),
        download_url_seconds=int(env.get("DOWNLOAD_URL_SECONDS", "300")),
        local_stack=env.get("CHORALE_LOCAL_STACK") == "1",
        index_shards=int(env.get("INDEX_SHARDS", "4")),
        # SHA-256 of the administrators' keys (comma-separated): the keys themselves are never configured.
        admin_key_hashes=frozenset(h.strip() for h in env.get("ADMIN_KEY_HASHES", "").split(",") if h.strip()),
        subscription_table=env.get("SUBSCRIPTION_TABLE", "chorale-subscriptions"),
        delivery_log_table=env.get("DELIVERY_LOG_TABLE", "chorale-webhook-deliveries"),
        mail_outbox_table=env.get("MAIL_OUTBOX_TABLE", "chorale-mail-outbox"),
        webhook_events_queue=env.get("WEBHOOK_EVENTS_QUEUE", "chorale-webhook-events"),
        webhook_delivery_queue=env.get("WEBHOOK_DELIVERY_QUEUE", "chorale-webhook-deliveries"),
        webhook_given_up_queue=env.get("WEBHOOK_GIVEN_UP_QUEUE", "chorale-webhook-deliveries-given-up"),
        webhook_timeout_seconds=float(env.get("WEBHOOK_TIMEOUT_SECONDS", "5")),
        webhook_retry_base_seconds=float(env.get("WEBHOOK_RETRY_BASE_SECONDS", "1")),
        webhook_retry_max_delay_seconds=float(
            env.get("WEBHOOK_RETRY_MAX_DELAY_SECONDS", "10" if env.get("CHORALE_LOCAL_STACK") == "1" else "3600")
        ),
        webhook_retry_max_age_seconds=float(env.get("WEBHOOK_RETRY_MAX_AGE_SECONDS", "86400")),
        mail_sender=env.get("MAIL_SENDER", "notifications@chorale.dev"),
        public_base_url=env.get("PUBLIC_BASE_URL", "").rstrip("/"),
        flow_table=env.get("FLOW_TABLE", "chorale-flows"),
        inbox_queue=env.get("INBOX_QUEUE", "chorale-inbox"),
        # AWS's advice for a Lambda consumer, 5 or more: throttled receives count too
        inbox_max_receives=int(env.get("INBOX_MAX_RECEIVES", "5")),
        upload_max_bytes=int(env.get("UPLOAD_MAX_BYTES", 120 * 1024 * 1024)),
        upload_url_seconds=int(env.get("UPLOAD_URL_SECONDS", "900")),
        max_flow_files=int(env.get("MAX_FLOW_FILES", "1000")),
        object_lock_mode=env.get("OBJECT_LOCK_MODE", ""),
        object_lock_days=int(env.get("OBJECT_LOCK_DAYS", "0")),
        retention_days=int(env.get("RETENTION_DAYS", "4018")),  # infra/chorale_infra/stages.py's default: 11 years
    )
