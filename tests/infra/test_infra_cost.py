"""`make cost`: the benchmark runs the real handlers on moto and the report ends with the two cost lines."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "infra" / "cost"))

from bench import item_size, rru, wru  # noqa: E402

GIB = 1024**3


def test_dynamodb_item_size_and_units_follow_aws_rules():
    item = {"id": {"S": "abc"}, "n": {"N": "12345"}, "ok": {"BOOL": True}, "m": {"M": {"a": {"S": "xy"}}}}
    # names 2+1+2+1, values 3 + (3 digits) + 1 + (3 + 1 + 2 + 1)
    assert item_size(item) == 6 + 3 + 4 + 1 + 7
    assert wru(1) == 1 and wru(1024) == 1 and wru(1025) == 2
    assert rru(4096, consistent=True) == 1 and rru(4097, consistent=False) == 1


def test_make_cost_prints_measured_tables_and_the_two_lines():
    result = subprocess.run(
        [sys.executable, "infra/cost/cost.py", "--invoices", "4", "--flow-invoices", "4"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    assert re.fullmatch(r"cost per million single deposits: \$\d+\.\d\d", lines[-2]), lines[-2]
    assert re.fullmatch(r"cost per million in bulk flows: \$\d+\.\d\d", lines[-1]), lines[-1]
    # what the headline leaves out, just before it (review r61 F2, F4)
    assert re.match(r"storage over the retention period per million invoices: \$\d+\.\d\d \(", lines[-4]), lines[-4]
    assert re.match(r"per million reads \(GET /v1/invoices/\{id\}\): \$\d+\.\d\d \(", lines[-3]), lines[-3]
    assert "Batches are measured full" in result.stdout
    assert "statuses {'203': 4}" in result.stdout  # every benchmark invoice went through validation
    # notifications measured too: both parties subscribed, every status event delivered to both
    assert re.search(r"single deposits with a webhook at the supplier and at the buyer \(4 deliveries\) +\$\d+\.\d\d",
                     result.stdout)  # fmt: skip
    for component in (
        "API Gateway (REST)",
        "Lambda compute",
        "S3 requests",
        "DynamoDB writes",
        "SQS",
        "SNS",
        "CloudWatch Logs",
        "KMS (topic key)",
    ):
        assert component in result.stdout


def test_sns_is_billed_per_request_and_64_kib_not_per_message():
    from bench import _units_total

    def batch(count: int, size: int) -> dict:
        entries = [{"Id": str(i), "Message": "x" * size,
                    "MessageAttributes": {"event_type": {"DataType": "String", "StringValue": "e"}}}
                   for i in range(count)]  # fmt: skip
        return {"TopicArn": "arn", "PublishBatchRequestEntries": entries}

    assert _units_total(None, None, "sns", "PublishBatch", batch(10, 900), {}, None) == {
        "sns_messages": 10, "sns_requests": 1}  # fmt: skip
    assert _units_total(None, None, "sns", "PublishBatch", batch(3, 30_000), {}, None)["sns_requests"] == 2
    assert _units_total(None, None, "sns", "Publish", {"Message": "hello"}, {}, None) == {
        "sns_messages": 1, "sns_requests": 1}  # fmt: skip


def test_without_synthesized_templates_the_fixed_costs_say_what_they_assume(tmp_path):
    """Review r35: without infra/cdk.out, the alarms and queues priced were assumed silently."""
    from cost import fixed_costs

    assumed = fixed_costs(tmp_path)
    assert assumed["note"] == (
        f"(no {tmp_path / 'prod.template.json'}: the monthly bill assumes 20 alarms, 3 queues and 1 topic key used "
        "by 3 publishers; run make synth)"
    )
    (tmp_path / "prod.template.json").write_text(
        '{"Resources": {"A": {"Type": "AWS::CloudWatch::Alarm", "Properties": {}},'
        ' "Q": {"Type": "AWS::SQS::Queue", "Properties": {"RedrivePolicy": {}}},'
        ' "K": {"Type": "AWS::KMS::Key", "Properties": {}},'
        ' "P": {"Type": "AWS::IAM::Policy", "Properties": {"PolicyDocument": {"Statement": ['
        '{"Action": ["kms:GenerateDataKey", "kms:Decrypt"]}, {"Action": "sns:Publish"}]}}}}}'
    )
    assert fixed_costs(tmp_path) == {
        "alarms": 1, "custom_metrics": 8, "queues": 1, "kms_keys": 1, "topic_key_users": 1, "note": None}  # fmt: skip


def test_the_topic_key_is_a_fixed_monthly_cost_not_one_per_published_event():
    """Issue 7: SNS reuses a data key up to 5 minutes per publishing principal (AWS's formula R = B / D * (2 * P)):
    the key's $1 and its requests are the same at any volume, and nothing per million invoices."""
    from cost import SECONDS_PER_MONTH, monthly_bill, topic_key_requests

    assert topic_key_requests(1) == SECONDS_PER_MONTH / 300 * 2  # AWS's example: 17,856 for 31 days
    usage = dict.fromkeys(
        ("apigw_requests", "event_invocations", "s3_bytes", "dynamodb_bytes", "dynamodb_index_bytes", "log_bytes",
         "lambda_requests",
         "lambda_gb_s", "s3_put", "s3_get", "wru", "rru", "sqs_requests", "sns_requests"), 0.0)  # fmt: skip
    p = {k: 1.0 for k in ("apigw_rest_per_million", "lambda_request_per_million", "lambda_arm_gb_second",
                          "s3_put_per_1000", "s3_get_per_1000", "s3_standard_gb_month", "dynamodb_wru_per_million",
                          "dynamodb_rru_per_million", "dynamodb_storage_gb_month", "dynamodb_pitr_gb_month",
                          "sqs_per_million", "sns_publish_per_million", "logs_ingest_gb", "logs_storage_gb_month",
                          "xray_per_million_traces", "cloudwatch_alarm_month", "cloudwatch_dashboard_month",
                          "cloudwatch_custom_metric_month")}  # fmt: skip
    p |= {"kms_key_month": 1.0, "kms_per_10000_requests": 0.03}
    assumptions = {"xray_reservoir_per_second": 1, "xray_sampling_ratio": 0.05}
    fixed = {"alarms": 0, "custom_metrics": 0, "esm_idle_receives": 0, "kms_keys": 1, "topic_key_users": 3}
    bills = [monthly_bill(usage | {"sns_requests": 1.0}, p, assumptions, n, 12, fixed)["KMS (topic key)"]
             for n in (1e6, 1e9)]  # fmt: skip
    assert bills[0] == bills[1] == 1.0 + topic_key_requests(3) / 1e4 * 0.03


def _usage(**values) -> dict:
    usage = dict.fromkeys(
        ("apigw_requests", "event_invocations", "s3_bytes", "dynamodb_bytes", "dynamodb_index_bytes", "log_bytes",
         "lambda_requests", "lambda_gb_s", "s3_put", "s3_get", "wru", "rru", "sqs_requests", "sns_requests"),
        0.0,
    )  # fmt: skip
    return usage | {"s3_archived": {}} | values


def _prices(**values) -> dict:
    from cost import INFRA, price_table

    return price_table(json.loads((INFRA / "prices.json").read_text()), "eu-west-3") | values


def test_xray_counts_one_trace_per_api_request_and_per_event_invocation():
    """Review r61 F9: the API handler's and the authorizer's segments join the API request's trace."""
    from cost import per_invoice_usage

    phase = {"compute_ms": 1.0, "log_bytes": 0.0, "calls": {}, "units": {}}
    counts = {"per_invoice": {
        "fn:APIHandler": phase | {"invocations": 1.0},
        "fn:api_key_authorizer": phase | {"invocations": 1.0},
        "fn:validate_invoices": phase | {"invocations": 0.1},
        "fn:publish_status_events": phase | {"invocations": 0.1},
    }}  # fmt: skip
    assumptions = json.loads((ROOT / "infra" / "prices.json").read_text())["assumptions"]
    usage = per_invoice_usage(counts, assumptions)
    assert usage["event_invocations"] == pytest.approx(0.2)
    from cost import monthly_bill

    fixed = {"alarms": 0, "custom_metrics": 0, "esm_idle_receives": 0, "kms_keys": 0, "topic_key_users": 0}
    xray = monthly_bill(usage, _prices(), {"xray_reservoir_per_second": 0, "xray_sampling_ratio": 0.05}, 1e6, 1, fixed)
    assert xray["X-Ray"] == pytest.approx(1.2 * 0.05 * 5.00)  # 1.2 traces per invoice, 5 % kept, $5 per million


def test_gsi_entries_are_measured_and_billed_as_storage_without_pitr():
    """Review r61 F3: each GSI entry (its projection + 100 B) is stored, sparse indexes skip items without the keys."""
    from bench import index_storage, item_size

    gsi = {"keys": ["sup", "at"], "projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["status"]}}
    decided = {"pk": {"S": "inv-1"}, "sup": {"S": "s#1"}, "at": {"S": "2026"}, "status": {"N": "203"},
               "details": {"B": b"x" * 500}}  # fmt: skip
    pending = {"pk": {"S": "inv-2"}, "details": {"B": b"x" * 500}}
    entry = {k: v for k, v in decided.items() if k != "details"}
    assert index_storage([decided, pending], gsi, ["pk"]) == (item_size(entry) + 100, 1)

    from cost import monthly_bill

    fixed = {"alarms": 0, "custom_metrics": 0, "esm_idle_receives": 0, "kms_keys": 0, "topic_key_users": 0}
    p = _prices(dynamodb_storage_gb_month=0.25, dynamodb_pitr_gb_month=0.20)
    bill = monthly_bill(_usage(dynamodb_bytes=GIB / 1e6, dynamodb_index_bytes=2 * GIB / 1e6), p, {
        "xray_reservoir_per_second": 0, "xray_sampling_ratio": 0.05}, 1e6, 1, fixed)  # fmt: skip
    assert bill["DynamoDB storage + PITR"] == pytest.approx(1 * (0.25 + 0.20) + 2 * 0.25)


def test_retention_storage_prices_every_month_and_the_archive_classes_of_large_objects():
    """Review r61 F2: the per-million headline counts one month of storage; the retention line counts them all."""
    from cost import SECONDS_PER_MONTH, STAGES, retention_storage

    p = _prices(s3_standard_gb_month=0.024, s3_glacier_ir_gb_month=0.004, s3_deep_archive_gb_month=0.001,
                s3_transition_glacier_ir_per_1000=0.02, s3_transition_deep_archive_per_1000=0.05,
                dynamodb_storage_gb_month=0.25, dynamodb_pitr_gb_month=0.20)  # fmt: skip
    days = 3040  # 100 months
    per_invoice_gib = GIB / 1e6
    small = retention_storage(_usage(s3_bytes=per_invoice_gib, dynamodb_bytes=per_invoice_gib,
                                     dynamodb_index_bytes=per_invoice_gib), p, days)  # fmt: skip
    assert small == pytest.approx({"S3 Standard": 2.4, "S3 archive classes (+ transitions)": 0.0,
                                   "DynamoDB items + PITR": 45.0, "DynamoDB GSI entries": 25.0})  # fmt: skip

    stage, month = STAGES["prod"], SECONDS_PER_MONTH / 86400
    large = _usage(s3_bytes=per_invoice_gib, s3_archived={"originals": {"bytes": per_invoice_gib, "objects": 1e-3}})
    archived = retention_storage(large, p, days)
    assert archived["S3 Standard"] == 0
    deep_days = days - stage.deep_archive_after_days
    expected = (
        stage.archive_after_days / month * 0.024
        + (stage.deep_archive_after_days - stage.archive_after_days) / month * 0.004
        + deep_days / month * 0.001
        + 1e3 / 1000 * (0.02 + 0.05)  # 1,000 objects, two transitions each
        + 1e3 * (8 * 0.024 + 32 * 0.001) * 1024 / GIB * deep_days / month  # Deep Archive's 40 KB per object
    )
    assert archived["S3 archive classes (+ transitions)"] == pytest.approx(expected)


def test_the_read_path_is_priced_from_the_benchmarks_read_phases():
    """Review r61 F4: the benchmark measured GET /v1/invoices/{id} and the bill skipped it."""
    from cost import per_invoice_usage, read_usage

    phase = {"compute_ms": 2.0, "log_bytes": 0.0, "units": {"RRU": 2.0}, "calls": {"dynamodb:GetItem": 2.0}}
    counts = {"per_invoice": {"fn:APIHandler": phase | {"invocations": 1.0, "units": {"WRU": 4.0}},
                              "read:fn:APIHandler": phase | {"invocations": 1.0}}}  # fmt: skip
    assumptions = json.loads((ROOT / "infra" / "prices.json").read_text())["assumptions"]
    reads = read_usage(counts, assumptions)
    assert reads["rru"] == 2.0 and reads["wru"] == 0.0 and reads["apigw_requests"] == 1.0
    assert per_invoice_usage(counts, assumptions)["rru"] == 0.0  # the deposit's bill still leaves reads out
    assert read_usage({"per_invoice": {"fn:APIHandler": phase | {"invocations": 1.0}}}, assumptions) is None


def test_the_share_of_the_bill_priced_without_a_reference_is_counted():
    """Review r61 F7: PITR, CloudWatch and KMS prices (and Paris REST/storage) are not in the reference."""
    from cost import INFRA, monthly_bill, unsourced_share

    prices = json.loads((INFRA / "prices.json").read_text())["regions"]["eu-west-3"]
    unsourced = {k for k, v in prices.items() if isinstance(v, dict) and "source" in v}
    assert {"dynamodb_pitr_gb_month", "cloudwatch_alarm_month", "kms_key_month", "apigw_rest_per_million",
            "dynamodb_storage_gb_month"} <= unsourced  # fmt: skip
    assert "dynamodb_wru_per_million" not in unsourced
    fixed = {"alarms": 0, "custom_metrics": 0, "esm_idle_receives": 0, "kms_keys": 0, "topic_key_users": 0}
    assumptions = {"xray_reservoir_per_second": 0, "xray_sampling_ratio": 0.05}
    usage = _usage(apigw_requests=1.0, wru=4.0, dynamodb_bytes=GIB / 1e6)
    part, total = unsourced_share(monthly_bill, usage, _prices(), unsourced, assumptions, 1e6, 1, fixed)
    xray, dashboard = 0.05 * 5.00, 3.00
    assert total == pytest.approx(3.50 + 4 * 0.7423 + 0.25 + 0.20 + xray + dashboard)
    assert part == pytest.approx(3.50 + 0.25 + 0.20 + dashboard)  # REST, storage, PITR, dashboard; not the writes


def test_objects_the_lifecycle_archives_are_measured_apart():
    """Review r61 F2: originals and flow files over 128 KB move to archive classes; smaller ones stay in Standard."""
    from bench import _units_total

    def put(key: str, size: int) -> dict:
        return _units_total(None, None, "s3", "PutObject", {"Key": key, "Body": b"x" * size}, {}, None)

    assert put("originals/a.pdf", 200_000) == {"s3_put_bytes": 200_000, "s3_notifications": 1,
                                               "s3_archived_bytes:originals": 200_000,
                                               "s3_archived_objects:originals": 1}  # fmt: skip
    assert put("inbox/f.zip", 131_073)["s3_archived_objects:inbox"] == 1
    assert put("originals/a.xml", 131_072) == {"s3_put_bytes": 131_072, "s3_notifications": 1}
    assert "s3_archived_bytes:renditions" not in put("renditions/a.pdf", 200_000)
