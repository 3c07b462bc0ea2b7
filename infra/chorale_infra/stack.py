"""One Chorale stage: data resources derived from the app, the Chalice app, least-privilege roles, monitoring."""

from __future__ import annotations

import json
import re

from aws_cdk import Annotations, Aws, CfnOutput, Duration, RemovalPolicy, Stack, Tags
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk.aws_apigateway import CfnGatewayResponse
from chalice.cdk import Chalice
from constructs import Construct

from . import access
from .monitoring import Monitoring
from .stages import StageSettings

# Tables the app uses without a PynamoDB model: Powertools' idempotency store.
NON_MODEL_TABLES = {
    "IDEMPOTENCY_TABLE": {
        "key_schema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "attribute_definitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "global_secondary_indexes": [],
        "local_secondary_indexes": [],
        "stream_view_type": None,
        "ttl_attribute": "expiration",
    }
}
# TTL attributes the models declare as plain numbers (a TTLAttribute in the model makes it derivable: the invoice,
# flow, number-claim and subscription tables' `expires`).
TTL_ATTRIBUTES = {"DELIVERY_LOG_TABLE": "expires"}
# Settings the local stack uses but AWS does not (e-mails are sent by SES there, not captured).
LOCAL_ONLY = {"MAIL_OUTBOX_TABLE"}
# S3 → SQS notifications, as the local stack sets them: queue env var → key prefix.
BUCKET_NOTIFICATIONS = {"VALIDATION_QUEUE": "originals/", "INBOX_QUEUE": "inbox/"}
# Prefixes kept for the legal retention, then expired. (renditions/ are derived: kept as long as originals.)
# downloads/: one copy of a downloaded bundled original (Object Lock keeps it anyway; it is reused).
RETAINED_PREFIXES = ("originals/", "renditions/", "inbox/", "attachments/", "downloads/")
# A queue's consumer that needs more than the default timeout/memory (expanding a 1,000-file archive).
# The validation handler starts an object only with 65 s left (entrypoints/events.py: one stalled AWS call's worst
# case and the object's work): 120 s lets a batch of ten finish where 30 s could not start one.
QUEUE_CONSUMERS = {"INBOX_QUEUE": {"timeout": 300, "memory": 2048}, "VALIDATION_QUEUE": {"timeout": 120}}
# Each queue consumer's cap on concurrent executions (ESM MaximumConcurrency): queue env var → its stage setting.
# A consumer without one fails the synth: uncapped, a backlog could take the account's whole Lambda pool.
QUEUE_MAX_CONCURRENCY = {
    "VALIDATION_QUEUE": "validation_max_concurrency",
    "WEBHOOK_DELIVERY_QUEUE": "webhook_delivery_max_concurrency",
    "WEBHOOK_EVENTS_QUEUE": "webhook_events_max_concurrency",
    "INBOX_QUEUE": "inbox_max_concurrency",
}
# Queues the app parks messages in for an operator, consumed by nobody: no DLQ, no age alarm, 14 days. The webhook
# deliveries the app gave up on (a receiver down past the retry age): a subscriber's outage, not our failure, so
# they stay out of the SQS-redrive DLQ that pages at its first message.
HELD_QUEUES = {"WEBHOOK_GIVEN_UP_QUEUE"}
# Queues subscribed to a topic (fan-out): queue env var → topic env var.
TOPIC_SUBSCRIPTIONS = {"WEBHOOK_EVENTS_QUEUE": "EVENTS_TOPIC_ARN"}


def cfn_name(function_name: str) -> str:
    """chalice's logical id for a function: validate_invoices → ValidateInvoices."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[_\-]", function_name) if part)


def upload_cors(origins: str, rule: dict | None) -> list[s3.CorsRule] | None:
    """The app's browser rule (presigned uploads and downloads from web apps, devstack/resources.py) for the
    stage's origins; the signature, not CORS, is what grants access."""
    allowed = [o.strip() for o in (origins or "").split(",") if o.strip()]
    if not allowed or not rule:
        return None
    return [
        s3.CorsRule(
            allowed_methods=[s3.HttpMethods(m) for m in rule["AllowedMethods"]],
            allowed_origins=allowed,
            allowed_headers=rule["AllowedHeaders"],
            exposed_headers=rule["ExposeHeaders"],
            max_age=rule["MaxAgeSeconds"],
        )
    ]


