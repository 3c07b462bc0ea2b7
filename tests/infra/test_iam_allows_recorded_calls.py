"""Every AWS call a function made in the tests is allowed by that function's role in the synthesized templates.

moto enforces no IAM: a call a role does not allow passes every moto test and fails only on AWS. The calls are
recorded per function by tests/aws_calls.py during the integration tests (`make test` runs them before
`make infra-test` in CI); this checks each one against the policies of the function's role, resource by resource
(a table or one of its indexes, an object's key prefix, a queue, a topic).
"""

from __future__ import annotations

import fnmatch
import json
import os
from functools import cache

import aws_calls
import pytest
from test_infra_templates import CDK_OUT, LOCAL_ONLY, STAGES, as_list, functions, props, ref_id, resources

if not aws_calls.RECORD.exists():
    if os.environ.get("CHORALE_REQUIRE_AWS_CALLS") == "1":  # CI: `make test` ran first and must have recorded
        raise RuntimeError(f"{aws_calls.RECORD} is missing: the integration tests recorded no AWS call")
    pytest.skip(
        "no recorded AWS calls: run the integration tests first (`make integration` or `make test`)",
        allow_module_level=True,
    )

CALLS = [tuple(c) for c in json.loads(aws_calls.RECORD.read_text())["calls"]]


# Calls the code makes knowing the role refuses them, and handles the refusal: (function, action, setting, detail).
REFUSED_ON_PURPOSE = {
    # deposit._discard_rendition: best effort (logged), the API's role may not delete renditions
    ("APIHandler", "s3:DeleteObject", "INVOICE_BUCKET", "renditions/"),
}


@cache
def template(stage: str) -> dict:
    return json.loads((CDK_OUT / f"{stage}.template.json").read_text())


def resource_id(t: dict, setting: str) -> str | None:
    """The logical id of the resource a setting names in this template (``ENV:dlq``: that queue's DLQ)."""
    env_name, _, dlq = setting.partition(":")
    value = props(next(iter(functions(t).values())))["Environment"]["Variables"].get(env_name)
    if value is None:
        return None
    if ref_id(value):
        return ref_id(value)
    kinds = {"_TABLE": ("AWS::DynamoDB::Table", "TableName"), "_QUEUE": ("AWS::SQS::Queue", "QueueName")}
    kinds["_BUCKET"] = ("AWS::S3::Bucket", "BucketName")
    kind, name_property = next(k for suffix, k in kinds.items() if env_name.endswith(suffix))
    wanted = f"{value}-dlq" if dlq else value
    found = [k for k, r in resources(t, kind).items() if props(r).get(name_property) == wanted]
    return found[0] if len(found) == 1 else None


def allowed_targets(t: dict, function: str, action: str) -> list[tuple[str, str] | str]:
    """What `function`'s role may apply `action` to: (logical id, ARN suffix) pairs, or "*"."""
    role = ref_id(props(functions(t)[function])["Role"])
    targets: list = []
    for policy in resources(t, "AWS::IAM::Policy").values():
        if role not in [ref_id(r) for r in props(policy)["Roles"]]:
            continue
        for statement in props(policy)["PolicyDocument"]["Statement"]:
            if statement["Effect"] != "Allow" or action not in as_list(statement["Action"]):
                continue
            for resource in as_list(statement["Resource"]):
                if resource == "*":
                    targets.append("*")
                elif ref_id(resource):
                    targets.append((ref_id(resource), ""))
                elif "Fn::Join" in resource:
                    first, *rest = resource["Fn::Join"][1]
                    suffix = "".join(part for part in rest if isinstance(part, str))
                    targets.append((ref_id(first), suffix) if ref_id(first) else "other")
    return targets


def refusal(stage: str, function: str, action: str, setting: str, detail: str) -> str | None:
    """Why the template would refuse this call, or None when its role allows it."""
    t = template(stage)
    if function not in functions(t):
        return f"{function} is not a function of the template"
    targets = allowed_targets(t, function, action)
    if not targets:
        return "no statement of its role allows the action"
    if "*" in targets or action.startswith("ses:"):  # SES: the identities and sender are checked by a test of their own
        return None
    if not setting:
        return "a resource no setting names"
    target = resource_id(t, setting)
    if target is None:
        return f"{setting} names no resource of the template"
    suffixes = [suffix for logical_id, suffix in (x for x in targets if isinstance(x, tuple)) if logical_id == target]
    service = action.split(":")[0]
    if service == "dynamodb":
        wanted = "/index/*" if detail else ""
        return None if wanted in suffixes else f"not on {setting}{' index ' + detail if detail else ''}"
    if service == "s3" and action != "s3:ListBucket":
        # detail: the key's folder ("originals/", "attachments/*/"), matched as a key in it
        return None if any(fnmatch.fnmatchcase(f"/{detail}key", suffix) for suffix in suffixes) else f"not on {detail}"
    return None if "" in suffixes else f"not on {setting}"


