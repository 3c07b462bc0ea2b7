"""Which AWS calls each Lambda function makes while the tests run: what its IAM role must allow.

moto enforces no IAM, so a call that a function's role does not allow passes every test here and fails on AWS
(review r23: the fan-out's read of the structures table would have sent every event with a subscriber to the DLQ).
This plugin attributes every botocore call, and every presigned URL (used later with the signer's rights), to the
function running it: the route handler (APIHandler), the authorizer, or an event handler, by the CloudFormation
name chalice gives it. Calls outside a handler (fixtures, assertions, the event pump's own polling, which the
event source mappings make on AWS) are not recorded. At the end of a session that recorded calls, they are
added to ``RECORD``; ``tests/infra/test_iam_allows_recorded_calls.py`` checks them against the synthesized
templates' policies. What it cannot see: a call a per-process cache saves (a queue URL resolved once) is recorded
for the first function that made it only, where on AWS every function's cold process makes it.

A record: ``[function, action, setting, detail]`` where ``setting`` is the resource's environment variable
(``INVOICE_TABLE``, ``WEBHOOK_DELIVERY_QUEUE:dlq``, ``INVOICE_BUCKET`` …, "" for a resource no setting names) and
``detail`` the index of a table or the folder of an object's key, its segments holding a digit (ids) written
``*`` ("" otherwise).
"""

from __future__ import annotations

import contextvars
import dataclasses
import functools
import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

RECORD = Path(__file__).resolve().parent / ".aws-calls.json"

# The functions running in this context (an authorizer runs inside the gateway's request): a context variable, so
# that two handlers running at once in two threads keep their own, and a handler's worker threads (its thread
# pools: submit() is wrapped below) inherit its own.
_running: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar("aws_calls_running", default=())
_lock = threading.Lock()
_calls: set[tuple[str, str, str, str]] = set()

# operation -> IAM action where they differ; an object's version needs the *Version action
_ACTIONS = {
    ("s3", "HeadObject"): "s3:GetObject",
    ("s3", "CopyObject"): "s3:PutObject",
    ("s3", "CreateMultipartUpload"): "s3:PutObject",
    ("s3", "UploadPart"): "s3:PutObject",
    ("s3", "CompleteMultipartUpload"): "s3:PutObject",
    ("s3", "ListObjects"): "s3:ListBucket",
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("s3", "ListObjectVersions"): "s3:ListBucketVersions",
    ("sqs", "SendMessageBatch"): "sqs:SendMessage",
    ("sqs", "DeleteMessageBatch"): "sqs:DeleteMessage",
    ("sqs", "ChangeMessageVisibilityBatch"): "sqs:ChangeMessageVisibility",
    ("sns", "PublishBatch"): "sns:Publish",
    ("sesv2", "SendEmail"): "ses:SendEmail",
}
_VERSIONED = {"s3:GetObject": "s3:GetObjectVersion", "s3:DeleteObject": "s3:DeleteObjectVersion"}
_TRANSACT = {"ConditionCheck": "ConditionCheckItem", "Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem"}


def _settings_by_value() -> dict[tuple[str, str], str]:
    """(kind, physical name) -> the setting's environment variable, from the settings the code reads now."""
    from chalicelib.config import settings

    current = settings()
    names = {}
    for f in dataclasses.fields(current):
        value = getattr(current, f.name)
        for suffix, kind in (("_table", "table"), ("_bucket", "bucket"), ("_queue", "queue"), ("_topic_arn", "topic")):
            if f.name.endswith(suffix) and isinstance(value, str):
                names[(kind, value.rsplit(":", 1)[-1] if kind == "topic" else value)] = f.name.upper()
    return names


def _setting(kind: str, name: str) -> str:
    names = _settings_by_value()
    if (kind, name) in names:
        return names[(kind, name)]
    if kind == "queue" and name.endswith("-dlq") and (kind, name[: -len("-dlq")]) in names:
        return names[(kind, name[: -len("-dlq")])] + ":dlq"
    return ""


def _folder(key: str) -> str:
    """originals/01M8FF…/x.xml → originals/*/ : what a policy's key prefix is matched against, without the ids."""
    return "".join(("*" if any(c.isdigit() for c in part) else part) + "/" for part in key.split("/")[:-1])