# The functions API Gateway invokes: they derive the API's address from each request (see PUBLIC_BASE_URL below).
API_FUNCTIONS = frozenset({"APIHandler", "ApiKeyAuthorizer"})


class ChoraleStack(Stack):
    def __init__(self, scope: Construct, stage: StageSettings, app_model: dict, project_dir: str, **kwargs):
        # The construct id is the chalice stage name (chalice.cdk uses it), so .chalice/config.json's
        # "dev"/"prod" stage blocks apply.
        super().__init__(scope, stage.name, stack_name=f"chorale-{stage.name}", **kwargs)
        self.stage = stage
        self.model = app_model
        self.prefix = f"chorale-{stage.name}"
        self.retain = RemovalPolicy.RETAIN if stage.keep_data_on_delete else RemovalPolicy.DESTROY
        Tags.of(self).add("app", "chorale")
        Tags.of(self).add("stage", stage.name)

        self.env_vars: dict[str, str] = {}  # env var → physical name / ARN (what the functions see)
        self.tables: dict[str, dynamodb.CfnTable] = {}
        self.queues: dict[str, sqs.Queue] = {}
        self.dlqs: dict[str, sqs.Queue] = {}
        self.held_queues: dict[str, sqs.Queue] = {}  # HELD_QUEUES
        self.visibility_seconds: dict[str, int] = {}  # queue env var → its visibility timeout (a retry's delay)
        self.buckets: dict[str, s3.Bucket] = {}
        self.topics: dict[str, sns.Topic] = {}
        self.topic_keys: dict[str, kms.Key] = {}  # topic env var → the KMS key encrypting it at rest
        self.missing_tables: list[str] = []
        self.stream_consumers: list[str] = []  # logical ids of the functions a DynamoDB stream invokes

        settings = app_model["resource_settings"]
        for env, default in settings.items():
            if env in LOCAL_ONLY:
                continue
            if env.endswith("_TABLE"):
                self._table(env, default)
            elif env in HELD_QUEUES:
                self._held_queue(env, default)
            elif env.endswith("_QUEUE"):
                self._queue(env, default)
            elif env.endswith("_TOPIC_ARN"):
                self._topic(env, default)
        for env, default in settings.items():  # buckets last: notifications need the queues
            if env.endswith("_BUCKET"):
                self._bucket(env, default)
        for queue_env, topic_env in TOPIC_SUBSCRIPTIONS.items():
            if queue_env in self.queues and topic_env in self.topics:
                self._subscribe(
                    self.queues[queue_env], self.topics[topic_env], app_model["sns_filter_policies"].get(queue_env)
                )
        self.env_vars["INDEX_SHARDS"] = str(stage.index_shards)
        # The invoice, flow and number-claim items expire (TTL) this long after their deposit, as the bucket's objects
        self.env_vars["RETENTION_DAYS"] = str(stage.retention_days)
        if stage.mail_sender:
            self.env_vars["MAIL_SENDER"] = stage.mail_sender
        if stage.public_base_url:
            self.env_vars["PUBLIC_BASE_URL"] = stage.public_base_url
        if stage.admin_key_hashes:
            self.env_vars["ADMIN_KEY_HASHES"] = stage.admin_key_hashes

        self.chalice = Chalice(
            self,
            "Chorale",
            source_dir=project_dir,
            stage_config={
                "manage_iam_role": False,
                # Every function's Role is overridden below with its own least-privilege role; an
                # unreplaced one would fail the deploy loudly rather than run with a shared role.
                "iam_role_arn": f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:role/replaced-per-function",
                "lambda_architecture": "arm64",
                "xray": True,
                "lambda_timeout": stage.default_timeout_seconds,
                "api_gateway_stage": "api",
                "environment_variables": {
                    **self.env_vars,
                    "POWERTOOLS_LOG_LEVEL": stage.log_level,
                    "POWERTOOLS_SERVICE_NAME": stage.service_name,
                },
                "tags": {"app": "chorale", "stage": stage.name},
            },
        )
        self._roles_policies: list = []
        self.functions = self._functions()
        self._event_sources()
        # Event source mappings are checked against the role when they are created: the function (and so
        # its mappings) must wait for the role's policy, not just the role.
        for function, role in self._roles_policies:
            policy = role.node.try_find_child("DefaultPolicy")
            if policy is not None:
                function.add_resource_dependency(policy.node.default_child)
        self._api()
        self.monitoring = Monitoring(self, "Monitoring", self)
        CfnOutput(self, "ApiUrl", value=self._api_url())
        for env, value in self.env_vars.items():
            CfnOutput(self, "Out" + re.sub(r"[^A-Za-z0-9]", "", env.title()), value=value)

    # --- names ---------------------------------------------------------------------------------
    def physical(self, default: str) -> str:
        """chorale-invoices → chorale-prod-invoices."""
        return f"{self.prefix}-{default.removeprefix('chorale-')}"

    # --- data resources ------------------------------------------------------------------------
    def _table(self, env: str, default: str) -> None:
        spec = next((t for t in self.model["tables"] if t["env"] == env), None) or NON_MODEL_TABLES.get(env)
        if spec is None:
            # A setting without a model yet (work in progress): nothing to derive keys from. The template
            # tests list these, so a release cannot ship without the table.
            self.missing_tables.append(env)
            Annotations.of(self).add_warning(
                f"{env}: no PynamoDB model in ALL_TABLES and no entry in NON_MODEL_TABLES "
                "(infra/chorale_infra/stack.py): table not created"
            )
            return
        name = self.physical(default)
        spec = {**spec, "ttl_attribute": spec["ttl_attribute"] or TTL_ATTRIBUTES.get(env)}

        def keys(schema: list[dict]) -> list[dict]:  # CloudFormation wants HASH before RANGE
            return sorted(schema, key=lambda key: key["KeyType"] != "HASH")

        gsis = [
            {
                "IndexName": index["index_name"],
                "KeySchema": keys(index["key_schema"]),
                "Projection": index["projection"],
            }
            for index in spec["global_secondary_indexes"]
        ]
        lsis = [
            {
                "IndexName": index["index_name"],
                "KeySchema": keys(index["key_schema"]),
                "Projection": index["projection"],
            }
            for index in spec["local_secondary_indexes"]
        ]
        table = dynamodb.CfnTable(
            self,
            re.sub(r"[^A-Za-z0-9]", "", env.title()),
            table_name=name,
            billing_mode="PAY_PER_REQUEST",
            key_schema=[],
            point_in_time_recovery_specification={"pointInTimeRecoveryEnabled": True},
            sse_specification={"sseEnabled": True},
            stream_specification=({"streamViewType": spec["stream_view_type"]} if spec["stream_view_type"] else None),
            time_to_live_specification=(
                {"attributeName": spec["ttl_attribute"], "enabled": True} if spec["ttl_attribute"] else None
            ),
            deletion_protection_enabled=self.stage.keep_data_on_delete,
        )
        # Keys and indexes exactly as the PynamoDB model declares them (CloudFormation's own shapes).
        table.add_property_override("KeySchema", keys(spec["key_schema"]))
        table.add_property_override("AttributeDefinitions", spec["attribute_definitions"])
        if gsis:
            table.add_property_override("GlobalSecondaryIndexes", gsis)
        if lsis:
            table.add_property_override("LocalSecondaryIndexes", lsis)
        table.apply_removal_policy(self.retain)
        self.tables[env] = table
        self.env_vars[env] = name

    def _queue(self, env: str, default: str) -> None:
        name = self.physical(default)
        max_receives = int(self.model.get("max_receives", {}).get(env, 3))
        dlq = sqs.Queue(
            self,
            f"{env.title().replace('_', '')}Dlq",
            queue_name=f"{name}-dlq",
            retention_period=Duration.days(14),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )
        # Lambda's advice: visibility ≥ 6 × the consumer's timeout, so retries don't overlap a run.
        visibility = 6 * QUEUE_CONSUMERS.get(env, {}).get("timeout", self.stage.default_timeout_seconds)
        queue = sqs.Queue(
            self,
            env.title().replace("_", ""),
            queue_name=name,
            visibility_timeout=Duration.seconds(visibility),
            retention_period=Duration.days(4),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=max_receives),
        )
        self.queues[env] = queue
        self.visibility_seconds[env] = visibility
        self.dlqs[env] = dlq
        self.env_vars[env] = name

    def _held_queue(self, env: str, default: str) -> None:
        name = self.physical(default)
        self.held_queues[env] = sqs.Queue(
            self,
            env.title().replace("_", ""),
            queue_name=name,
            retention_period=Duration.days(14),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )
        self.env_vars[env] = name

    def _topic(self, env: str, default: str) -> None:
        name = self.physical(default.rsplit(":", 1)[-1])
        # Encrypted at rest (Security Hub SNS.1) with a key of its own ($1 a month): its publishers get exactly
        # what SNS needs of it, nobody else gets anything (alias/aws/sns lets every principal of the account use it
        # through SNS). The key policy is CDK's default, the account as admin, which lets the roles' IAM grants
        # (_grant) work; SNS needs no grant of its own to deliver to the SSE-SQS fan-out queue. No data outlives the
        # topic: the key goes with it (after KMS's waiting period).
        key = kms.Key(
            self,
            env.title().replace("_", "") + "Key",
            alias=f"alias/{name}",
            description=f"Chorale {self.stage.name}: encrypts the {name} topic's messages at rest",
            enable_key_rotation=True,
            pending_window=Duration.days(7),
            removal_policy=RemovalPolicy.DESTROY,
        )
        topic = sns.Topic(
            self,
            env.title().replace("_", ""),
            topic_name=name,
            enforce_ssl=True,
            master_key=key,
        )
        self.topics[env] = topic
        self.topic_keys[env] = key
        self.env_vars[env] = topic.topic_arn

    def _subscribe(self, queue: sqs.Queue, topic: sns.Topic, filter_policy: dict | None) -> None:
        # As the local stack subscribes it: raw delivery (the body is the event), filtered on attributes.
        sns.CfnSubscription(
            self,
            f"{queue.node.id}Subscription",
            topic_arn=topic.topic_arn,
            protocol="sqs",
            endpoint=queue.queue_arn,
            raw_message_delivery=True,
            filter_policy=filter_policy,
        )
        queue.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("sns.amazonaws.com")],
                actions=["sqs:SendMessage"],
                resources=[queue.queue_arn],
                conditions={"ArnEquals": {"aws:SourceArn": topic.topic_arn}},
            )
        )

    def _bucket(self, env: str, default: str) -> None:
        stage = self.stage
        # Deterministic name (account and region make it globally unique): the queue policy can name the
        # bucket without a reference to it, so the S3 → SQS notification has no circular dependency.
        name = f"{self.physical(default)}-{Aws.ACCOUNT_ID}-{Aws.REGION}"
        if stage.object_lock_mode != "OFF":
            # No default retention: the app locks each legal record as it writes it (adapters/object_store.py), so
            # uploads not yet checked and derived copies can expire, and clients' uploads need no checksum.
            # Locked for the whole retention (review finding: 3,650 days left up to a year of it unlocked). Its
            # expiry then only adds a delete marker; the locked version goes once its lock ends (noncurrent rule).
            self.env_vars["OBJECT_LOCK_MODE"] = stage.object_lock_mode
            self.env_vars["OBJECT_LOCK_DAYS"] = str(stage.retention_days)
        bucket = s3.Bucket(
            self,
            env.title().replace("_", ""),
            bucket_name=name,
            versioned=True,
            encryption=s3.BucketEncryption.S3_MANAGED,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            object_lock_enabled=stage.object_lock_mode != "OFF",
            cors=upload_cors(stage.upload_cors_origins, self.model.get("browser_cors_rule")),
            removal_policy=self.retain,
            lifecycle_rules=[
                # Only objects ≥ 128 KB (Factur-X PDFs) move to archive classes: smaller ones would be
                # billed 128 KB each in Glacier IR and cost more than they save (see docs/operations.md).
                s3.LifecycleRule(
                    id="archive-large-originals",
                    prefix="originals/",
                    object_size_greater_than=128 * 1024,
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
                            transition_after=Duration.days(stage.archive_after_days),
                        ),
                        s3.Transition(
                            storage_class=s3.StorageClass.DEEP_ARCHIVE,
                            transition_after=Duration.days(stage.deep_archive_after_days),
                        ),
                    ],
                ),
                # Flow files (archives, uploads) are kept like the invoices they carried; they are large.
                s3.LifecycleRule(
                    id="archive-flow-files",
                    prefix="inbox/",
                    object_size_greater_than=128 * 1024,
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
                            transition_after=Duration.days(30),
                        )
                    ],
                ),
                *[
                    s3.LifecycleRule(
                        id=f"expire-{prefix.rstrip('/')}-after-retention",
                        prefix=prefix,
                        expiration=Duration.days(stage.retention_days),
                    )
                    for prefix in RETAINED_PREFIXES
                ],
                # Attachment uploads land here and are copied when completed: what stays is abandoned.
                s3.LifecycleRule(id="expire-attachment-uploads", prefix="uploads/", expiration=Duration.days(2)),
                # Abandoned uploads (a multipart upload never completed), and versions no longer current: an expired
                # record's (its expiry only added a delete marker) or an overwritten one's. Lifecycle cannot delete
                # a version still locked: on a locked stage a legal record's every version, an archive a re-used
                # upload ticket made noncurrent included, stays until its own retention ends.
                s3.LifecycleRule(
                    id="incomplete-multipart-and-old-versions",
                    abort_incomplete_multipart_upload_after=Duration.days(stage.abandoned_upload_days),
                    noncurrent_version_expiration=Duration.days(30),
                ),
            ],
        )
        # CloudFormation types ObjectSizeGreaterThan as a string; CDK writes a number.
        for index in (0, 1):
            bucket.node.default_child.add_property_override(
                f"LifecycleConfiguration.Rules.{index}.ObjectSizeGreaterThan", str(128 * 1024)
            )
        notifications = []
        for queue_env, prefix in BUCKET_NOTIFICATIONS.items():
            queue = self.queues.get(queue_env)
            if queue is None:
                continue
            policy = queue.add_to_resource_policy(
                iam.PolicyStatement(
                    principals=[iam.ServicePrincipal("s3.amazonaws.com")],
                    actions=["sqs:SendMessage"],
                    resources=[queue.queue_arn],
                    conditions={
                        "ArnLike": {"aws:SourceArn": f"arn:{Aws.PARTITION}:s3:::{name}"},
                        "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                    },
                )
            )
            notifications.append(
                s3.CfnBucket.QueueConfigurationProperty(
                    event="s3:ObjectCreated:*",
                    queue=queue.queue_arn,
                    filter=s3.CfnBucket.NotificationFilterProperty(
                        s3_key=s3.CfnBucket.S3KeyFilterProperty(
                            rules=[s3.CfnBucket.FilterRuleProperty(name="prefix", value=prefix)]
                        )
                    ),
                )
            )
            if policy.policy_dependable is not None:
                bucket.node.add_dependency(policy.policy_dependable)
        if notifications:
            cfn_bucket: s3.CfnBucket = bucket.node.default_child
            cfn_bucket.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
                queue_configurations=notifications
            )
        self.buckets[env] = bucket
        self.env_vars[env] = name

    # --- functions and their roles --------------------------------------------------------------
    def _role(self, name: str, description: str) -> iam.Role:
        role = iam.Role(
            self,
            f"{name}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Chorale {self.stage.name}: {description}",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="Logs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[
                    f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:/aws/lambda/{self.stack_name}-*"
                ],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="Traces",
                actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                resources=["*"],  # X-Ray has no resource-level permissions
            )
        )
        return role

    def _functions(self) -> dict[str, object]:
        """Every Lambda function in chalice's template, each with its own role and memory size."""
        template = self.chalice.sam_template
        functions = {}
        for logical_id in self._chalice_resources("AWS::Serverless::Function"):
            function = template.get_resource(logical_id)
            grants = access.FUNCTION_ACCESS.get(logical_id)
            if grants is None:
                Annotations.of(self).add_warning(
                    f"{logical_id}: no entry in infra/chorale_infra/access.py: given the app-wide data-plane policy"
                )
                grants = self._everything()
            role = self._role(logical_id, f"{logical_id} function")
            self._grant(role, grants)
            function.add_property_override("Role", role.role_arn)
            self._roles_policies.append((function, role))
            function.add_property_override(
                "MemorySize", self.stage.memory_mb.get(logical_id, self.stage.default_memory_mb)
            )
            default_timeout = (
                self.stage.api_timeout_seconds if logical_id in API_FUNCTIONS else self.stage.default_timeout_seconds
            )
            function.add_property_override("Timeout", self.stage.timeout_seconds.get(logical_id, default_timeout))
            function_name = f"{self.stack_name}-{logical_id}"
            function.add_property_override("FunctionName", function_name)
            if not self.stage.public_base_url and logical_id not in API_FUNCTIONS:
                # The links of the events and mails these functions send: API Gateway's own address with its
                # stage (the API's functions take it from each request; the RestAPI refers to them: a cycle).
                function.add_property_override("Environment.Variables.PUBLIC_BASE_URL", self._api_url().rstrip("/"))
            # Our own log group (chalice's log_retention_in_days names APIHandler's wrongly): retention
            # bounds the storage bill, and the role needs no logs:CreateLogGroup.
            log_group = logs.CfnLogGroup(
                self,
                f"{logical_id}Logs",
                log_group_name=f"/aws/lambda/{function_name}",
                retention_in_days=self.stage.log_retention_days,
            )
            function.add_resource_dependency(log_group)
            functions[logical_id] = (function, role)
        return functions

    def _locked(self, prefix: str) -> bool:
        """Whether objects under `prefix` are legal records the app locks on this stage."""
        records = tuple(self.model.get("legal_record_prefixes", ()))
        return self.stage.object_lock_mode != "OFF" and bool(records) and prefix.startswith(records)

    def _chalice_resources(self, resource_type: str) -> list[str]:
        return [
            logical_id
            for logical_id, resource in self._sam_json()["Resources"].items()
            if resource["Type"] == resource_type
        ]

    def _sam_json(self) -> dict:
        if not hasattr(self, "_sam_cache"):
            import glob
            import os

            path = os.path.join(self.chalice._sam_package_dir, "sam.json")
            self._sam_cache = json.load(open(glob.glob(path)[0]))
        return self._sam_cache

    def _everything(self) -> dict:
        return {
            "tables": {env: "rw" for env in self.tables},
            "objects": {"": "rw"},
            "queues": {env: "send" for env in {**self.queues, **self.held_queues}},
            "topics": {env: "publish" for env in self.topics},
        }

    def _table_arns(self, env: str) -> list[str]:
        table = self.tables[env]
        return [table.attr_arn, f"{table.attr_arn}/index/*"]

    def _grant(self, role: iam.Role, grants: dict) -> None:
        for env, level in grants.get("tables", {}).items():
            if env not in self.tables:
                continue
            actions = access.TABLE_READ + (access.TABLE_WRITE if level == "rw" else ())
            role.add_to_policy(iam.PolicyStatement(actions=list(actions), resources=self._table_arns(env)))
        bucket = next(iter(self.buckets.values()), None)
        objects = grants.get("objects", {})
        if bucket is not None and objects:
            for prefix, level in objects.items():
                actions = (
                    access.OBJECT_READ
                    + (access.OBJECT_WRITE if level in ("rw", "rwd") else ())
                    + (access.OBJECT_DELETE if level == "rwd" else ())
                    + (access.OBJECT_RETAIN if level in ("rl", "rw", "rwd") and self._locked(prefix) else ())
                )
                role.add_to_policy(
                    iam.PolicyStatement(actions=list(actions), resources=[bucket.arn_for_objects(f"{prefix}*")])
                )
            role.add_to_policy(iam.PolicyStatement(actions=list(access.BUCKET_LIST), resources=[bucket.bucket_arn]))
        for env in grants.get("queues", {}):
            base, _, dlq = env.partition(":")
            queue = self.dlqs.get(base) if dlq else self.queues.get(base) or self.held_queues.get(base)
            if queue is not None:
                role.add_to_policy(iam.PolicyStatement(actions=list(access.QUEUE_SEND), resources=[queue.queue_arn]))
        if grants.get("email"):
            sender = self.stage.mail_sender or self.model["mail_sender"]
            domain = sender.rsplit("@", 1)[-1]
            identity = f"arn:{Aws.PARTITION}:ses:{Aws.REGION}:{Aws.ACCOUNT_ID}:identity"
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=list(access.EMAIL_SEND),
                    resources=[f"{identity}/{domain}", f"{identity}/{sender}"],
                    conditions={"StringEquals": {"ses:FromAddress": sender}},
                )
            )
        for env in grants.get("topics", {}):
            if env in self.topics:
                topic_arn = self.topics[env].topic_arn
                role.add_to_policy(iam.PolicyStatement(actions=list(access.TOPIC_PUBLISH), resources=[topic_arn]))
                # SNS encrypts with the publisher's rights: this topic's own key, only through SNS. No encryption
                # context condition: SNS documents none for publishers, and a wrong one would refuse every publish.
                role.add_to_policy(
                    iam.PolicyStatement(
                        actions=list(access.TOPIC_KEY_USE),
                        resources=[self.topic_keys[env].key_arn],
                        conditions={"StringEquals": {"kms:ViaService": f"sns.{Aws.REGION}.{Aws.URL_SUFFIX}"}},
                    )
                )

    # --- event sources ---------------------------------------------------------------------------
    def _event_sources(self) -> None:
        sam = self._sam_json()["Resources"]
        for source in self.model["event_sources"]:
            logical_id = cfn_name(source["function"])
            function, role = self.functions[logical_id]
            events = sam[logical_id]["Properties"].get("Events", {})
            (event_name,) = list(events)
            path = f"Events.{event_name}.Properties"
            if source["kind"] == "SQSEventConfig":
                queue = self.queues[source["queue_env"]]
                consumer = QUEUE_CONSUMERS.get(source["queue_env"], {})
                if "timeout" in consumer:
                    function.add_property_override("Timeout", consumer["timeout"])
                if "memory" in consumer and logical_id not in self.stage.memory_mb:
                    function.add_property_override("MemorySize", consumer["memory"])
                function.add_property_override(f"{path}.Queue", queue.queue_arn)
                function.add_property_override(f"{path}.FunctionResponseTypes", ["ReportBatchItemFailures"])
                cap = getattr(self.stage, QUEUE_MAX_CONCURRENCY[source["queue_env"]])
                function.add_property_override(f"{path}.ScalingConfig", {"MaximumConcurrency": cap})
                role.add_to_policy(iam.PolicyStatement(actions=list(access.QUEUE_CONSUME), resources=[queue.queue_arn]))
            elif source["kind"] == "DynamoDBEventConfig":
                table = self.tables[source["table_env"]]
                failures = sqs.Queue(
                    self,
                    f"{logical_id}Failures",
                    queue_name=f"{self.prefix}-{source['function'].replace('_', '-')}-failures",
                    retention_period=Duration.days(14),
                    encryption=sqs.QueueEncryption.SQS_MANAGED,
                    enforce_ssl=True,
                )
                self.dlqs[f"{logical_id}Failures"] = failures
                self.stream_consumers.append(logical_id)
                function.add_property_override(f"{path}.Stream", table.attr_stream_arn)
                function.add_property_override(f"{path}.FunctionResponseTypes", ["ReportBatchItemFailures"])
                function.add_property_override(f"{path}.BisectBatchOnFunctionError", True)
                function.add_property_override(f"{path}.MaximumRetryAttempts", 10)
                function.add_property_override(f"{path}.MaximumRecordAgeInSeconds", 24 * 3600)
                function.add_property_override(f"{path}.ParallelizationFactor", self.stage.stream_parallelization)
                function.add_property_override(
                    f"{path}.DestinationConfig", {"OnFailure": {"Type": "SQS", "Destination": failures.queue_arn}}
                )
                role.add_to_policy(
                    iam.PolicyStatement(actions=list(access.STREAM_READ), resources=[table.attr_stream_arn])
                )
                role.add_to_policy(iam.PolicyStatement(actions=["dynamodb:ListStreams"], resources=["*"]))
                role.add_to_policy(iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[failures.queue_arn]))
            else:
                Annotations.of(self).add_warning(f"{logical_id}: event source {source['kind']} not wired by infra")

    # --- API Gateway -----------------------------------------------------------------------------
    def _api(self) -> None:
        if "RestAPI" not in self._sam_json()["Resources"]:
            return
        api = self.chalice.get_resource("RestAPI")
        api.add_property_override("Name", self.stack_name)  # one API name per stage (metrics dimension)
        api.add_property_override("TracingEnabled", True)
        api.add_property_override(
            "MethodSettings",
            [
                {
                    "ResourcePath": "/*",
                    "HttpMethod": "*",
                    "ThrottlingRateLimit": self.stage.api_rate_limit,
                    "ThrottlingBurstLimit": self.stage.api_burst_limit,
                    # No per-method detailed metrics: 5 custom metrics per method ($0.30 each a month) nobody reads;
                    # the alarms and the dashboard use the stage's own ({ApiName, Stage}), which are free.
                }
            ],
        )
        if pattern := self.model.get("bearer_header_pattern"):
            for name in self.model["authorizers"]:
                authorizer = f"DefinitionBody.securityDefinitions.{name}.x-amazon-apigateway-authorizer"
                api.add_property_override(f"{authorizer}.identityValidationExpression", pattern)
        content_type = self.model["problem_content_type"]
        for kind, body in self.model["gateway_problems"].items():
            template = json.dumps({**body, "instance": "$context.path", "request_id": "$context.requestId"})
            # private like the app's own problems (entrypoints/problems.py): no proxy keeps a 401 or a 404
            parameters = {
                "gatewayresponse.header.Content-Type": f"'{content_type}'",
                "gatewayresponse.header.Cache-Control": "'no-store'",
            }
            if body["status"] == 401:
                parameters["gatewayresponse.header.WWW-Authenticate"] = "'Bearer'"
            if "retry_after_seconds" in body:
                parameters["gatewayresponse.header.Retry-After"] = f"'{body['retry_after_seconds']}'"
            CfnGatewayResponse(
                self,
                f"Gateway{kind.title().replace('_', '')}",
                rest_api_id=api.ref,
                response_type=kind,
                status_code=str(body["status"]),
                response_parameters=parameters,
                response_templates={"application/json": template, content_type: template},
            )

    def _api_url(self) -> str:
        return f"https://{self.chalice.get_resource('RestAPI').ref}.execute-api.{Aws.REGION}.{Aws.URL_SUFFIX}/api/"