def stage_uses(stage: str, action: str, setting: str) -> bool:
    """Object Lock calls are made only where the stage's bucket has Object Lock; the local stack's own resources
    (its captured e-mails) have none on AWS."""
    if setting in LOCAL_ONLY:
        return False
    if action != "s3:PutObjectRetention":
        return True
    (bucket,) = resources(template(stage), "AWS::S3::Bucket").values()
    return bool(props(bucket).get("ObjectLockEnabled"))


@pytest.mark.parametrize("stage", STAGES)
def test_every_recorded_call_is_allowed_by_the_functions_role(stage):
    refused = [
        f"{function}: {action} on {setting or '?'} {detail}: {why}"
        for function, action, setting, detail in CALLS
        if stage_uses(stage, action, setting)
        and (function, action, setting, detail) not in REFUSED_ON_PURPOSE
        and (why := refusal(stage, function, action, setting, detail))
    ]
    assert not refused, "\n".join(refused)


def test_calls_refused_on_purpose_are_still_refused():
    """An entry of REFUSED_ON_PURPOSE whose call the role now allows is stale: remove it."""
    for call in REFUSED_ON_PURPOSE:
        assert refusal("prod", *call), f"{call} is allowed now: remove it from REFUSED_ON_PURPOSE"


def test_the_record_covers_every_function():
    """A record from a partial test run would check little: every function of the app made calls."""
    recorded = {function for function, *_ in CALLS}
    missing = set(functions(template("prod"))) - recorded
    assert not missing, f"no call recorded for {sorted(missing)}: run the integration tests (`make integration`)"


@pytest.mark.parametrize(
    "call, why",
    [
        (("FanOutEvents", "dynamodb:PutItem", "INVOICE_TABLE", ""), "no statement of its role allows the action"),
        (("APIHandler", "dynamodb:Query", "INVOICE_TABLE", "by-supplier"), None),
        (("APIHandler", "dynamodb:GetItem", "DELIVERY_LOG_TABLE", ""), None),
        (("APIHandler", "dynamodb:PutItem", "DELIVERY_LOG_TABLE", ""), "not on DELIVERY_LOG_TABLE"),
        (("ValidateInvoices", "s3:GetObject", "INVOICE_BUCKET", "originals/"), None),
        (("ValidateInvoices", "s3:PutObject", "INVOICE_BUCKET", "originals/"), "not on originals/"),
        (("ValidateInvoices", "s3:GetObjectVersion", "INVOICE_BUCKET", "originals/"), "no statement"),
        (("DeliverWebhooks", "sqs:SendMessage", "WEBHOOK_GIVEN_UP_QUEUE", ""), None),
        # the DLQ is SQS's, for jobs the handler crashed on: the app parks what it gives up on elsewhere (review r37)
        (("DeliverWebhooks", "sqs:SendMessage", "WEBHOOK_DELIVERY_QUEUE:dlq", ""), "not on WEBHOOK_DELIVERY_QUEUE:dlq"),
        (("FanOutEvents", "sqs:SendMessage", "WEBHOOK_GIVEN_UP_QUEUE", ""), "not on WEBHOOK_GIVEN_UP_QUEUE"),
        (("FanOutEvents", "sqs:SendMessage", "WEBHOOK_DELIVERY_QUEUE:dlq", ""), "not on WEBHOOK_DELIVERY_QUEUE:dlq"),
        (("PublishStatusEvents", "sns:Publish", "EVENTS_TOPIC_ARN", ""), None),
        (("APIHandler", "sns:Publish", "EVENTS_TOPIC_ARN", ""), "no statement"),
    ],
)
def test_the_check_refuses_what_the_role_does_not_allow(call, why):
    """The checker itself: known allowed and refused calls on the prod template."""
    got = refusal("prod", *call)
    assert (got is None) == (why is None), got
    if why:
        assert got.startswith(why)
