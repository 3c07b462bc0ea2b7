"""Create every AWS resource the app uses, on whatever endpoint boto3 is pointed at (moto here)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import boto3
from botocore.config import Config

from chalicelib.adapters.subscription_tables import SUBSCRIPTION_TABLES
from chalicelib.adapters.tables import ALL_TABLES
from chalicelib.config import Settings
from chalicelib.domain.subscriptions import sns_filter_policy
from chalicelib.services.layout import ORIGINALS_PREFIX

LOCAL_VISIBILITY_TIMEOUT = 2  # seconds before a failed message is delivered again (Lambda: 6 × timeout)


@dataclass
class LocalResources:
    queue_urls: dict[str, str] = field(default_factory=dict)  # queue name → URL (DLQs included)
    invoice_stream_arn: str = ""
    topic_arn: str = ""


def _client(service: str, settings: Settings):
    return boto3.session.Session().client(
        service, region_name=settings.region, config=Config(account_id_endpoint_mode="disabled")
    )


def create_queue_with_dlq(
    sqs, name: str, max_receives: int, visibility_timeout: int = LOCAL_VISIBILITY_TIMEOUT
) -> tuple[str, str]:
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(
        QueueName=name,
        Attributes={
            "VisibilityTimeout": str(visibility_timeout),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receives)}),
        },
    )["QueueUrl"]
    return url, dlq_url


def create_tables(settings: Settings) -> str:
    """Tables from the PynamoDB models (invoice table with a stream), plus Powertools' idempotency table."""
    for model in ALL_TABLES:
        if not model.exists():
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    dynamodb = _client("dynamodb", settings)
    existing = dynamodb.list_tables()["TableNames"]
    if settings.idempotency_table not in existing:
        dynamodb.create_table(
            TableName=settings.idempotency_table,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        dynamodb.update_time_to_live(
            TableName=settings.idempotency_table,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"},
        )
    return dynamodb.describe_table(TableName=settings.invoice_table)["Table"]["LatestStreamArn"]


def create_resources(settings: Settings, visibility_timeout: int = LOCAL_VISIBILITY_TIMEOUT) -> LocalResources:
    resources = LocalResources()
    sqs = _client("sqs", settings)
    url, dlq_url = create_queue_with_dlq(
        sqs, settings.validation_queue, settings.validation_max_receives, visibility_timeout
    )
    resources.queue_urls[settings.validation_queue] = url
    resources.queue_urls[f"{settings.validation_queue}-dlq"] = dlq_url
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    s3 = _client("s3", settings)
    create = {"Bucket": settings.invoice_bucket}
    if settings.region != "us-east-1":
        create["CreateBucketConfiguration"] = {"LocationConstraint": settings.region}
    if settings.object_lock_mode:  # as a locked stage: the legal records get their own retention
        create["ObjectLockEnabledForBucket"] = True
    s3.create_bucket(**create)
    s3.put_bucket_cors(
        Bucket=settings.invoice_bucket,
        CORSConfiguration={"CORSRules": [{**BROWSER_CORS_RULE, "AllowedOrigins": ["*"]}]},
    )
    s3.put_bucket_notification_configuration(
        Bucket=settings.invoice_bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": queue_arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": ORIGINALS_PREFIX}]}},
                }
            ]
        },
    )
    resources.topic_arn = _client("sns", settings).create_topic(Name=settings.events_topic_arn.rsplit(":", 1)[1])[
        "TopicArn"
    ]
    resources.invoice_stream_arn = create_tables(settings)
    create_webhook_resources(settings, resources, visibility_timeout)
    create_flow_resources(settings, resources, visibility_timeout)
    return resources


WEBHOOK_MAX_RECEIVES = 5  # delivery jobs that crash the handler (not failed deliveries: those are rescheduled)


def create_webhook_resources(settings: Settings, resources: LocalResources, visibility_timeout: int) -> None:
    """Issue #6: subscription tables; the fan-out queue on the topic (filter policy, raw delivery); delivery queue."""
    for model in SUBSCRIPTION_TABLES:
        if not model.exists():
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    sqs = _client("sqs", settings)
    # A delivery waits up to the receiver's 5 s timeout: keep jobs invisible longer than that (0 stays 0 in tests).
    delivery_visibility = visibility_timeout and max(visibility_timeout, 30)
    for name in (settings.webhook_events_queue, settings.webhook_delivery_queue):
        url, dlq_url = create_queue_with_dlq(sqs, name, WEBHOOK_MAX_RECEIVES, delivery_visibility)
        resources.queue_urls[name], resources.queue_urls[f"{name}-dlq"] = url, dlq_url
    # Deliveries given up after the retry age wait here for an operator (infra: 14 days, no DLQ, no consumer).
    resources.queue_urls[settings.webhook_given_up_queue] = sqs.create_queue(
        QueueName=settings.webhook_given_up_queue, Attributes={"MessageRetentionPeriod": str(14 * 24 * 3600)}
    )["QueueUrl"]
    events_url = resources.queue_urls[settings.webhook_events_queue]
    events_arn = sqs.get_queue_attributes(QueueUrl=events_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    _client("sns", settings).subscribe(
        TopicArn=resources.topic_arn,
        Protocol="sqs",
        Endpoint=events_arn,
        Attributes={"RawMessageDelivery": "true", "FilterPolicy": json.dumps(sns_filter_policy())},
    )


# Browsers may POST presigned uploads and GET presigned downloads (infra applies the same rule with the
# stage's origins): CORS grants nothing by itself, every such request still needs its signature.
BROWSER_CORS_RULE = {
    "AllowedMethods": ["POST", "GET"],
    "AllowedHeaders": ["*"],
    "ExposeHeaders": ["ETag", "Location"],
    "MaxAgeSeconds": 3000,
}
INBOX_PREFIX = "inbox/"  # chalicelib.services.layout.INBOX_PREFIX (uploads and posted archives)


def create_flow_resources(settings: Settings, resources: LocalResources, visibility_timeout: int) -> None:
    """Issue #5: the inbox queue (+ DLQ), fed by the bucket notification on inbox/ (the flows table: ALL_TABLES)."""
    sqs = _client("sqs", settings)
    # Expanding a 1 000-file archive takes a while: keep the message invisible meanwhile (0 stays 0 in tests).
    url, dlq_url = create_queue_with_dlq(
        sqs, settings.inbox_queue, settings.inbox_max_receives, visibility_timeout and max(visibility_timeout, 120)
    )
    resources.queue_urls[settings.inbox_queue], resources.queue_urls[f"{settings.inbox_queue}-dlq"] = url, dlq_url
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3 = _client("s3", settings)
    config = s3.get_bucket_notification_configuration(Bucket=settings.invoice_bucket)
    queues = [q for q in config.get("QueueConfigurations", []) if q.get("QueueArn") != arn]
    queues.append(
        {
            "QueueArn": arn,
            "Events": ["s3:ObjectCreated:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": INBOX_PREFIX}]}},
        }
    )
    s3.put_bucket_notification_configuration(
        Bucket=settings.invoice_bucket, NotificationConfiguration={"QueueConfigurations": queues}
    )
