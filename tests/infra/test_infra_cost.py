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
        f"(no {tmp_path / 'prod.template.json'}: the monthly bill assumes 20 alarms and 3 queues; run make synth)"
    )
    (tmp_path / "prod.template.json").write_text(
        '{"Resources": {"A": {"Type": "AWS::CloudWatch::Alarm", "Properties": {}},'
        ' "Q": {"Type": "AWS::SQS::Queue", "Properties": {"RedrivePolicy": {}}}}}'
    )
    assert fixed_costs(tmp_path) == {"alarms": 1, "custom_metrics": 8, "queues": 1, "note": None}
