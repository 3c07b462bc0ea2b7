"""`make cost`: the benchmark runs the real handlers on moto and the report ends with the two cost lines."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "infra" / "cost"))

from bench import item_size, rru, wru  # noqa: E402


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
        ("apigw_requests", "invocations", "s3_bytes", "dynamodb_bytes", "log_bytes", "lambda_requests",
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
