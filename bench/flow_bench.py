"""Wall time of a bulk flow on the local stack, and where the time goes.

    .venv/bin/python bench/flow_bench.py [--files 1000] [--invalid-every 10]

Starts `python -m devstack` (moto server + event pump + local gateway) in a subprocess, posts a ZIP of
N invoices (UBL, CII and JSON, one in `--invalid-every` breaking BR-CO-16) to POST /v1/flows, and
polls GET /v1/flows/{id} until the flow is final. Then it reads the timestamps the platform wrote
(the flow header's expansion time, each invoice's decision time) from the AWS stand-in to split the
wall time into stages:

  api        POST /v1/flows: the archive into inbox/ (202)
  expand     inbox notification → expansion finished (all originals written, fan-out done)
  validate   first → last invoice decision (the validation handler draining the queue)
  (the report reads the invoices' decisions when the flow is read: no stage of its own)

and, in this process, the CPU cost per invoice of the pure work (archive reading, format checks,
EN 16931 validation) to compare with the per-invoice wall time of the pipeline.

    .venv/bin/python bench/flow_bench.py --in-process [--files 200]

runs the same flow in one process on moto's in-memory backend (no HTTP, no pump threads), calling each
handler until its queue is empty, and profiles it: the time of each handler, and how much of it is the
EN 16931 engine, format work, the AWS SDK and moto's emulation.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import statistics
import sys
import tempfile
import time
import zipfile
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import conftest  # noqa: E402,F401  (tests/conftest.py: test credentials, no real AWS)

SUPPLIER_KEY = "demo-supplier-atelier-key"


def build_archive(count: int, invalid_every: int) -> bytes:
    from invoices import invalid_ubl_invoice, ubl_invoice
    from structured_invoices import cii_invoice, json_invoice

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for i in range(count):
            number = f"BENCH-{i:05d}"
            if invalid_every and i % invalid_every == invalid_every - 1:
                archive.writestr(f"invalid-{i:05d}.xml", invalid_ubl_invoice(number))
            elif i % 5 == 1:
                archive.writestr(f"cii-{i:05d}.xml", cii_invoice(number))
            elif i % 5 == 2:
                archive.writestr(f"json-{i:05d}.json", json.dumps(json_invoice(number)))
            else:
                archive.writestr(f"ubl-{i:05d}.xml", ubl_invoice(number))
    return out.getvalue()


def _ts(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def cpu_per_invoice(archive: bytes, sample: int = 100) -> dict[str, float]:
    from chalicelib.formats import archives
    from chalicelib.services import intake
    from chalicelib.validation import validate

    start = time.process_time()
    members = archives.read_members(archive)
    read_ms = (time.process_time() - start) * 1000 / len(members)
    members = members[:sample]
    start = time.process_time()
    prepared = [intake.prepare_member(m.data) for m in members]
    prepare_ms = (time.process_time() - start) * 1000 / len(members)
    start = time.process_time()
    for m, p in zip(members, prepared, strict=True):
        validate(p.rendition or m.data)
    validate_ms = (time.process_time() - start) * 1000 / len(members)
    return {"read_archive_ms": read_ms, "format_check_ms": prepare_ms, "en16931_validate_ms": validate_ms}


def in_process(count: int, invalid_every: int) -> int:
    import cProfile
    import pstats

    import boto3
    from moto import mock_aws

    from chalicelib.config import settings
    from chalicelib.entrypoints import dependencies
    from devstack.pump import EventPump
    from devstack.resources import create_resources
    from devstack.seed import load_seed

    archive = build_archive(count, invalid_every)
    with mock_aws():
        dependencies.reset()
        resources = create_resources(settings(), visibility_timeout=0)
        for name in (settings().validation_queue, settings().inbox_queue):
            boto3.client("sqs").purge_queue(QueueUrl=resources.queue_urls[name])
        load_seed(ROOT / "devstack" / "demo-seed.json")
        import app as application

        pump = EventPump(application.app, settings().region, {})
        from chalice.test import Client

        profile = cProfile.Profile()
        timings: dict[str, float] = {}

        def timed(name: str, action):
            start = time.perf_counter()
            profile.enable()
            result = action()
            profile.disable()
            timings[name] = timings.get(name, 0.0) + time.perf_counter() - start
            return result

        with Client(application.app, stage_name="dev", project_dir=str(ROOT)) as client:
            headers = {"Authorization": f"Bearer {SUPPLIER_KEY}", "Content-Type": "application/zip"}
            post = lambda: client.http.post("/v1/flows", headers=headers, body=archive)  # noqa: E731
            response = timed("api: POST /v1/flows", post)
            flow_id = json.loads(response.body)["id"]
            timed("expand_inbox (fan-out)", lambda: pump.deliver_sqs_once("expand_inbox"))

            def drain():
                while pump.deliver_sqs_once("validate_invoices"):
                    pass

            timed("validate_invoices (all batches)", drain)
            report = timed("api: GET /v1/flows/{id}", lambda: client.http.get(f"/v1/flows/{flow_id}",
                           headers={"Authorization": f"Bearer {SUPPLIER_KEY}"}))  # fmt: skip
        flow = json.loads(report.body)
        dependencies.reset()
    total = sum(timings.values())
    print(f"in-process flow of {count} files: {flow['state']} {flow['counts']}, {total:.1f} s of handler time")
    for name, seconds in timings.items():
        print(f"  {name:<40} {seconds:7.2f} s  {seconds / total * 100:5.1f} %  ({seconds / count * 1000:.1f} ms/file)")
    stats = pstats.Stats(profile)
    groups = {"EN 16931 engine (chalicelib/validation)": 0.0, "formats (factur-x, pypdf, jsonschema, archives)": 0.0,
              "moto (AWS emulation)": 0.0, "boto3/botocore (SDK: signing, serialising)": 0.0,
              "pynamodb": 0.0, "other": 0.0}  # fmt: skip
    for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():
        if "chalicelib/validation" in filename:
            groups["EN 16931 engine (chalicelib/validation)"] += tottime
        elif any(p in filename for p in ("facturx", "pypdf", "jsonschema", "chalicelib/formats", "zipfile")):
            groups["formats (factur-x, pypdf, jsonschema, archives)"] += tottime
        elif "/moto/" in filename or "/werkzeug/" in filename or "/responses/" in filename:
            groups["moto (AWS emulation)"] += tottime
        elif "/botocore/" in filename or "/boto3/" in filename or "/urllib3/" in filename:
            groups["boto3/botocore (SDK: signing, serialising)"] += tottime
        elif "/pynamodb/" in filename:
            groups["pynamodb"] += tottime
        else:
            groups["other"] += tottime
    profiled = sum(groups.values())
    print("where the profiled time goes (self time by package):")
    for name, seconds in sorted(groups.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<50} {seconds:7.2f} s  {seconds / profiled * 100:5.1f} %")
    print("top functions by self time:")
    for (filename, line, name), (_cc, calls, tottime, _ct, _callers) in sorted(
        stats.stats.items(), key=lambda kv: -kv[1][2]
    )[:15]:
        print(f"  {tottime:7.2f} s  {calls:>8} calls  {name} ({'/'.join(filename.split('/')[-3:])}:{line})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--invalid-every", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--in-process", action="store_true", help="moto in memory, handlers called directly")
    args = parser.parse_args(argv)
    if args.in_process:
        return in_process(args.files, args.invalid_every)

    archive = build_archive(args.files, args.invalid_every)
    print(f"archive: {args.files} files, {len(archive) / 1024:.0f} KiB zipped")
    from devstack.launcher import start_local_stack

    seed = Path(tempfile.mkdtemp()) / "seed.json"
    shutil.copy(ROOT / "devstack" / "demo-seed.json", seed)
    stack = start_local_stack(seed)
    try:
        started = time.time()
        response = stack.request("POST", "/v1/flows", SUPPLIER_KEY, archive, {"Content-Type": "application/zip"})
        api_done = time.time()
        assert response.status == 202, response.body
        flow_id = response.json()["id"]

        def final():
            try:  # the local gateway shares the process (and the GIL) with the busy pump: slow answers happen
                flow = stack.request("GET", f"/v1/flows/{flow_id}", SUPPLIER_KEY).json()
            except TimeoutError:
                return None
            return flow if flow["state"] not in ("IN_RECU", "IN_EN_COURS_TRAITEMENT") else None

        flow = stack.wait_for(final, timeout=args.timeout, interval=2.0)
        finished = time.time()
        wall = finished - started

        dynamodb = stack.aws("dynamodb")
        items = []
        kwargs = {"TableName": "chorale-flows", "KeyConditionExpression": "pk = :p",
                  "ExpressionAttributeValues": {":p": {"S": f"flow#{flow_id}"}}}  # fmt: skip
        while True:
            page = dynamodb.query(**kwargs)
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        header = next(i for i in items if i["sk"]["S"] == "#")
        expanded_at = _ts(header["updated_at"]["S"]) if "updated_at" in header else None
        invoice_ids = [f["M"]["invoice_id"]["S"] for i in items for f in i.get("files", {}).get("L", [])
                       if "invoice_id" in f["M"]]  # fmt: skip
        decisions = []
        for chunk in range(0, len(invoice_ids), 100):
            keys = [{"id": {"S": i}} for i in invoice_ids[chunk : chunk + 100]]
            got = dynamodb.batch_get_item(RequestItems={"chorale-invoices": {"Keys": keys,
                                          "ProjectionExpression": "updated_at"}})  # fmt: skip
            decisions += [_ts(r["updated_at"]["S"]) for r in got["Responses"]["chorale-invoices"]]
        decisions.sort()
    finally:
        stack.process.terminate()
        stack.process.wait(timeout=120)

    counts = flow["counts"]
    print(f"flow {flow_id}: {flow['state']} {counts}")
    print(f"wall time: {wall:.1f} s for {args.files} files ({args.files / wall:.1f} files/s)")
    stages = [("api (POST /v1/flows → 202)", api_done - started)]
    if expanded_at:
        stages.append(("expand (→ all originals written)", expanded_at - api_done))
    if decisions:
        first = expanded_at or api_done
        stages.append(("validate: first decision after expansion", max(0.0, decisions[0] - first)))
        stages.append(("validate: first → last decision", decisions[-1] - decisions[0]))
        gaps = [b - a for a, b in zip(decisions, decisions[1:], strict=False)]
        print(f"decisions: {len(decisions)}, median gap {statistics.median(gaps) * 1000:.1f} ms "
              f"({len(decisions) / max(decisions[-1] - decisions[0], 1e-9):.1f} invoices/s)")  # fmt: skip
    stages.append(("poll granularity (last decision → seen final)", finished - (decisions[-1] if decisions
                                                                                else finished)))  # fmt: skip
    for name, seconds in stages:
        print(f"  {name:<48} {seconds:7.1f} s  {seconds / wall * 100:5.1f} %")
    cpu = cpu_per_invoice(archive)
    print("CPU per invoice in one process (no AWS): " + ", ".join(f"{k} {v:.2f}" for k, v in cpu.items()))
    if decisions and len(decisions) > 1:
        per = (decisions[-1] - decisions[0]) / (len(decisions) - 1) * 1000
        print(f"pipeline wall per invoice {per:.1f} ms vs {cpu['en16931_validate_ms']:.1f} ms of validation CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