def accesses(service: str, operation: str, params: dict) -> list[tuple[str, str, str]]:
    """(IAM action, setting, detail) for one call."""
    action = _ACTIONS.get((service, operation), f"{service}:{operation}")
    if service == "dynamodb":
        if operation in ("BatchGetItem", "BatchWriteItem"):
            return [(action, _setting("table", table), "") for table in params.get("RequestItems", {})]
        if operation in ("TransactWriteItems", "TransactGetItems"):
            found = []
            for item in params.get("TransactItems", []):
                for kind, body in item.items():
                    verb = "GetItem" if kind == "Get" else _TRANSACT.get(kind, kind)
                    found.append((f"dynamodb:{verb}", _setting("table", body.get("TableName", "")), ""))
            return found
        table = params.get("TableName", "")
        return [(action, _setting("table", table), params.get("IndexName", ""))] if table else [(action, "", "")]
    if service == "s3":
        bucket = _setting("bucket", params.get("Bucket", ""))
        if operation == "DeleteObjects":
            return [("s3:DeleteObject", bucket, _folder(o["Key"])) for o in params.get("Delete", {}).get("Objects", [])]
        if "VersionId" in params:
            action = _VERSIONED.get(action, action)
        key = _folder(params.get("Key", ""))
        found = [(action, bucket, key)]
        if operation == "CopyObject":
            source = params["CopySource"]
            source_key = source["Key"] if isinstance(source, dict) else source.split("/", 1)[1]
            read = "s3:GetObjectVersion" if isinstance(source, dict) and "VersionId" in source else "s3:GetObject"
            found.append(
                (read, _setting("bucket", source["Bucket"] if isinstance(source, dict) else ""), _folder(source_key))
            )
        if "ObjectLockMode" in params or "ObjectLockRetainUntilDate" in params:
            found.append(("s3:PutObjectRetention", bucket, key))
        if "Tagging" in params and operation != "GetObjectTagging":
            found.append(("s3:PutObjectTagging", bucket, key))
        return found
    if service == "sqs":
        url = params.get("QueueUrl") or params.get("QueueName", "")
        return [(action, _setting("queue", url.rstrip("/").rsplit("/", 1)[-1]), "")]
    if service == "sns":
        return [(action, _setting("topic", params.get("TopicArn", "").rsplit(":", 1)[-1]), "")]
    return [(action, "", "")]


def _record(service: str, operation: str, params: dict) -> None:
    running = _running.get()
    if not running:
        return
    try:
        found = accesses(service, operation, params)
    except (KeyError, TypeError, AttributeError, IndexError):  # a malformed call a test makes on purpose
        return
    with _lock:
        _calls.update((running[-1], *access) for access in found)


def _as(name_of):
    """Wrap a handler's __call__: the calls it makes are the function ``name_of(self)``'s."""

    def wrap(call):
        @functools.wraps(call)
        def running(self, *args, **kwargs):
            token = _running.set((*_running.get(), name_of(self)))
            try:
                return call(self, *args, **kwargs)
            finally:
                _running.reset(token)

        running.aws_calls_recorded = True
        return running

    return wrap


def install() -> None:
    """Attribute calls to functions from now on (idempotent)."""
    from botocore import signers
    from botocore.client import BaseClient
    from chalice.app import Chalice, ChaliceAuthorizer, EventSourceHandler
    from chalice.utils import to_cfn_resource_name

    if getattr(BaseClient._make_api_call, "aws_calls_recorded", False):
        return
    Chalice.__call__ = _as(lambda app: "APIHandler")(Chalice.__call__)
    ChaliceAuthorizer.__call__ = _as(lambda a: to_cfn_resource_name(a.name))(ChaliceAuthorizer.__call__)
    EventSourceHandler.__call__ = _as(lambda h: to_cfn_resource_name(h.func.__name__))(EventSourceHandler.__call__)

    submit = ThreadPoolExecutor.submit

    def submit_in_context(self, fn, /, *args, **kwargs):  # a worker's calls are the submitting handler's
        return submit(self, contextvars.copy_context().run, fn, *args, **kwargs)

    ThreadPoolExecutor.submit = submit_in_context

    make_api_call = BaseClient._make_api_call

    def recorded(client, operation, params):
        _record(client.meta.service_model.service_name, operation, params)
        return make_api_call(client, operation, params)

    recorded.aws_calls_recorded = True
    BaseClient._make_api_call = recorded

    # A presigned URL or form is used later with the signer's rights: it needs them as a call would.
    presign_url, presign_post = signers.generate_presigned_url, signers.generate_presigned_post

    def presigned_url(self, ClientMethod, Params=None, *args, **kwargs):  # noqa: N803 - botocore's names
        operation = self.meta.method_to_api_mapping.get(ClientMethod, ClientMethod)
        _record(self.meta.service_model.service_name, operation, Params or {})
        return presign_url(self, ClientMethod, Params, *args, **kwargs)

    def presigned_post(self, Bucket, Key, *args, **kwargs):  # noqa: N803
        _record("s3", "PutObject", {"Bucket": Bucket, "Key": Key})
        return presign_post(self, Bucket, Key, *args, **kwargs)

    signers.generate_presigned_url, signers.generate_presigned_post = presigned_url, presigned_post


def calls() -> list[list[str]]:
    with _lock:
        return sorted(list(c) for c in _calls)


def write() -> None:
    """Add the session's calls to the record: a run of a few integration tests adds what they made and drops
    nothing a fuller run recorded (a fresh clone, as in CI, starts with none). Written whole or not at all."""
    found = {tuple(c) for c in calls()}
    if not found:
        return
    if RECORD.exists():
        found |= {tuple(c) for c in json.loads(RECORD.read_text())["calls"]}
    partial = RECORD.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps({"calls": sorted(list(c) for c in found)}, indent=0) + "\n")
    partial.replace(RECORD)
