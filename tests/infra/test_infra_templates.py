"""Properties of the synthesized CloudFormation templates (run `make infra-test`: it synthesizes first).

Skipped when infra/cdk.out holds no template (a plain `make test` on a fresh clone).
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import pytest

from chalicelib import config
from chalicelib.entrypoints.problems import (
    GATEWAY_PROBLEMS,
    PROBLEM_JSON,
    THROTTLED_RETRY_AFTER_SECONDS,
    UNAVAILABLE_RETRY_AFTER_SECONDS,
)

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "infra"))
CDK_OUT = ROOT / "infra" / "cdk.out"
STAGES = ("dev", "prod")
LOCAL_ONLY = {"MAIL_OUTBOX_TABLE"}  # infra/chorale_infra/stack.py: settings with no AWS resource

if not all((CDK_OUT / f"{stage}.template.json").exists() for stage in STAGES):
    pytest.skip("no synthesized templates: run `make infra-test`", allow_module_level=True)


@pytest.fixture(scope="module", params=STAGES)
def template(request) -> dict:
    return json.loads((CDK_OUT / f"{request.param}.template.json").read_text())


def resources(template: dict, kind: str) -> dict[str, dict]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def props(resource: dict) -> dict:
    return resource.get("Properties", {})


def ref_id(value) -> str | None:
    """The logical id behind {"Ref": id} or {"Fn::GetAtt": [id, attr]}."""
    if isinstance(value, dict):
        if "Ref" in value:
            return value["Ref"]
        if "Fn::GetAtt" in value:
            return value["Fn::GetAtt"][0]
    return None


def functions(template: dict) -> dict[str, dict]:
    return resources(template, "AWS::Serverless::Function")


def event_sources(template: dict):
    for name, function in functions(template).items():
        for event_name, event in (props(function).get("Events") or {}).items():
            yield name, event_name, event


def stage_of(template: dict) -> str:
    return next(iter(resources(template, "AWS::Serverless::Function").values()))["Properties"]["Tags"]["stage"]


def function_env(template: dict) -> dict:
    return props(next(iter(functions(template).values())))["Environment"]["Variables"]


def given_up_queue(template: dict) -> tuple[str, dict]:
    """The queue the app parks the webhook deliveries it gave up on in (no DLQ, no consumer)."""
    name = function_env(template)["WEBHOOK_GIVEN_UP_QUEUE"]
    [(queue_id, queue)] = [
        (k, q) for k, q in resources(template, "AWS::SQS::Queue").items() if props(q)["QueueName"] == name
    ]
    return queue_id, queue


# --- queues ---------------------------------------------------------------------------------------
def test_every_queue_has_a_dlq_or_is_one(template):
    queues = resources(template, "AWS::SQS::Queue")
    dlq_targets = {
        ref_id(props(q)["RedrivePolicy"]["deadLetterTargetArn"]) for q in queues.values() if "RedrivePolicy" in props(q)
    }
    failure_destinations = {
        ref_id(event["Properties"]["DestinationConfig"]["OnFailure"]["Destination"])
        for _, _, event in event_sources(template)
        if "DestinationConfig" in event["Properties"]
    }
    assert dlq_targets, "no queue has a redrive policy"
    held = {given_up_queue(template)[0]}
    for name, queue in queues.items():
        if name in dlq_targets or name in failure_destinations or name in held:
            assert props(queue)["MessageRetentionPeriod"] == 14 * 24 * 3600, f"{name}: DLQs keep 14 days"
            continue
        redrive = props(queue).get("RedrivePolicy")
        assert redrive, f"queue {name} has no DLQ"
        assert redrive["maxReceiveCount"] >= 1


def test_queues_are_encrypted_and_tls_only(template):
    for name, queue in resources(template, "AWS::SQS::Queue").items():
        assert props(queue).get("SqsManagedSseEnabled") is True, name
    policies = resources(template, "AWS::SQS::QueuePolicy")
    secured = {
        ref_id(queue_ref)
        for policy in policies.values()
        for statement in props(policy)["PolicyDocument"]["Statement"]
        if statement["Effect"] == "Deny"
        and statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
        for queue_ref in props(policy)["Queues"]
    }
    assert secured == set(resources(template, "AWS::SQS::Queue"))


def test_validation_queue_redrive_follows_the_app_setting(template):
    queues = resources(template, "AWS::SQS::Queue")
    env = function_env(template)
    (queue,) = [q for q in queues.values() if props(q)["QueueName"] == env["VALIDATION_QUEUE"]]
    # the handler gives up at the receive its environment says: the queue dead-letters after that one (review r28)
    assert props(queue)["RedrivePolicy"]["maxReceiveCount"] == int(env["VALIDATION_MAX_RECEIVES"])


def test_inbox_queue_redrive_follows_the_app_setting(template):
    queues = resources(template, "AWS::SQS::Queue")
    env = function_env(template)
    (queue,) = [q for q in queues.values() if props(q)["QueueName"] == env["INBOX_QUEUE"]]
    # the expander gives up at the receive its environment says, not at the validation queue's (review r59 F1)
    assert props(queue)["RedrivePolicy"]["maxReceiveCount"] == int(env["INBOX_MAX_RECEIVES"])


def test_a_stage_s_own_inbox_max_receives_sets_its_queue(tmp_path):
    from chorale_infra.stages import inbox_max_receives

    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    config["stages"]["prod"]["environment_variables"]["INBOX_MAX_RECEIVES"] = "7"
    del config["environment_variables"]["INBOX_MAX_RECEIVES"]
    (tmp_path / ".chalice").mkdir()
    (tmp_path / ".chalice" / "config.json").write_text(json.dumps(config))
    assert inbox_max_receives(tmp_path, "prod") == 7
    assert inbox_max_receives(tmp_path, "dev") == 5  # the app's default (chalicelib/config.py)


def test_a_stage_s_own_validation_max_receives_sets_its_queue(tmp_path):
    """Review r28: a per-stage VALIDATION_MAX_RECEIVES reached the functions but not the queue (top-level only,
    else 3 where the app's default is 5): invoices would reach the DLQ unmarked, or be marked failed and retried."""
    from chorale_infra.stages import validation_max_receives

    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    config["stages"]["prod"]["environment_variables"]["VALIDATION_MAX_RECEIVES"] = "8"
    del config["environment_variables"]["VALIDATION_MAX_RECEIVES"]
    (tmp_path / ".chalice").mkdir()
    (tmp_path / ".chalice" / "config.json").write_text(json.dumps(config))
    assert validation_max_receives(tmp_path, "prod") == 8
    assert validation_max_receives(tmp_path, "dev") == 5  # the app's default (chalicelib/config.py)


def test_visibility_timeout_covers_six_consumer_timeouts(template):
    """Lambda's guidance: a queue's visibility timeout ≥ 6 × its consumer's timeout (no overlapping retries)."""
    queues = resources(template, "AWS::SQS::Queue")
    consumed = 0
    for name, _, event in event_sources(template):
        if event["Type"] == "SQS":
            queue = queues[ref_id(event["Properties"]["Queue"])]
            assert props(queue)["VisibilityTimeout"] >= 6 * props(functions(template)[name])["Timeout"], name
            consumed += 1
    assert consumed >= 2


def test_every_queue_consumer_has_a_concurrency_cap(template):
    """Review r37: only the validation's event source had a MaximumConcurrency; receivers that hang could scale
    DeliverWebhooks past the account's 1,000 executions and throttle the API. Each cap is a stage setting."""
    from chorale_infra.stages import STAGES as SETTINGS

    stage = SETTINGS[stage_of(template)]
    env = function_env(template)
    queues = {k: props(q)["QueueName"] for k, q in resources(template, "AWS::SQS::Queue").items()}
    caps = {
        queues[ref_id(event["Properties"]["Queue"])]: event["Properties"]
        .get("ScalingConfig", {})
        .get("MaximumConcurrency")
        for _, _, event in event_sources(template)
        if event["Type"] == "SQS"
    }
    assert caps == {
        env["VALIDATION_QUEUE"]: stage.validation_max_concurrency,
        env["WEBHOOK_DELIVERY_QUEUE"]: stage.webhook_delivery_max_concurrency,
        env["WEBHOOK_EVENTS_QUEUE"]: stage.webhook_events_max_concurrency,
        env["INBOX_QUEUE"]: stage.inbox_max_concurrency,
    }
    assert all(2 <= cap <= 1000 for cap in caps.values()), caps  # what Lambda accepts
    if stage.name == "prod":
        # infra/CAPACITY.md's budget: every capped consumer at its cap, plus the API at the peak, fits in 1,000
        assert sum(caps.values()) + 61 + 10 * 4 < 1000


def test_webhook_deliveries_given_up_have_their_own_queue_off_the_dlq_page(template):
    """Review r37: a receiver down past the retry age was dead-lettered by the app into the delivery DLQ, whose alarm
    pages at its first message: in ALARM for days on a customer's outage, it then hid our own crashes."""
    env = function_env(template)
    queue_id, queue = given_up_queue(template)
    assert props(queue)["QueueName"] == f"{env['WEBHOOK_DELIVERY_QUEUE']}-given-up"
    assert props(queue)["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert "RedrivePolicy" not in props(queue)
    consumed = {ref_id(e["Properties"]["Queue"]) for _, _, e in event_sources(template) if e["Type"] == "SQS"}
    assert queue_id not in consumed
    alarms = [props(a) for a in resources(template, "AWS::CloudWatch::Alarm").values()]
    on_it = [a for a in alarms if any(ref_id(d["Value"]) == queue_id for d in a.get("Dimensions", []))]
    [growing] = on_it  # no "not empty" page: only a sustained flow, hour after hour
    assert growing["MetricName"] == "NumberOfMessagesSent" and growing["Statistic"] == "Sum"
    assert growing["Period"] == 3600 and growing["EvaluationPeriods"] == 3 and growing["Threshold"] > 0
    (dashboard,) = resources(template, "AWS::CloudWatch::Dashboard").values()
    assert queue_id in json.dumps(props(dashboard)["DashboardBody"])
    # the SQS-redrive DLQ (our handler's crashes) keeps its page at the first message
    [dlq_alarm] = [a for a in alarms if a["AlarmName"].endswith("-WebhookDeliveryQueueDlqNotEmpty")]
    assert dlq_alarm["Threshold"] == 0


# --- bucket -----------------------------------------------------------------------------------------
def test_bucket_blocks_public_access_encrypts_versions_and_requires_tls(template):
    ((name, bucket),) = resources(template, "AWS::S3::Bucket").items()
    p = props(bucket)
    assert p["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert p["VersioningConfiguration"]["Status"] == "Enabled"
    (rule,) = p["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert p["OwnershipControls"]["Rules"][0]["ObjectOwnership"] == "BucketOwnerEnforced"
    (policy,) = resources(template, "AWS::S3::BucketPolicy").values()
    assert ref_id(props(policy)["Bucket"]) == name
    assert any(
        s["Effect"] == "Deny" and s["Condition"]["Bool"]["aws:SecureTransport"] == "false"
        for s in props(policy)["PolicyDocument"]["Statement"]
    )


def test_browsers_may_post_presigned_uploads_and_nothing_else(template):
    (bucket,) = resources(template, "AWS::S3::Bucket").values()
    (rule,) = props(bucket)["CorsConfiguration"]["CorsRules"]
    assert sorted(rule["AllowedMethods"]) == ["GET", "POST"] and rule["AllowedOrigins"]
    assert not {"PUT", "DELETE"} & set(rule["AllowedMethods"])


def test_bucket_lifecycle_archives_expires_and_cleans_abandoned_uploads(template):
    (bucket,) = resources(template, "AWS::S3::Bucket").values()
    rules = {r["Id"]: r for r in props(bucket)["LifecycleConfiguration"]["Rules"]}
    archive = rules["archive-large-originals"]
    assert archive["Prefix"] == "originals/" and int(archive["ObjectSizeGreaterThan"]) >= 128 * 1024
    assert [t["StorageClass"] for t in archive["Transitions"]] == ["GLACIER_IR", "DEEP_ARCHIVE"]
    for prefix in ("originals", "renditions", "inbox", "attachments"):
        expiry = rules[f"expire-{prefix}-after-retention"]
        assert expiry["Prefix"] == f"{prefix}/"
        assert expiry["ExpirationInDays"] >= (3650 if stage_of(template) == "prod" else 1)
    cleanup = rules["incomplete-multipart-and-old-versions"]
    assert cleanup["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] <= 7
    # An expired record's version (behind its delete marker) goes soon after, not a second retention later (review
    # finding: NoncurrentDays counts from the expiry); on a locked stage a version goes only once its lock ends.
    assert cleanup["NoncurrentVersionExpiration"]["NoncurrentDays"] <= 30


LEGAL_RECORDS = ("originals/", "inbox/", "attachments/")  # services/layout.LEGAL_RECORD_PREFIXES


def test_object_lock_is_an_option_on_in_prod(template):
    """Prod locks each legal record for 10 years as the app writes it (no default retention: an upload not yet
    checked or a derived copy must be able to expire); whoever writes or takes in a record may lock it."""
    from chalicelib.services.layout import LEGAL_RECORD_PREFIXES

    assert LEGAL_RECORD_PREFIXES == LEGAL_RECORDS
    (bucket,) = resources(template, "AWS::S3::Bucket").values()
    p = props(bucket)
    env = function_env(template)
    if stage_of(template) == "prod":
        assert p["ObjectLockEnabled"] is True
        assert "Rule" not in p.get("ObjectLockConfiguration", {}), "no default retention"
        assert env["OBJECT_LOCK_MODE"] in ("GOVERNANCE", "COMPLIANCE")
        # locked the whole retention, not 10 of its 11 years (review finding)
        (originals,) = [
            r for r in p["LifecycleConfiguration"]["Rules"] if r["Id"] == "expire-originals-after-retention"
        ]
        assert int(env["OBJECT_LOCK_DAYS"]) == originals["ExpirationInDays"] >= 3650
        retaining = {
            ref_id(role) for _, policy in resources(template, "AWS::IAM::Policy").items()
            for statement in props(policy)["PolicyDocument"]["Statement"]
            if "s3:PutObjectRetention" in as_list(statement["Action"]) for role in props(policy)["Roles"]
        }  # fmt: skip
        for name in ("APIHandler", "ExpandInbox"):  # deposits, flows, attachments; bundles and uploaded flows
            assert ref_id(props(functions(template)[name])["Role"]) in retaining, name
    else:
        assert not p.get("ObjectLockEnabled") and "OBJECT_LOCK_MODE" not in env


def test_originals_notify_the_validation_queue_and_flow_files_the_inbox_queue(template):
    (bucket,) = resources(template, "AWS::S3::Bucket").values()
    queues = resources(template, "AWS::SQS::Queue")
    env = function_env(template)
    targets = {
        props(queues[ref_id(n["Queue"])])["QueueName"]: n
        for n in props(bucket)["NotificationConfiguration"]["QueueConfigurations"]
    }
    expected = {"VALIDATION_QUEUE": "originals/", "INBOX_QUEUE": "inbox/"}
    assert set(targets) == {env[var] for var in expected if var in env}
    for var, prefix in expected.items():
        if var in env:
            notification = targets[env[var]]
            assert notification["Event"] == "s3:ObjectCreated:*"
            assert notification["Filter"]["S3Key"]["Rules"] == [{"Name": "prefix", "Value": prefix}]
    assert "DependsOn" in bucket, "the bucket must wait for the queue policies that let S3 send"


# --- tables -----------------------------------------------------------------------------------------
def tables_by_env(template: dict) -> dict[str, dict]:
    env = function_env(template)
    by_name = {props(t)["TableName"]: t for t in resources(template, "AWS::DynamoDB::Table").values()}
    return {var: by_name[value] for var, value in env.items() if var.endswith("_TABLE") and value in by_name}


def test_every_table_setting_has_a_table(template):
    settings = [f.name.upper() for f in dataclasses.fields(config.Settings) if f.name.endswith("_table")]
    assert sorted(tables_by_env(template)) == sorted(s for s in settings if s not in LOCAL_ONLY)


def test_tables_are_on_demand_with_pitr_and_encryption(template):
    for name, table in resources(template, "AWS::DynamoDB::Table").items():
        p = props(table)
        assert p["BillingMode"] == "PAY_PER_REQUEST", name
        assert p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True, name
        assert p["SSESpecification"]["SSEEnabled"] is True, name
        if stage_of(template) == "prod":
            assert p["DeletionProtectionEnabled"] is True, name
            assert table["DeletionPolicy"] == "Retain", name


def hash_first(key_schema: list[dict]) -> list[dict]:
    return sorted(key_schema, key=lambda key: key["KeyType"] != "HASH")


def test_tables_match_the_pynamodb_models(template):
    """Keys, GSIs, LSIs and streams come from the models: infra cannot drift from the code."""
    tables = tables_by_env(template)
    env_by_default = {
        getattr(config.settings(), f.name): f.name.upper()
        for f in dataclasses.fields(config.Settings)
        if f.name.endswith("_table")
    }
    from chorale_infra.introspect import all_models
    from pynamodb.models import Model

    import app  # noqa: F401  (loads every model the functions use)

    models = [m for m in all_models(Model) if m.Meta.table_name in env_by_default]
    assert any(m.__name__ == "InvoiceRecord" for m in models)
    for model in models:
        env = env_by_default[model.Meta.table_name]
        if env in LOCAL_ONLY:
            continue
        p = props(tables[env])
        schema = model._get_schema()
        assert p["KeySchema"] == hash_first(schema["key_schema"]), model.__name__
        assert sorted(p["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == sorted(
            schema["attribute_definitions"], key=lambda a: a["AttributeName"]
        ), model.__name__
        expected_gsis = {
            i["index_name"]: (hash_first(i["key_schema"]), i["projection"]) for i in schema["global_secondary_indexes"]
        }
        actual_gsis = {i["IndexName"]: (i["KeySchema"], i["Projection"]) for i in p.get("GlobalSecondaryIndexes", [])}
        assert actual_gsis == expected_gsis, model.__name__
        expected_lsis = {i["index_name"] for i in schema["local_secondary_indexes"]}
        assert {i["IndexName"] for i in p.get("LocalSecondaryIndexes", [])} == expected_lsis, model.__name__
        stream = getattr(model.Meta, "stream_view_type", None)
        assert p.get("StreamSpecification", {}).get("StreamViewType") == stream, model.__name__


def test_invoice_table_streams_both_images_and_idempotency_records_expire(template):
    tables = tables_by_env(template)
    assert props(tables["INVOICE_TABLE"])["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    ttl = props(tables["IDEMPOTENCY_TABLE"])["TimeToLiveSpecification"]
    assert ttl == {"AttributeName": "expiration", "Enabled": True}
    # mail markers and unconfirmed addresses (review r41: they were kept for ever)
    mail_markers = props(tables["SUBSCRIPTION_TABLE"])["TimeToLiveSpecification"]
    assert mail_markers == {"AttributeName": "expires", "Enabled": True}
    assert props(tables["IDEMPOTENCY_TABLE"])["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]


def test_invoice_flow_and_number_records_expire_with_the_originals(template):
    """Review r41: the records describing an original (names, totals, comments) outlived it for ever. They expire
    by TTL the retention after their deposit, the days the bucket expires the originals after."""
    tables = tables_by_env(template)
    for env in ("INVOICE_TABLE", "FLOW_TABLE", "NUMBER_TABLE"):
        assert props(tables[env])["TimeToLiveSpecification"] == {"AttributeName": "expires", "Enabled": True}, env
    (bucket,) = resources(template, "AWS::S3::Bucket").values()
    rules = {r["Id"]: r for r in props(bucket)["LifecycleConfiguration"]["Rules"]}
    retention = rules["expire-originals-after-retention"]["ExpirationInDays"]
    assert int(function_env(template)["RETENTION_DAYS"]) == retention == (4018 if stage_of(template) == "prod" else 90)


# --- functions and event sources ---------------------------------------------------------------------
def test_functions_are_arm64_traced_with_own_role_memory_and_log_retention(template):
    roles = set()
    log_groups = {props(g)["LogGroupName"]: g for g in resources(template, "AWS::Logs::LogGroup").values()}
    for name, function in functions(template).items():
        p = props(function)
        assert p["Architectures"] == ["arm64"], name
        assert p["Tracing"] == "Active", name
        assert 128 <= p["MemorySize"] <= 3008, name
        role = ref_id(p["Role"])
        assert role in resources(template, "AWS::IAM::Role"), f"{name} must use a role defined in the stack"
        roles.add(role)
        policies = [
            k
            for k, r in resources(template, "AWS::IAM::Policy").items()
            if any(ref_id(x) == role for x in props(r)["Roles"])
        ]
        assert set(policies) <= set(function.get("DependsOn", [])), f"{name} must wait for its role's policy"
        group = log_groups[f"/aws/lambda/{p['FunctionName']}"]
        assert props(group)["RetentionInDays"] <= 90
    assert len(roles) == len(functions(template)), "one role per function"


def test_event_functions_link_to_the_api_s_own_address(template):
    """Events and mails built outside a request (webhooks, flow notices) carry links a receiver can follow: API
    Gateway's address with its stage, unless the stage names its own (custom domain)."""
    for name, function in functions(template).items():
        variables = props(function)["Environment"]["Variables"]
        if name in ("APIHandler", "ApiKeyAuthorizer"):  # from each request (and RestAPI refers to them)
            assert "PUBLIC_BASE_URL" not in variables, name
            continue
        url = variables["PUBLIC_BASE_URL"]
        assert "RestAPI" in json.dumps(url) and json.dumps(url).endswith('/api"]]}'), (name, url)


def test_every_event_source_reports_batch_item_failures(template):
    kinds = set()
    for name, event_name, event in event_sources(template):
        kinds.add(event["Type"])
        assert event["Properties"].get("FunctionResponseTypes") == ["ReportBatchItemFailures"], (name, event_name)
        if event["Type"] == "DynamoDB":
            p = event["Properties"]
            assert p["BisectBatchOnFunctionError"] is True
            assert p["MaximumRetryAttempts"] >= 1 and p["MaximumRecordAgeInSeconds"] > 0
            assert p["DestinationConfig"]["OnFailure"]["Type"] == "SQS"
            assert ref_id(p["Stream"]) in resources(template, "AWS::DynamoDB::Table"), "placeholder ARN replaced"
        if event["Type"] == "SQS":
            assert ref_id(event["Properties"]["Queue"]) in resources(template, "AWS::SQS::Queue")
    assert {"SQS", "DynamoDB"} <= kinds


# --- IAM --------------------------------------------------------------------------------------------
def statements(template: dict):
    for name, policy in resources(template, "AWS::IAM::Policy").items():
        for statement in props(policy)["PolicyDocument"]["Statement"]:
            yield name, statement


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def test_no_wildcard_actions_and_data_resources_are_named(template):
    for name, statement in statements(template):
        for action in as_list(statement["Action"]):
            assert "*" not in action, f"{name}: wildcard action {action}"
            if action.split(":")[0] in ("s3", "dynamodb", "sqs", "sns", "kms") and action != "dynamodb:ListStreams":
                assert "*" not in as_list(statement["Resource"]), f"{name}: {action} on every resource"
    # Roles carry no AWS managed policy with broad rights.
    for name, role in resources(template, "AWS::IAM::Role").items():
        assert not props(role).get("ManagedPolicyArns"), name


def events_topic(template: dict) -> tuple[str, dict]:
    """The topic the functions publish status events to (their EVENTS_TOPIC_ARN)."""
    topic_id = ref_id(function_env(template)["EVENTS_TOPIC_ARN"])
    return topic_id, template["Resources"][topic_id]


def test_the_events_topic_is_encrypted_with_a_rotated_key_of_its_own(template):
    """Issue 7 (Security Hub SNS.1): the status events topic was not encrypted at rest."""
    _, topic = events_topic(template)
    key_id = ref_id(props(topic).get("KmsMasterKeyId"))
    assert key_id in resources(template, "AWS::KMS::Key"), props(topic).get("KmsMasterKeyId")
    assert props(template["Resources"][key_id])["EnableKeyRotation"] is True


# The functions whose code publishes status events (services/publishing.py, through EVENTS_TOPIC_ARN).
EVENT_PUBLISHERS = {"ValidateInvoices", "PublishStatusEvents", "ExpandInbox"}


def test_only_the_topic_s_publishers_may_use_its_key_only_through_sns(template):
    """SNS encrypts with the publisher's rights: each publisher needs GenerateDataKey and Decrypt on the topic's key
    (a key of this topic alone), and nothing else may use that key, nor use it outside SNS."""
    _, topic = events_topic(template)
    key_id = ref_id(props(topic)["KmsMasterKeyId"])
    roles = {ref_id(props(f)["Role"]): name for name, f in functions(template).items()}
    users: dict[str, set[str]] = {}
    for policy in resources(template, "AWS::IAM::Policy").values():
        for statement in props(policy)["PolicyDocument"]["Statement"]:
            actions = {a for a in as_list(statement["Action"]) if a.startswith("kms:")}
            if not actions:
                continue
            assert [ref_id(r) for r in as_list(statement["Resource"])] == [key_id], statement["Resource"]
            assert actions == {"kms:GenerateDataKey", "kms:Decrypt"}, actions
            condition = statement["Condition"]["StringEquals"]
            assert "sns." in json.dumps(condition["kms:ViaService"])
            for role in props(policy)["Roles"]:
                users.setdefault(roles.get(ref_id(role), ref_id(role)), set()).update(actions)
    assert set(users) == EVENT_PUBLISHERS, users


def table_actions(template: dict, function: str, setting: str) -> set[str]:
    """The actions `function`'s role may take on the table its environment names in `setting`."""
    name = props(functions(template)[function])["Environment"]["Variables"][setting]
    [table] = [k for k, r in resources(template, "AWS::DynamoDB::Table").items() if props(r)["TableName"] == name]
    role = ref_id(props(functions(template)[function])["Role"])
    found = set()
    for policy in resources(template, "AWS::IAM::Policy").values():
        if role not in [ref_id(r) for r in props(policy)["Roles"]]:
            continue
        for statement in props(policy)["PolicyDocument"]["Statement"]:
            if any(ref_id(r) == table for r in as_list(statement["Resource"])):
                found |= set(as_list(statement["Action"]))
    return found


# Calls the code makes that moto, which enforces no IAM, cannot prove allowed: (function, table setting, action).
NEEDED = [
    ("ExpandInbox", "STRUCTURE_TABLE", "dynamodb:GetItem"),  # is the depositor still an active supplier?
    ("ExpandInbox", "FLOW_TABLE", "dynamodb:UpdateItem"),
    ("ExpandInbox", "INVOICE_TABLE", "dynamodb:BatchGetItem"),  # outcomes of a flow complete at expansion
    ("ValidateInvoices", "STRUCTURE_TABLE", "dynamodb:GetItem"),  # routing, and the depositor of a flow
    ("ValidateInvoices", "NUMBER_TABLE", "dynamodb:PutItem"),  # the number claim
    ("ApiKeyAuthorizer", "API_KEY_TABLE", "dynamodb:GetItem"),
    ("DeliverWebhooks", "DELIVERY_LOG_TABLE", "dynamodb:PutItem"),
    ("DeliverWebhooks", "DELIVERY_LOG_TABLE", "dynamodb:DeleteItem"),  # an e-mail's mark, given back at give-up
    ("FanOutEvents", "STRUCTURE_TABLE", "dynamodb:BatchGetItem"),  # are the subscribers' structures active? (r23)
]


@pytest.mark.parametrize("function, setting, action", NEEDED)
def test_each_function_may_make_the_calls_its_code_makes(template, function, setting, action):
    """Review finding: ExpandInbox could not read the structures table, so every flow would have stayed IN_RECU."""
    assert action in table_actions(template, function, setting), f"{function}: {action} on {setting}"


def test_every_function_declares_its_access():
    """A new Lambda function needs its line in infra/chorale_infra/access.py (else: app-wide data-plane policy)."""
    from chorale_infra import access

    template = json.loads((CDK_OUT / "prod.template.json").read_text())
    missing = sorted(set(functions(template)) - set(access.FUNCTION_ACCESS))
    assert not missing, f"add these functions' access to infra/chorale_infra/access.py: {missing}"


def test_bucket_and_table_access_is_explicit(template):
    tables = set(resources(template, "AWS::DynamoDB::Table"))
    (bucket,) = resources(template, "AWS::S3::Bucket")
    touched = set()
    for _, statement in statements(template):
        for resource in as_list(statement["Resource"]):
            text = json.dumps(resource)
            touched |= {t for t in tables if f'"{t}"' in text}
            if f'"{bucket}"' in text:
                allowed = ("s3:GetObject", "s3:PutObject", "s3:ListBucket")
                if "/attachments/*" in text:  # a refused attachment upload is deleted, nothing else is
                    allowed += ("s3:DeleteObject",)
                if stage_of(template) == "prod" and any(f"/{p}*" in text for p in LEGAL_RECORDS):
                    allowed += ("s3:PutObjectRetention",)  # the records' own retention (Object Lock)
                assert all(a in allowed for a in as_list(statement["Action"])), (text, statement["Action"])
    assert touched, "no function may use any table?"


# --- API ---------------------------------------------------------------------------------------------
def test_gateway_responses_are_problem_json_from_the_apps_table(template):
    responses = {
        props(r)["ResponseType"]: props(r) for r in resources(template, "AWS::ApiGateway::GatewayResponse").values()
    }
    assert set(responses) == set(GATEWAY_PROBLEMS)
    for kind, (status, title, detail) in GATEWAY_PROBLEMS.items():
        response = responses[kind]
        assert response["StatusCode"] == str(status), kind
        assert response["ResponseParameters"]["gatewayresponse.header.Content-Type"] == f"'{PROBLEM_JSON}'"
        assert response["ResponseParameters"]["gatewayresponse.header.Cache-Control"] == "'no-store'"  # review r25
        for body in response["ResponseTemplates"].values():
            problem = json.loads(body)
            assert (problem["status"], problem["title"], problem["detail"]) == (status, title, detail)
            assert problem["type"].startswith("https://")
    assert responses["ACCESS_DENIED"]["StatusCode"] == "401"
    # an authorizer that failed (DynamoDB throttled at the peak) is a 503 to retry, with its delay
    for kind in ("AUTHORIZER_FAILURE", "AUTHORIZER_CONFIGURATION_ERROR"):
        failure = responses[kind]
        assert failure["StatusCode"] == "503"
        retry_after = failure["ResponseParameters"]["gatewayresponse.header.Retry-After"]
        assert retry_after == f"'{UNAVAILABLE_RETRY_AFTER_SECONDS}'"
        for body in failure["ResponseTemplates"].values():
            assert json.loads(body)["retry_after_seconds"] == UNAVAILABLE_RETRY_AFTER_SECONDS
    # review r40 F3: a throttled request is told when to retry, as a header and in the problem
    throttled = responses["THROTTLED"]
    assert throttled["StatusCode"] == "429"
    assert throttled["ResponseParameters"]["gatewayresponse.header.Retry-After"] == f"'{THROTTLED_RETRY_AFTER_SECONDS}'"
    for body in throttled["ResponseTemplates"].values():
        assert json.loads(body)["retry_after_seconds"] == THROTTLED_RETRY_AFTER_SECONDS


def test_api_gateway_refuses_a_header_not_of_the_bearer_form_as_unauthorized(template):
    """Review r35: a bare key was judged by the authorizer and refused as "unknown, revoked..." (ACCESS_DENIED);
    API Gateway now checks the header's form with the app's own expression and answers UNAUTHORIZED ("Send your
    API key as 'Authorization: Bearer <key>'")."""
    from chalicelib.services.authentication import BEARER_HEADER_PATTERN

    (api,) = resources(template, "AWS::Serverless::Api").values()
    (definition,) = props(api)["DefinitionBody"]["securityDefinitions"].values()
    assert definition["x-amazon-apigateway-authorizer"]["identityValidationExpression"] == BEARER_HEADER_PATTERN


def test_api_is_throttled_and_traced(template):
    (api,) = resources(template, "AWS::Serverless::Api").values()
    p = props(api)
    assert p["TracingEnabled"] is True
    (settings,) = p["MethodSettings"]
    assert settings["ThrottlingRateLimit"] > 0 and settings["ThrottlingBurstLimit"] >= settings["ThrottlingRateLimit"]
    # per-method detailed metrics would be 5 custom metrics per method that no alarm or widget reads (review finding)
    assert not settings.get("MetricsEnabled")
    if stage_of(template) == "prod":
        assert settings["ThrottlingRateLimit"] >= 650, "the end-of-month peak (infra/CAPACITY.md)"


# --- monitoring --------------------------------------------------------------------------------------
def test_alarms_cover_dlqs_errors_throttles_and_queue_age(template):
    alarms = list(resources(template, "AWS::CloudWatch::Alarm").values())
    by_metric: dict[str, list] = {}
    for alarm in alarms:
        if "Metrics" in props(alarm):  # metric math: the API's 5XX rate (its own test)
            continue
        by_metric.setdefault(props(alarm)["MetricName"], []).append(props(alarm))
        assert props(alarm)["AlarmActions"], "every alarm notifies the alarm topic"
    queues = resources(template, "AWS::SQS::Queue")
    redriven = [q for q in queues.values() if "RedrivePolicy" in props(q)]
    dlqs = len(queues) - len(redriven) - 1  # the given-up queue is no DLQ (its own test)
    assert len(by_metric["ApproximateNumberOfMessagesVisible"]) == dlqs
    assert all(a["Threshold"] == 0 for a in by_metric["ApproximateNumberOfMessagesVisible"])
    assert len(by_metric["ApproximateAgeOfOldestMessage"]) == len(redriven)
    # one ordinary retry (back after the visibility timeout) does not page: the threshold is above it (review finding)
    for age in by_metric["ApproximateAgeOfOldestMessage"]:
        (queue_id,) = [ref_id(d["Value"]) for d in age["Dimensions"]]
        assert age["Threshold"] > props(queues[queue_id])["VisibilityTimeout"], queue_id
    assert len(by_metric["Errors"]) == len(functions(template))
    assert len(by_metric["Throttles"]) == len(functions(template))
    assert resources(template, "AWS::CloudWatch::Dashboard")
    [skipped] = by_metric["EventsUnsendable"]  # the publisher's skipped events, as the app emits the metric
    from chalicelib.entrypoints.observability import metrics

    assert skipped["Namespace"] == metrics.namespace
    # the app's `service` dimension is POWERTOOLS_SERVICE_NAME, one per stage: a dev stage in the same account
    # neither feeds nor fires prod's alarm (review finding: both stages read service=chorale)
    service = function_env(template)["POWERTOOLS_SERVICE_NAME"]
    assert service == f"chorale-{stage_of(template)}"
    assert skipped["Dimensions"] == [{"Name": "service", "Value": service}]
    assert all(
        props(f)["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"] == service for f in functions(template).values()
    )


def test_the_api_5xx_alarm_is_a_share_of_requests_not_a_count(template):
    """Ten 5XX in 5 minutes paged on noise at the end-of-month peak and stayed quiet on a quiet night's outage."""
    from chorale_infra.stages import STAGES as SETTINGS

    settings = SETTINGS[stage_of(template)]
    [api] = [
        props(a)
        for a in resources(template, "AWS::CloudWatch::Alarm").values()
        if props(a)["AlarmName"].endswith("-Api5xx")
    ]
    assert api["Threshold"] == settings.api_5xx_alarm_percent and api["ComparisonOperator"] == "GreaterThanThreshold"
    by_id = {m["Id"]: m for m in api["Metrics"]}
    [expression] = [m for m in api["Metrics"] if "Expression" in m]
    most, least = settings.api_5xx_alarm_max_errors, settings.api_5xx_alarm_min_errors
    assert expression["Expression"] == f"IF(errors >= {most}, 100, IF(errors >= {least}, 100 * errors / requests, 0))"
    assert least < most
    assert expression.get("ReturnData", True) is True
    for metric_id, name in (("errors", "5XXError"), ("requests", "Count")):
        stat = by_id[metric_id]["MetricStat"]
        assert by_id[metric_id]["ReturnData"] is False
        metric = stat["Metric"]
        assert (metric["Namespace"], metric["MetricName"], stat["Stat"]) == ("AWS/ApiGateway", name, "Sum")
        assert stat["Period"] == 300
        assert {d["Name"]: d["Value"] for d in metric["Dimensions"]} == {
            "ApiName": f"chorale-{stage_of(template)}",
            "Stage": "api",
        }


def test_the_stream_publisher_s_lag_pages_and_is_graphed(template):
    """Review r37: the publisher reports failures as batch item failures (its Errors stay quiet): a lagging publisher
    (late status events to every party) showed nowhere."""
    from chorale_infra.stages import STAGES as SETTINGS

    stream_consumers = {n for n, _, e in event_sources(template) if e["Type"] == "DynamoDB"}
    assert stream_consumers == {"PublishStatusEvents"}
    lags = [
        props(a)
        for a in resources(template, "AWS::CloudWatch::Alarm").values()
        if props(a).get("MetricName") == "IteratorAge"
    ]
    [lag] = lags
    assert lag["Dimensions"] == [{"Name": "FunctionName", "Value": f"chorale-{stage_of(template)}-PublishStatusEvents"}]
    assert lag["Statistic"] == "Maximum" and lag["Namespace"] == "AWS/Lambda"
    assert lag["Threshold"] == SETTINGS[stage_of(template)].stream_lag_alarm_seconds * 1000  # the metric is in ms
    (dashboard,) = resources(template, "AWS::CloudWatch::Dashboard").values()
    assert "IteratorAge" in json.dumps(props(dashboard)["DashboardBody"])


def test_api_functions_stop_before_api_gateway_does(template):
    """Review r37: the API's Lambda timeout was 30 s, past API Gateway's 29 s: a handler could still run after the
    client got its 504."""
    for name in ("APIHandler", "ApiKeyAuthorizer"):
        assert props(functions(template)[name])["Timeout"] <= 29, name


def test_cloudwatch_may_publish_to_the_alarm_topic(template):
    """Review finding: the TLS-only topic policy replaced SNS's default one, with no Allow for CloudWatch: no alarm
    would ever have been delivered."""
    [alarm_topic] = [k for k, r in resources(template, "AWS::SNS::Topic").items() if "Alarm" in k]
    allowed = [
        statement
        for policy in resources(template, "AWS::SNS::TopicPolicy").values()
        if alarm_topic in [ref_id(t) for t in props(policy)["Topics"]]
        for statement in props(policy)["PolicyDocument"]["Statement"]
        if statement["Effect"] == "Allow"
    ]
    assert any(
        s.get("Principal", {}).get("Service") == "cloudwatch.amazonaws.com"
        and "sns:Publish" in as_list(s["Action"])
        and "aws:SourceAccount" in s["Condition"]["StringEquals"]
        for s in allowed
    ), allowed
    alarms = resources(template, "AWS::CloudWatch::Alarm").values()
    assert {ref_id(a) for r in alarms for a in props(r)["AlarmActions"]} == {alarm_topic}


def test_the_ops_scripts_name_the_stage_s_resources_as_infra_deploys_them():
    """infra/replay_events.py, infra/migrate.py and `make redrive QUEUE=chorale-<stage>-…` reach resources by their
    physical names."""
    from migrate import stage_environment as migrate_environment
    from replay_events import stage_environment, stream_publisher

    for stage in STAGES:
        deployed = json.loads((CDK_OUT / f"{stage}.template.json").read_text())
        assert stream_publisher(stage) in {props(f)["FunctionName"] for f in functions(deployed).values()}
        tables = {props(r).get("TableName") for r in resources(deployed, "AWS::DynamoDB::Table").values()}
        topics = {props(r).get("TopicName") for r in resources(deployed, "AWS::SNS::Topic").values()}
        queues = {props(r).get("QueueName") for r in resources(deployed, "AWS::SQS::Queue").values()}
        names = stage_environment(stage, "eu-west-3", "123456789012")
        assert {names["INVOICE_TABLE"], names["SUBSCRIPTION_TABLE"]} <= tables
        assert names["EVENTS_TOPIC_ARN"].rsplit(":", 1)[-1] in topics
        migrated = migrate_environment(stage, "eu-west-3")  # infra/migrate.py's tables
        assert {v for k, v in migrated.items() if k.endswith("_TABLE")} <= tables
        expected_queues = ("validation", "inbox", "webhook-events", "webhook-deliveries")
        assert {f"chorale-{stage}-{q}" for q in expected_queues} <= queues
        alarms = {props(r).get("AlarmName") for r in resources(deployed, "AWS::CloudWatch::Alarm").values()}
        assert f"chorale-{stage}-PublishStatusEventsFailuresDlqNotEmpty" in alarms  # as docs/operations.md names it


def test_index_shards_is_a_stage_setting_the_functions_read(template):
    """Review finding: CAPACITY.md said to raise INDEX_SHARDS, but `-c INDEX_SHARDS=…` was silently ignored."""
    from chorale_infra.stages import stage_settings

    from chalicelib.config import settings

    assert function_env(template)["INDEX_SHARDS"] == str(settings().index_shards) == "4"
    assert stage_settings(stage_of(template), {"index_shards": "8"}).index_shards == 8


def test_the_local_pump_gives_handlers_their_deployed_timeouts(template):
    """The validation reads its time left (an object is started only with its reserve left): the local stack's
    context must say what Lambda's would."""
    from devstack.pump import DEPLOYED_TIMEOUT_MS

    for name, milliseconds in DEPLOYED_TIMEOUT_MS.items():
        logical_id = "".join(part.title() for part in name.split("_"))
        assert props(functions(template)[logical_id])["Timeout"] * 1000 == milliseconds, name
