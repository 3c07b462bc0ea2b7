"""Per-stage settings: the only numbers an operator is expected to tune (see docs/operations.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class StageSettings:
    name: str
    # Lambda memory (MB) per chalice function, chosen from `make cost` measurements (its "Lambda memory"
    # table): every function spends most of its billed time waiting on AWS, so more memory costs more.
    memory_mb: dict[str, int] = field(default_factory=dict)
    default_memory_mb: int = 512
    timeout_seconds: dict[str, int] = field(default_factory=dict)
    default_timeout_seconds: int = 30
    # API Gateway gives up on an integration at 29 s: a handler still running then answers nobody.
    api_timeout_seconds: int = 29
    # SQS → consumer: at most this many concurrent Lambda instances each (ESM MaximumConcurrency, 2 to 1,000): what
    # keeps a backlog, or receivers that hang, from taking the account's pool from the API (infra/CAPACITY.md).
    validation_max_concurrency: int = 100
    webhook_delivery_max_concurrency: int = 200  # DeliverWebhooks
    webhook_events_max_concurrency: int = 20  # FanOutEvents
    inbox_max_concurrency: int = 10  # ExpandInbox
    # DynamoDB stream → publisher: concurrent batches per shard (order is kept per invoice id).
    stream_parallelization: int = 1
    # API Gateway stage throttling (requests/s and burst), all routes.
    api_rate_limit: int = 1000
    api_burst_limit: int = 2000
    log_retention_days: int = 30
    log_level: str = "WARNING"
    # S3 originals: legal retention (days) then expiry; Object Lock mode: OFF, GOVERNANCE or COMPLIANCE.
    retention_days: int = 4018  # 11 years: the 10-year commercial retention counted from the fiscal year's close
    object_lock_mode: str = "OFF"
    archive_after_days: int = 90  # Factur-X PDFs (≥ 128 KB) → Glacier Instant Retrieval
    deep_archive_after_days: int = 2190  # → Deep Archive once the 6-year tax window has passed
    abandoned_upload_days: int = 1
    # Browsers may POST presigned uploads (and GET presigned downloads) from these origins, comma-separated;
    # "" for none. CORS grants nothing by itself: every such request still needs its signature.
    upload_cors_origins: str = "*"
    keep_data_on_delete: bool = True  # RETAIN bucket and tables when the stack is deleted
    alarm_email: str | None = None
    admin_key_hashes: str | None = None  # SHA-256 of the platform administrators' API keys, comma-separated
    mail_sender: str | None = None  # SES-verified sender of e-mail notifications (default: the app's)
    public_base_url: str | None = None  # the API's custom domain, for mailed links (default: API Gateway's address)
    oldest_message_alarm_seconds: int = 300
    # The stream publisher's lag (Maximum IteratorAge) that pages: status events this late to their parties.
    stream_lag_alarm_seconds: int = 300
    # Webhook deliveries given up (receivers down past the retry age) per hour, three hours running, that page: one
    # subscriber's outage only shows on the dashboard; this many points at our side (outbound network, signing).
    webhook_given_up_alarm_per_hour: int = 1000
    # The API's 5XX alarm: over this share of its requests in 5 minutes, counting only from this many 5XX (a rate:
    # ten 5XX are noise at the end-of-month peak, most of the requests on a quiet night)
    api_5xx_alarm_percent: float = 1.0
    api_5xx_alarm_min_errors: int = 5
    # ... and from this many 5XX in 5 minutes whatever the share: one route failing at the peak, when reads dominate
    api_5xx_alarm_max_errors: int = 100
    # Partitions per party in the invoice indexes (INDEX_SHARDS): raise it before a supplier sends > 1,000 invoices/s
    # (infra/CAPACITY.md); never lower it (a search reads shards 0 to index_shards - 1, where older entries are).
    index_shards: int = 4

    @property
    def service_name(self) -> str:
        """Powertools' service (POWERTOOLS_SERVICE_NAME): the `service` dimension of the app's metrics and a key of
        its logs, one per stage, so that a dev and a prod stage in one account never share a metric or an alarm."""
        return f"chorale-{self.name}"


# Measured (make cost): validation is ~8 ms of CPU per invoice against ~38 ms waiting on S3 and DynamoDB, so
# 512 MB costs less than 1,024 (same wait, half the GB) while keeping room for 4 MB originals and lxml trees.
# The API stays at 512 MB for latency (a deposit waits on its own answer) and base64 bodies up to 6 MB.
FUNCTION_MEMORY = {
    "APIHandler": 512,
    "ApiKeyAuthorizer": 256,
    "ValidateInvoices": 512,
    # Stream batches run one at a time per shard (x parallelization): latency is throughput here, and 512 MB
    # halves its CPU part for $0.04 per million more.
    "PublishStatusEvents": 512,
    "FanOutEvents": 256,
    "DeliverWebhooks": 256,  # waits on receivers (5 s timeout), 10 in parallel: I/O, not CPU
}

STAGES: dict[str, StageSettings] = {
    "dev": StageSettings(
        name="dev",
        memory_mb=FUNCTION_MEMORY,
        validation_max_concurrency=5,
        webhook_delivery_max_concurrency=5,
        webhook_events_max_concurrency=2,
        inbox_max_concurrency=2,
        api_rate_limit=50,
        api_burst_limit=100,
        log_retention_days=7,
        log_level="INFO",
        retention_days=90,
        keep_data_on_delete=False,
    ),
    "prod": StageSettings(
        name="prod",
        memory_mb=FUNCTION_MEMORY,
        validation_max_concurrency=100,
        webhook_delivery_max_concurrency=200,
        webhook_events_max_concurrency=20,
        inbox_max_concurrency=10,
        stream_parallelization=10,
        api_rate_limit=1000,
        api_burst_limit=2000,
        log_retention_days=30,
        log_level="WARNING",
        object_lock_mode="GOVERNANCE",
    ),
}


def stage_settings(name: str, overrides: dict | None = None) -> StageSettings:
    """The stage's settings, with `cdk -c key=value` style overrides (strings are converted)."""
    base = STAGES[name]
    values = {}
    for key, value in (overrides or {}).items():
        if value is None or not hasattr(base, key):
            continue
        current = getattr(base, key)
        if isinstance(current, bool):
            value = str(value).lower() in ("1", "true", "yes")
        elif isinstance(current, int):
            value = int(value)
        values[key] = value
    return StageSettings(**{**base.__dict__, **values})


def _function_env(project: Path, stage: str) -> dict[str, str]:
    """The environment the stage's functions get: the stage's environment over the top-level one."""
    config = json.loads((project / ".chalice" / "config.json").read_text())
    return {
        **config.get("environment_variables", {}),
        **config.get("stages", {}).get(stage, {}).get("environment_variables", {}),
    }


def validation_max_receives(project: Path, stage: str) -> int:
    """The validation queue's maxReceiveCount. The handler gives up on a message (marks its invoices failed) at this
    receive (chalicelib/entrypoints/events.py), so both read one setting as the stage's functions get it, else the
    app's default."""
    return int(_function_env(project, stage).get("VALIDATION_MAX_RECEIVES", "5"))  # chalicelib/config.py's default


def inbox_max_receives(project: Path, stage: str) -> int:
    """The inbox queue's maxReceiveCount: the expander gives up at this receive (chalicelib/entrypoints/flows_api.py),
    read as validation_max_receives is."""
    return int(_function_env(project, stage).get("INBOX_MAX_RECEIVES", "5"))  # chalicelib/config.py's default
