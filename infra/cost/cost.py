"""`make cost`: the monthly AWS bill per component, from per-invoice counts MEASURED on the local stack.

1. infra/cost/bench.py runs the real handlers on moto (deposit → S3 → SQS → validation → DynamoDB →
   stream → SNS → fan-outs) and counts every AWS call, capacity unit, byte, millisecond and log byte.
2. This file prices those counts with infra/prices.json (region, date, source per price) and the
   Lambda memory sizes of infra/chorale_infra/stages.py, for yearly volumes and a peak profile.

Besides the monthly bill and the per-million headline (processing and the first month of storage), it prints
the storage over the retention period and the cost of a read, which the headline leaves out (review r61).

Bulk flows (issue #5): when the app takes them (POST /v1/flows), the benchmark deposits one zip flow and
measures it like a single deposit. Otherwise they are read from infra/cost/flow_counts.json (a flow
benchmark's output, same format), else modelled from the measured single deposit minus its per-request
API costs (see bulk_flow_counts), and the report says which.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from pathlib import Path

INFRA = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(INFRA))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from chorale_infra.stages import STAGES  # noqa: E402

FLOW_COUNTS = Path(__file__).resolve().parent / "flow_counts.json"
SECONDS_PER_MONTH = 30.4 * 24 * 3600
GB = 1024**3

# Functions that run inside an API request: their segments join the request's X-Ray trace (API Gateway passes its
# sampling decision in X-Amzn-Trace-Id), so they add no trace of their own.
API_FUNCTIONS = {"APIHandler", "ApiKeyAuthorizer"}
# Originals and flow files over 128 KB move to archive classes (the bucket's lifecycle rules, stack.py); the flow
# files' rule moves them to Glacier Instant Retrieval after this many days, and no further.
INBOX_ARCHIVE_AFTER_DAYS = 30

# Calls the Lambda service or the local event pump make that AWS does not bill (or bills elsewhere):
# the pump looks queues up on each delivery, Lambda reads DynamoDB streams for free.
UNBILLED = {"sqs:GetQueueUrl", "sqs:GetQueueAttributes", "dynamodb:DescribeTable"}


def function_memory() -> tuple[dict[str, int], int]:
    return dict(STAGES["prod"].memory_mb), STAGES["prod"].default_memory_mb


def logical_id(phase: str) -> str:
    name = phase.split("fn:", 1)[1]
    return name if name[:1].isupper() else "".join(p[:1].upper() + p[1:] for p in re.split(r"[_\-]", name) if p)


def price_table(prices: dict, region: str) -> dict[str, float]:
    try:
        return {k: v["value"] for k, v in prices["regions"][region].items() if isinstance(v, dict)}
    except KeyError:
        known = ", ".join(prices["regions"])
        raise SystemExit(f"no prices for {region} in infra/prices.json (have: {known})") from None


def unsourced_share(bill, usage: dict, p: dict, unsourced: set[str], *args) -> tuple[float, float]:
    """Dollars of `bill(usage, p, *args)` that rest on prices not in the reference (their `source` in
    prices.json), and its total: every component is linear in its prices, so it is the bill minus the bill
    with those prices at zero."""
    total = sum(bill(usage, p, *args).values())
    return total - sum(bill(usage, {k: 0.0 if k in unsourced else v for k, v in p.items()}, *args).values()), total


def per_invoice_usage(counts: dict, assumptions: dict) -> dict[str, float]:
    """Billable usage per invoice: requests, GB-s, units, bytes (one deposit and everything it triggers)."""
    api_requests = counts["per_invoice"].get("fn:APIHandler", {}).get("invocations", 1.0)
    memory, default_memory = function_memory()
    latency = assumptions["aws_call_latency_ms"]
    cpu_full = assumptions["lambda_cpu_full_vcpu_mb"]
    hit = assumptions["authorizer_cache_hit_ratio"]
    usage = {
        "apigw_requests": api_requests,
        "lambda_requests": 0.0,
        "lambda_gb_s": 0.0,
        "s3_put": 0.0,
        "s3_get": 0.0,
        "s3_bytes": counts.get("stored_object_bytes", counts.get("original_bytes", 0.0)),
        "sqs_requests": 0.0,
        "sns_messages": 0.0,
        "sns_requests": 0.0,
        "sns_sqs_deliveries": 0.0,
        "wru": 0.0,
        "rru": 0.0,
        "log_bytes": 0.0,
        "event_invocations": 0.0,
        "dynamodb_bytes": sum(counts.get("dynamodb_item_bytes", {}).values()),
        "dynamodb_index_bytes": sum(counts.get("dynamodb_index_bytes", {}).values()),
        "s3_archived": {},  # prefix → {"bytes", "objects"} per invoice: objects the lifecycle moves to archive classes
        "lambda_ms": {},
    }
    for phase, data in counts["per_invoice"].items():
        if phase.startswith("read:"):
            continue
        scale = 1.0
        if phase.startswith("fn:"):
            fid = logical_id(phase)
            if fid == "ApiKeyAuthorizer":
                scale = 1 - hit  # API Gateway caches the authorizer's answer (ttl 60 s) per key
            mb = memory.get(fid, default_memory)
            # A webhook receiver's answer time is billed too; deliveries of a batch run in parallel.
            receiver_ms = assumptions["webhook_receiver_ms"] / assumptions["webhook_parallel_deliveries"]
            calls_ms = sum(
                count * (receiver_ms if call == "https:POST" else latency.get(call.split(":")[0], latency["default"]))
                for call, count in data["calls"].items()
            )
            cpu_ms = data["compute_ms"] * max(1.0, cpu_full / mb) * assumptions["local_to_graviton_cpu_ratio"]
            invocations = data["invocations"] * scale
            billed_ms = (cpu_ms + calls_ms) * scale + invocations * 1.0  # + ~1 ms runtime overhead each
            usage["lambda_requests"] += invocations
            if fid not in API_FUNCTIONS:
                usage["event_invocations"] += invocations
            usage["lambda_gb_s"] += billed_ms / 1000 * mb / 1024
            usage["lambda_ms"][fid] = {
                "ms_per_invoice": round(billed_ms, 2),
                "mb": mb,
                "invocations": invocations,
                "cpu_ms_full_vcpu": data["compute_ms"] * assumptions["local_to_graviton_cpu_ratio"] * scale,
                "io_ms": calls_ms * scale + invocations,
            }
            usage["log_bytes"] += data["log_bytes"] * scale + invocations * assumptions[
                "lambda_platform_log_bytes_per_invocation"
            ]
        for call, count in data["calls"].items():
            if call in UNBILLED or call.startswith("dynamodbstreams:"):
                continue
            service, operation = call.split(":")
            if service == "s3":
                if operation in ("PutObject", "CopyObject", "ListObjects", "ListObjectsV2", "CreateMultipartUpload",
                                 "UploadPart", "CompleteMultipartUpload"):
                    usage["s3_put"] += count * scale
                elif operation in ("GetObject", "HeadObject"):
                    usage["s3_get"] += count * scale
            elif service == "sqs":
                usage["sqs_requests"] += count * scale
        units = data["units"]
        for name, amount in units.items():
            if name.startswith(("s3_archived_bytes:", "s3_archived_objects:")):
                kind, prefix = name.removeprefix("s3_archived_").split(":")
                archived = usage["s3_archived"].setdefault(prefix, {"bytes": 0.0, "objects": 0.0})
                archived[kind] += amount * scale
        usage["wru"] += units.get("WRU", 0.0) * scale
        usage["rru"] += units.get("RRU", 0.0) * scale
        usage["sns_messages"] += units.get("sns_messages", 0.0) * scale
        usage["sns_requests"] += units.get("sns_requests", units.get("sns_messages", 0.0)) * scale
        # Empty receives are the pollers' idle cost, priced once per queue (esm_idle_receives), not per invoice.
        usage["sqs_requests"] -= units.get("sqs_empty_receives", 0.0) * scale
        # S3 → SQS event notifications: one SendMessage per original, billed to the queue's owner.
        usage["sqs_requests"] += units.get("s3_notifications", 0.0)
        # SNS → SQS deliveries (the webhook fan-out queue, after its filter policy) are SendMessage requests too:
        # measured as the messages that queue received.
        usage["sqs_requests"] += units.get("sns_sqs_deliveries", 0.0) * scale
        usage["sns_sqs_deliveries"] += units.get("sns_sqs_deliveries", 0.0) * scale
    if not any("sns_sqs_deliveries" in data["units"] for data in counts["per_invoice"].values()):
        # counts measured before deliveries were: every message delivered to each subscribed queue
        usage["sns_sqs_deliveries"] = usage["sns_messages"] * counts.get("sns_sqs_subscriptions", 1)
        usage["sqs_requests"] += usage["sns_sqs_deliveries"]
    return usage


def bulk_flow_counts(single: dict, invoices_per_flow: int, measure=None) -> tuple[dict, str]:
    """A flow's counts per invoice: measured when the app takes flows (or a flow benchmark left
    flow_counts.json), else modelled as the single deposit minus its per-request API costs."""
    if measure is not None:
        counts = measure()
        return counts, f"measured: {counts['scenario']}"
    if FLOW_COUNTS.exists():
        return json.loads(FLOW_COUNTS.read_text()), f"measured ({FLOW_COUNTS.name})"
    flow = copy.deepcopy(single)
    per = flow["per_invoice"]
    api = per.get("fn:APIHandler", {})
    # Per request, not per invoice: the API call, the authorizer, the Idempotency-Key record.
    per.pop("fn:api_key_authorizer", None)
    api["invocations"] = 1 / invoices_per_flow
    units = api.get("units", {})
    idem_wru = units.pop("WRU:idempotency", 0.0)
    units["WRU"] = units.get("WRU", 0.0) - idem_wru
    idem_calls = {"dynamodb:PutItem": 1.0, "dynamodb:UpdateItem": 1.0} if idem_wru else {}
    for call, n in idem_calls.items():
        api["calls"][call] = max(0.0, api["calls"].get(call, 0.0) - n)
    return flow, (
        f"modelled: measured single deposit minus its per-request API costs (API Gateway request, Lambda "
        f"request, authorizer, Idempotency-Key record), one request per {invoices_per_flow}-invoice file; "
        "each invoice still stored as its own original and processed as measured"
    )


def monthly_bill(usage: dict, p: dict, assumptions: dict, invoices: float, months_stored: float,
                 fixed: dict) -> dict[str, float]:
    """Dollars per component for `invoices` in a month, with `months_stored` months of originals kept."""
    n = invoices
    requests = usage["apigw_requests"] * n
    # X-Ray: a reservoir of 1 trace/s per rule, then 5 % of the rest. A trace per API request (its handler and
    # authorizer join it) and per event-driven invocation.
    traced = requests + usage["event_invocations"] * n
    reservoir = assumptions["xray_reservoir_per_second"] * SECONDS_PER_MONTH
    traces = min(traced, reservoir) + max(0.0, traced - reservoir) * assumptions["xray_sampling_ratio"]
    stored_gb = usage["s3_bytes"] * n * months_stored / GB
    dynamo_gb = usage["dynamodb_bytes"] * n * months_stored / GB
    index_gb = usage["dynamodb_index_bytes"] * n * months_stored / GB
    log_gb = usage["log_bytes"] * n / GB
    return {
        "API Gateway (REST)": requests / 1e6 * p["apigw_rest_per_million"],
        "Lambda requests": usage["lambda_requests"] * n / 1e6 * p["lambda_request_per_million"],
        "Lambda compute (arm64)": usage["lambda_gb_s"] * n * p["lambda_arm_gb_second"],
        "S3 requests": usage["s3_put"] * n / 1000 * p["s3_put_per_1000"] + usage["s3_get"] * n / 1000 * p[
            "s3_get_per_1000"],
        "S3 storage (Standard)": stored_gb * p["s3_standard_gb_month"],
        "DynamoDB writes": usage["wru"] * n / 1e6 * p["dynamodb_wru_per_million"],
        "DynamoDB reads": usage["rru"] * n / 1e6 * p["dynamodb_rru_per_million"],
        # GSI entries are billed storage too; PITR backs up the base tables only.
        "DynamoDB storage + PITR": dynamo_gb * (p["dynamodb_storage_gb_month"] + p["dynamodb_pitr_gb_month"])
        + index_gb * p["dynamodb_storage_gb_month"],
        "SQS": (usage["sqs_requests"] * n + fixed["esm_idle_receives"]) / 1e6 * p["sqs_per_million"],
        "SNS": usage["sns_requests"] * n / 1e6 * p["sns_publish_per_million"],
        "CloudWatch Logs": log_gb * (p["logs_ingest_gb"] + p["logs_storage_gb_month"]),
        "X-Ray": traces / 1e6 * p["xray_per_million_traces"],
        "CloudWatch alarms, dashboard, metrics": fixed["alarms"] * p["cloudwatch_alarm_month"]
        + p["cloudwatch_dashboard_month"]
        + fixed["custom_metrics"] * p["cloudwatch_custom_metric_month"],
        "KMS (topic key)": fixed["kms_keys"] * p["kms_key_month"]
        + topic_key_requests(fixed["topic_key_users"]) / 1e4 * p["kms_per_10000_requests"],
    }


def topic_key_requests(publishers: int) -> float:
    """KMS requests a month for an encrypted topic: not one per publish. SNS reuses a data key for up to 5 minutes,
    per publishing principal: R = B / D * (2 * P) (docs.aws.amazon.com/sns/latest/dg/sns-key-management.html,
    "Estimating AWS KMS costs"; AWS adds that the distributed SNS may make more). A fixed cost, whatever the volume."""
    return SECONDS_PER_MONTH / 300 * 2 * publishers


def per_million(usage: dict, p: dict, assumptions: dict) -> tuple[float, dict]:
    """One million invoices: every request, compute, log and trace, plus their first month of storage."""
    fixed = {"alarms": 0, "custom_metrics": 0, "esm_idle_receives": 0, "kms_keys": 0, "topic_key_users": 0}
    bill = monthly_bill(usage, p, assumptions | {"xray_reservoir_per_second": 0}, 1e6, 1, fixed)
    bill["CloudWatch alarms, dashboard, metrics"] = 0.0
    return sum(bill.values()), bill


def archive_tiers(prefix: str) -> list[tuple[int, str, str | None]]:
    """(from day, price of its storage class, price of the transition into it) for a large object under `prefix`
    (the bucket's lifecycle rules, stack.py, from the prod stage's days)."""
    stage = STAGES["prod"]
    standard = (0, "s3_standard_gb_month", None)
    glacier_ir = "s3_glacier_ir_gb_month", "s3_transition_glacier_ir_per_1000"
    if prefix == "inbox":
        return [standard, (INBOX_ARCHIVE_AFTER_DAYS, *glacier_ir)]
    return [standard, (stage.archive_after_days, *glacier_ir),
            (stage.deep_archive_after_days, "s3_deep_archive_gb_month", "s3_transition_deep_archive_per_1000")]


def retention_storage(usage: dict, p: dict, retention_days: float) -> dict[str, float]:
    """Dollars of storage one million invoices cost over the whole retention (their first month included): S3
    Standard for objects under the lifecycle's size threshold, the archive classes (and their transitions) for
    larger ones, DynamoDB items with PITR, and GSI entries (no PITR)."""
    months = retention_days * 86400 / SECONDS_PER_MONTH
    gb = 1e6 / GB
    archived = usage.get("s3_archived", {})
    standard_bytes = usage["s3_bytes"] - sum(a["bytes"] for a in archived.values())
    bill = {
        "S3 Standard": standard_bytes * gb * p["s3_standard_gb_month"] * months,
        "S3 archive classes (+ transitions)": 0.0,
        "DynamoDB items + PITR": usage["dynamodb_bytes"] * gb
        * (p["dynamodb_storage_gb_month"] + p["dynamodb_pitr_gb_month"]) * months,
        "DynamoDB GSI entries": usage["dynamodb_index_bytes"] * gb * p["dynamodb_storage_gb_month"] * months,
    }
    for prefix, amount in archived.items():
        tiers = archive_tiers(prefix)
        for (start, price, transition), (end, *_) in zip(tiers, [*tiers[1:], (retention_days,)], strict=True):
            tier_months = max(0.0, min(end, retention_days) - start) * 86400 / SECONDS_PER_MONTH
            dollars = amount["bytes"] * gb * p[price] * tier_months
            if transition and tier_months:
                dollars += amount["objects"] * 1e6 / 1000 * p[transition]
            if price == "s3_deep_archive_gb_month":  # 40 KB per object: 8 KB at the Standard rate, 32 KB at this one
                overhead_gb = amount["objects"] * 1e6 * 40 * 1024 / GB
                dollars += overhead_gb * (8 * p["s3_standard_gb_month"] + 32 * p[price]) / 40 * tier_months
            bill["S3 archive classes (+ transitions)"] += dollars
    return bill


def read_usage(counts: dict, assumptions: dict) -> dict | None:
    """Billable usage of one GET /v1/invoices/{id} (the benchmark's `read:` phases), or None if not measured."""
    phases = {k.removeprefix("read:"): v for k, v in counts["per_invoice"].items() if k.startswith("read:")}
    return per_invoice_usage({"per_invoice": phases}, assumptions) if phases else None


def peak_concurrency(usage: dict, peak: float) -> dict[str, float]:
    """Concurrent executions per function at `peak` invoices/s: rate x billed seconds per invoice."""
    return {fid: peak * info["ms_per_invoice"] / 1000 for fid, info in usage["lambda_ms"].items()}


def _one_object(usage: dict) -> dict:
    per_file = 1 / 1000
    sqs_saved = usage["s3_put"] - per_file  # one S3 notification per stored object
    return usage | {"s3_put": per_file, "s3_get": per_file, "sqs_requests": usage["sqs_requests"] - sqs_saved}


def fixed_costs(template_dir: Path) -> dict:
    """Alarms, dead-letter queues, KMS keys and the roles that publish with one (SNS's KMS requests are per
    publisher, topic_key_requests) counted in the synthesized prod template; assumed, with a note saying so,
    without one."""
    alarms, queues, kms_keys, key_users = 20, 3, 1, 3
    template = template_dir / "prod.template.json"
    note = (
        f"(no {template}: the monthly bill assumes {alarms} alarms, {queues} queues and {kms_keys} topic key used by "
        f"{key_users} publishers; run make synth)"
    )
    if template.exists():
        note = None
        resources = json.loads(template.read_text())["Resources"].values()
        alarms = sum(1 for r in resources if r["Type"] == "AWS::CloudWatch::Alarm")
        queues = sum(1 for r in resources if r["Type"] == "AWS::SQS::Queue" and "RedrivePolicy" in r["Properties"])
        kms_keys = sum(1 for r in resources if r["Type"] == "AWS::KMS::Key")
        policies = [r["Properties"]["PolicyDocument"] for r in resources if r["Type"] == "AWS::IAM::Policy"]
        key_users = sum(1 for policy in policies if "kms:GenerateDataKey" in json.dumps(policy["Statement"]))
    # The app's EMF metrics (one `service` dimension each): InvoicesDeposited, InvoicesAccepted, InvoicesRejected,
    # ProcessingLatency, EventsUnsendable, WebhooksDelivered, WebhookRetries, WebhooksGivenUp. API Gateway's are
    # its free stage metrics.
    return {
        "alarms": alarms,
        "custom_metrics": 8,
        "queues": queues,
        "kms_keys": kms_keys,
        "topic_key_users": key_users,
        "note": note,
    }


def money(value: float) -> str:
    return f"${value:,.2f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--region", default="eu-west-3")
    parser.add_argument("--volumes", default="100e6,2.5e9", help="yearly invoice volumes, comma-separated")
    parser.add_argument("--peak-month-factor", type=float, default=None, help="busiest month / average (1.2)")
    parser.add_argument("--peak", type=float, default=650.0, help="peak invoices/s (for the concurrency line)")
    parser.add_argument("--invoices", type=int, default=40, help="invoices the benchmark deposits")
    parser.add_argument("--counts", help="use this bench.py JSON instead of running the benchmark")
    parser.add_argument("--flow-counts", help="use this bench.py JSON (a flow run) for bulk flows")
    parser.add_argument("--flow-invoices", type=int, default=100, help="invoices in the measured flow")
    args = parser.parse_args(argv)

    prices = json.loads((INFRA / "prices.json").read_text())
    assumptions = prices["assumptions"]
    p = price_table(prices, args.region)
    peak_factor = args.peak_month_factor or assumptions["peak_month_factor"]

    measure_flow, subscribed_counts = None, None
    if args.counts:
        counts = json.loads(Path(args.counts).read_text())
        if args.flow_counts:
            measure_flow = lambda: json.loads(Path(args.flow_counts).read_text())  # noqa: E731
    else:
        import bench

        counts = bench.run(args.invoices)
        if bench.has_flows():
            measure_flow = lambda: bench.run(args.flow_invoices, flow=True)  # noqa: E731
        subscribed_counts = bench.run(args.invoices, subscribed=True)
    usage = per_invoice_usage(counts, assumptions)
    flow_counts, flow_basis = bulk_flow_counts(counts, assumptions["bulk_flow_invoices_per_file"], measure_flow)
    flow_usage = per_invoice_usage(flow_counts, assumptions)
    fixed_info = fixed_costs(INFRA / "cdk.out")
    fixed = {
        "alarms": fixed_info["alarms"],
        "custom_metrics": fixed_info["custom_metrics"],
        "esm_idle_receives": assumptions["esm_idle_receives_per_month_per_queue"] * fixed_info["queues"],
        "kms_keys": fixed_info["kms_keys"],
        "topic_key_users": fixed_info["topic_key_users"],
    }

    print(f"Chorale monthly AWS bill — {args.region} ({prices['regions'][args.region]['name']}), prices of "
          f"{prices['date']} ({prices['source']})")
    print(f"Measured {counts['measured']}: {counts['scenario']}; statuses {counts['statuses']}")
    if fixed_info["note"]:
        print(fixed_info["note"])
    print()
    print("Per invoice (measured on the local stack; Lambda ms scaled to each function's memory):")
    for call_kind, value in (
        ("API requests", usage["apigw_requests"]),
        ("Lambda invocations", usage["lambda_requests"]),
        ("Lambda GB-s", usage["lambda_gb_s"]),
        ("S3 PUT-class requests", usage["s3_put"]),
        ("S3 GET-class requests", usage["s3_get"]),
        ("S3 bytes stored", usage["s3_bytes"]),
        ("SQS requests", usage["sqs_requests"]),
        ("SNS messages", usage["sns_messages"]),
        ("SNS requests (64 KiB each)", usage["sns_requests"]),
        ("SNS → SQS deliveries", usage["sns_sqs_deliveries"]),
        ("DynamoDB write units", usage["wru"]),
        ("DynamoDB read units", usage["rru"]),
        ("DynamoDB bytes stored", usage["dynamodb_bytes"]),
        ("CloudWatch log bytes", usage["log_bytes"]),
    ):
        print(f"  {call_kind:<28} {value:12.4f}")
    for fid, info in usage["lambda_ms"].items():
        print(f"  Lambda {fid:<21} {info['ms_per_invoice']:9.2f} ms/invoice at {info['mb']} MB "
              f"({info['invocations']:.2f} invocations/invoice)")
    print(f"  (benchmark process peak RSS {counts['process_max_rss_mb']} MB, moto included)")
    print()
    sizes = (256, 512, 1024, 1769)
    print("Lambda memory (stages.py) from these measurements: $ per million invoices at each size (* = configured);")
    print("  CPU time scales with 1769/MB below one vCPU, waiting on AWS does not:")
    print(f"  {'function':<22}" + "".join(f"{mb:>10} MB" for mb in sizes))
    for fid, info in usage["lambda_ms"].items():
        cells = []
        for mb in sizes:
            ms = info["cpu_ms_full_vcpu"] * max(1.0, assumptions["lambda_cpu_full_vcpu_mb"] / mb) + info["io_ms"]
            dollars = ms / 1000 * mb / 1024 * p["lambda_arm_gb_second"] * 1e6
            cells.append(f"{dollars:>11.3f}{'*' if mb == info['mb'] else ' '}")
        print(f"  {fid:<22}" + "".join(cells))
    print()

    volumes = [float(v) for v in args.volumes.split(",")]
    columns = []
    for yearly in volumes:
        month = yearly / 12
        label = f"{yearly / 1e6:,.0f} M/yr" if yearly < 1e9 else f"{yearly / 1e9:,.1f} B/yr"
        columns.append((f"{label} avg", monthly_bill(usage, p, assumptions, month, 12, fixed)))
        columns.append((f"{label} peak", monthly_bill(usage, p, assumptions, month * peak_factor, 12, fixed)))
    width = 16
    print(f"Monthly bill, single deposits (peak = busiest month x{peak_factor}; S3/DynamoDB storage after 12 months):")
    print(f"  {'component':<40}" + "".join(f"{name:>{width}}" for name, _ in columns))
    for component in columns[0][1]:
        print(f"  {component:<40}" + "".join(f"{money(bill[component]):>{width}}" for _, bill in columns))
    print(f"  {'total':<40}" + "".join(f"{money(sum(bill.values())):>{width}}" for _, bill in columns))
    unsourced = {k for k, v in prices["regions"][args.region].items() if isinstance(v, dict) and "source" in v}
    shares = [unsourced_share(monthly_bill, usage, p, unsourced, assumptions, yearly / 12 * factor, 12, fixed)
              for yearly in volumes for factor in (1, peak_factor)]  # fmt: skip
    print(f"  {'of which prices not in the reference':<40}" + "".join(
        f"{f'{money(part)} {part / total:.0%}':>{width}}" for part, total in shares))  # fmt: skip
    print(f"  (the {len(unsourced)} prices.json entries with a `source`: {', '.join(sorted(unsourced))})")
    print()
    total_ms = sum(i["ms_per_invoice"] for i in usage["lambda_ms"].values())
    print(f"At the {args.peak:.0f} invoices/s peak: ~{args.peak * total_ms / 1000:.0f} concurrent Lambda executions "
          f"(rate x {total_ms:.0f} ms billed per invoice; see infra/CAPACITY.md):")
    for fid, concurrent in peak_concurrency(usage, args.peak).items():
        print(f"  {fid:<28} {concurrent:6.1f} concurrent ({usage['lambda_ms'][fid]['ms_per_invoice']:.1f} ms/invoice)")
    if subscribed_counts is not None:
        subscribed = per_invoice_usage(subscribed_counts, assumptions)
        extra = {f: c for f, c in peak_concurrency(subscribed, args.peak).items() if f not in usage["lambda_ms"]}
        print("  with a webhook at the supplier and at the buyer, also: "
              + ", ".join(f"{fid} {c:.1f}" for fid, c in extra.items()))
    stage, ms = STAGES["prod"], {fid: info["ms_per_invoice"] for fid, info in usage["lambda_ms"].items()}
    batches = assumptions["stream_shards"] * stage.stream_parallelization
    if ms.get("ValidateInvoices"):
        print(f"  validation reaches its cap (validation_max_concurrency {stage.validation_max_concurrency}) at "
              f"~{stage.validation_max_concurrency / ms['ValidateInvoices'] * 1000:,.0f} invoices/s")
    if ms.get("PublishStatusEvents"):
        print(f"  the stream publisher ({assumptions['stream_shards']} shards x parallelization "
              f"{stage.stream_parallelization} = {batches} batches at once) at "
              f"~{batches / ms['PublishStatusEvents'] * 1000:,.0f} invoices/s")
    print()
    single_total, single_bill = per_million(usage, p, assumptions)
    flow_total, flow_bill = per_million(flow_usage, p, assumptions)
    print("Per million invoices (requests, compute, logs, 5 % X-Ray sampling, first month of storage; no reads, no")
    print("storage after the first month, no data transfer out, no SES mail: see the lines below):")
    print(f"  {'component':<40}{'single':>{width}}{'bulk flow':>{width}}")
    for component in single_bill:
        if single_bill[component] or flow_bill[component]:
            print(f"  {component:<40}{money(single_bill[component]):>{width}}{money(flow_bill[component]):>{width}}")
    print(f"  bulk flows: {flow_basis}")
    print()
    alternatives = {
        "single deposits behind an HTTP API instead of REST (not what Chalice deploys)": usage
        | {"apigw_requests": usage["apigw_requests"] * p["apigw_http_per_million"] / p["apigw_rest_per_million"]},
        "bulk flow kept as one S3 object (no per-bundle PUT/GET/notification)": _one_object(flow_usage),
    }
    if subscribed_counts is not None:  # measured: both parties subscribed, every event delivered to both
        alternatives["single deposits with a webhook at the supplier and at the buyer (4 deliveries)"] = (
            per_invoice_usage(subscribed_counts, assumptions))  # fmt: skip
    floor = (p["apigw_rest_per_million"] + p["s3_put_per_1000"] * 1000 + p["s3_get_per_1000"] * 1000)
    print("Design alternatives (per million, same measurements):")
    for name, alternative in alternatives.items():
        print(f"  {name:<80}{money(per_million(alternative, p, assumptions)[0]):>{width}}")
    # What no single deposit of this pipeline can do without: the API handler's Lambda request, a tenth of a
    # validation Lambda request (batches of 10), the S3 notification's SQS send plus a batched receive and delete
    # (~1.2 requests) and one write unit for its record (no claim, no index, no idempotency, no logs).
    least = floor + p["lambda_request_per_million"] * 1.1 + p["sqs_per_million"] * 1.2 + p["dynamodb_wru_per_million"]
    print(f"  {'floor of a single deposit: its REST request, the original S3 PUT and GET, nothing else':<80}"
          f"{money(floor):>{width}}")
    print(f"  {'  + 1.1 Lambda requests, 1.2 SQS requests and 1 write unit: the least it can cost':<80}"
          f"{money(least):>{width}}")
    print()
    print("Notes:")
    print("  - Batches are measured full: the benchmark deposits every invoice, then drains the queues and the")
    print("    stream, so every batch is as full as it can be (10 invoices a validation batch). At low average rates a")
    print("    poll often returns one record: more Lambda, SQS, SNS, log and X-Ray requests per invoice, an estimated")
    print("    +$2.4 per million single deposits at 100 M/yr (review r61, from the code and template; not measured).")
    print("  - Data transfer out (downloads of originals, ~$0.09/GB) and SES e-mail notifications are not priced.")
    retention_days = STAGES["prod"].retention_days
    lifetime = retention_storage(usage, p, retention_days)
    flow_lifetime = retention_storage(flow_usage, p, retention_days)
    print(f"storage over the retention period per million invoices: ${sum(lifetime.values()):.2f} "
          f"(single deposits, {retention_days:,} days: "
          + ", ".join(f"{name} ${dollars:.2f}" for name, dollars in lifetime.items() if dollars)
          + f"; ${sum(flow_lifetime.values()):.2f} in bulk flows; the last two lines count its first month only)")
    reads = read_usage(counts, assumptions)
    if reads is not None:
        read_total, read_bill = per_million(reads, p, assumptions)
        print("per million reads (GET /v1/invoices/{id}): " + f"${read_total:.2f} ("
              + ", ".join(f"{name} ${dollars:.2f}" for name, dollars in read_bill.items() if dollars >= 0.005) + ")")
    print(f"cost per million single deposits: ${single_total:.2f}")
    print(f"cost per million in bulk flows: ${flow_total:.2f}")


if __name__ == "__main__":
    main()
