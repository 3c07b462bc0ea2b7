"""Measure what one invoice costs in AWS calls: the real handlers, on moto in-process, every call counted.

The deposit goes through the chalice test client (authorizer + API handler), then the event pump
delivers the S3 notification to `validate_invoices` and the stream records to `publish_status_events`
(and any other event handler the app has), exactly as the integration tests drive them. Every botocore
call is counted per function ("phase"), with DynamoDB capacity units computed from item sizes, S3
bytes, SNS messages, the handlers' own CPU time (AWS time excluded) and the log bytes they write.

`python infra/cost/bench.py` prints the counts as JSON; infra/cost/cost.py prices them.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import resource
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STAGE = "prod"
ARCHIVED_OBJECT_BYTES = 128 * 1024  # the lifecycle rules' object_size_greater_than (infra/chorale_infra/stack.py)


def _environment(stage: str = STAGE) -> None:
    """What Lambda would see in the stage (config.json), with fake credentials and no real AWS."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    env = {**config.get("environment_variables", {}), **config["stages"][stage].get("environment_variables", {})}
    os.environ.update(env)
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": "eu-west-3",
            "AWS_REGION": "eu-west-3",
            "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
            "POWERTOOLS_TRACE_DISABLED": "1",  # X-Ray is priced per trace, not measured
            "POWERTOOLS_METRICS_DISABLED": "0",  # EMF metrics are log bytes: measure them
            "POWERTOOLS_DEV": "0",
        }
    )
    for var in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        os.environ.pop(var, None)
    sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


# --- DynamoDB item size (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html)
def _value_size(value: dict) -> int:
    (kind, raw), = value.items()
    if kind == "S":
        return len(raw.encode())
    if kind == "N":
        digits = raw.lstrip("-").replace(".", "").lstrip("0") or "0"
        return (len(digits) + 1) // 2 + 1
    if kind == "B":
        return len(raw) if isinstance(raw, bytes) else len(raw.encode())
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(_value_size(v) + 1 for v in raw)
    if kind == "M":
        return 3 + sum(len(k.encode()) + _value_size(v) + 1 for k, v in raw.items())
    if kind in ("SS", "NS", "BS"):
        return sum(_value_size({kind[0]: v}) for v in raw)
    return 0


def item_size(item: dict | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def wru(size: int) -> int:
    return max(1, math.ceil(size / 1024))


def rru(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / 4096))
    return units if consistent else units / 2


class Meter:
    """Counts botocore calls per phase (the Lambda function running, or the event source mapping).

    Handlers run one at a time (the pump and the test client are sequential), but a handler may call AWS
    from worker threads (a ThreadPoolExecutor): those calls belong to the invocation that is running, and
    their CPU time (moto's) is subtracted from its compute time like the calls of its own thread.
    """

    def __init__(self) -> None:
        self.calls: Counter = Counter()  # (phase, service, operation) → calls
        self.units: Counter = Counter()  # (phase, "WRU"|"RRU"|"sns_messages"|"s3_put_bytes"|...) → amount
        self.compute_ms: Counter = Counter()  # phase → handler CPU ms (AWS time excluded)
        self.invocations: Counter = Counter()  # phase → Lambda invocations
        self.log_bytes: Counter = Counter()  # phase → bytes written to stdout (logs, EMF)
        self._lock = threading.RLock()
        self._invocation: list | None = None  # [phase, foreign seconds] of the handler running now
        self._outer = "setup"
        self.measuring = False
        self.prefix = ""  # "read:" while the read path is measured

    @property
    def phase(self) -> str:
        """Where a call is counted: the handler running, else the phase outside handlers (esm, setup)."""
        return self._invocation[0] if self._invocation is not None else self._outer

    @contextlib.contextmanager
    def running(self, phase: str, invocation: bool = True):
        """Time a phase. Handler compute = the process's CPU time during the invocation, minus the CPU time
        spent inside AWS calls (moto, any thread) and inside nested invocations (the authorizer)."""
        if not phase.startswith("aws:"):
            phase = self.prefix + phase
        outer_invocation, outer = self._invocation, self._outer
        cpu_start, thread_start = time.process_time(), time.thread_time()
        with self._lock:
            if invocation:
                self._invocation = [phase, 0.0]  # [phase, CPU seconds to subtract]
                if self.measuring:
                    self.invocations[phase] += 1
            elif not phase.startswith("aws:"):
                self._outer = phase
        try:
            yield
        finally:
            with self._lock:
                if invocation:
                    total = time.process_time() - cpu_start
                    if self.measuring:
                        self.compute_ms[phase] += max(0.0, total - self._invocation[1]) * 1000
                    self._invocation = outer_invocation
                    if self._invocation is not None:
                        self._invocation[1] += total  # a nested invocation is not the outer one's work
                elif phase.startswith("aws:"):
                    if self._invocation is not None:
                        self._invocation[1] += time.thread_time() - thread_start
                else:
                    self._outer = outer

    def count(self, service: str, operation: str, **units) -> None:
        if not self.measuring:
            return
        phase = self.phase
        self.calls[(phase, service, operation)] += 1
        for name, amount in units.items():
            self.units[(phase, name)] += amount


METER = Meter()


class _LogSink(io.TextIOBase):
    """stdout for the handlers: counts bytes per phase, keeps nothing."""

    def write(self, text: str) -> int:
        if METER.measuring:
            METER.log_bytes[METER.phase] += len(text.encode())
        return len(text)


def _install_call_hook() -> None:
    """Count every botocore call (units included) and time moto's side of it (the 'AWS service' time).

    Botocore's client-side work (serializing, signing, parsing) stays in the handler's compute time, as
    it does in Lambda; the meter's own look-ups (item sizes, key schemas) are excluded entirely.
    """
    from botocore.client import BaseClient
    from moto.core.botocore_stubber import BotocoreStubber

    if getattr(BaseClient._make_api_call, "metered", False):
        return
    original = BaseClient._make_api_call
    stub = BotocoreStubber.__call__

    def measured(client, operation: str, params: dict):
        if getattr(_local, "inside", False) or getattr(_local, "calling", False):
            return original(client, operation, params)
        service = client.meta.service_model.service_name
        with METER.running("aws:meter", invocation=False):  # the meter's own look-ups: not handler time
            before = _dynamodb_before(client, original, operation, params) if service == "dynamodb" else None
        _local.calling = True
        try:
            response, error = original(client, operation, params), None
        except Exception as exc:
            response, error = None, exc
        finally:
            _local.calling = False
        with METER.running("aws:meter", invocation=False):
            units = _units(client, original, service, operation, params, response, before, error)
        METER.count(service, operation, **units)
        if error is not None:
            raise error
        return response

    def served(self, event_name: str, request, **kwargs):
        if getattr(_local, "inside", False):
            return stub(self, event_name, request, **kwargs)
        with METER.running("aws:service", invocation=False):
            return stub(self, event_name, request, **kwargs)

    measured.metered = True
    BaseClient._make_api_call = measured
    BotocoreStubber.__call__ = served


_local = threading.local()


def _fetch(client, original, table: str, key: dict) -> dict | None:
    _local.inside = True
    try:
        return original(client, "GetItem", {"TableName": table, "Key": key, "ConsistentRead": True}).get("Item")
    finally:
        _local.inside = False


def _dynamodb_before(client, original, operation: str, params: dict):
    if operation in ("PutItem", "UpdateItem", "DeleteItem"):
        return _fetch(client, original, params["TableName"], _key_of(client, original, params))
    if operation == "TransactWriteItems":
        return [_fetch(client, original, body["TableName"], _key_of(client, original, body))
                for body in (next(iter(entry.values())) for entry in params["TransactItems"])]
    return None


_SCHEMAS: dict[str, dict] = {}


def _schema(client, original, table: str) -> dict:
    if table not in _SCHEMAS:
        _local.inside = True
        try:
            description = original(client, "DescribeTable", {"TableName": table})["Table"]
        finally:
            _local.inside = False
        _SCHEMAS[table] = {
            "keys": [k["AttributeName"] for k in description["KeySchema"]],
            "gsis": [
                {
                    "keys": [k["AttributeName"] for k in index["KeySchema"]],
                    "projection": index.get("Projection", {"ProjectionType": "ALL"}),
                }
                for index in description.get("GlobalSecondaryIndexes", [])
            ],
        }
    return _SCHEMAS[table]


def _key_of(client, original, params: dict) -> dict:
    keys = _schema(client, original, params["TableName"])["keys"]
    source = params.get("Key") or params.get("Item") or {}
    return {name: source[name] for name in keys if name in source}


def projected(item: dict | None, gsi: dict, table_keys: list[str]) -> dict | None:
    """The entry an item has in a GSI (its projection), or None when the item lacks the index's keys (sparse)."""
    if not item or not all(k in item for k in gsi["keys"]):
        return None
    if gsi["projection"].get("ProjectionType", "ALL") == "ALL":
        return item
    names = set(gsi["keys"]) | set(table_keys) | set(gsi["projection"].get("NonKeyAttributes", []))
    return {k: v for k, v in item.items() if k in names}


def index_storage(items: list[dict], gsi: dict, table_keys: list[str]) -> tuple[int, int]:
    """Bytes and entries a GSI stores for these items: each projected entry + DynamoDB's 100 B per index entry."""
    entries = [entry for entry in (projected(item, gsi, table_keys) for item in items) if entry is not None]
    return sum(item_size(entry) + 100 for entry in entries), len(entries)


def _gsi_wru(schema: dict, before: dict | None, after: dict | None) -> int:
    """Write units a table write costs in its GSIs (AWS bills them: put, update, or delete + put on a key change)."""
    total = 0
    for gsi in schema["gsis"]:
        old, new = projected(before, gsi, schema["keys"]), projected(after, gsi, schema["keys"])
        if old is None and new is None:
            continue
        if old is not None and new is not None:
            if all(old[k] == new[k] for k in gsi["keys"]):
                total += wru(max(item_size(old), item_size(new))) if old != new else 0
            else:
                total += wru(item_size(old)) + wru(item_size(new))
        else:
            total += wru(item_size(old or new))
    return total


def _units(client, original, service, operation, params, response, before, error=None) -> dict:
    units = _units_total(client, original, service, operation, params, response, before, error)
    if service == "dynamodb" and "RRU" in units:
        tables = _tables_of(params)
        units[f"RRU:{_short(tables[0]) if len(tables) == 1 else 'mixed'}"] = units["RRU"]
    return units


def _short(table: str) -> str:
    return table.removeprefix("chorale-")


def _tables_of(params: dict) -> list[str]:
    if "TableName" in params:
        return [params["TableName"]]
    if "TransactItems" in params:
        return sorted({next(iter(e.values()))["TableName"] for e in params["TransactItems"]})
    return sorted(params.get("RequestItems", {}))


def _write(client, original, table: str, before, after, factor: int, units: dict) -> None:
    schema = _schema(client, original, table)
    table_units = factor * wru(max(item_size(before), item_size(after)))
    gsi_units = _gsi_wru(schema, before, after)
    units["WRU"] = units.get("WRU", 0) + table_units + gsi_units
    units[f"WRU:{_short(table)}"] = units.get(f"WRU:{_short(table)}", 0) + table_units
    if gsi_units:
        units[f"WRU:{_short(table)}/gsi"] = units.get(f"WRU:{_short(table)}/gsi", 0) + gsi_units


def _sns_fed_queues() -> set[str]:
    """The queues the events topic delivers to (the local stack subscribes them as infra does)."""
    from chalicelib.config import settings

    return {settings().webhook_events_queue}


def _units_total(client, original, service, operation, params, response, before, error=None) -> dict:
    if service == "dynamodb":
        units: dict = {}
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            table = params["TableName"]
            after = None if error else _fetch(client, original, table, _key_of(client, original, params))
            # A refused conditional write still consumes the units of the item it was checked against.
            _write(client, original, table, before, after or (params.get("Item") if error else None), 1, units)
            return units
        if operation == "TransactWriteItems":
            for entry, old in zip(params["TransactItems"], before or [], strict=False):
                (kind, body), = entry.items()
                after = None if error else _fetch(client, original, body["TableName"], _key_of(client, original, body))
                if kind == "ConditionCheck":
                    after = old
                _write(client, original, body["TableName"], old, after if not error else old, 2, units)
            return units
        if operation == "BatchWriteItem":
            for table, requests in params["RequestItems"].items():
                for request in requests:
                    _write(client, original, table, None, request.get("PutRequest", {}).get("Item"), 1, units)
            return units
        if operation == "GetItem":
            return {"RRU": rru(item_size((response or {}).get("Item")), params.get("ConsistentRead", False))}
        if operation in ("Query", "Scan"):
            size = sum(item_size(i) for i in (response or {}).get("Items", []))
            return {"RRU": rru(size, params.get("ConsistentRead", False))}
        if operation == "TransactGetItems":
            return {"RRU": 2 * len(params["TransactItems"])}
        if operation == "BatchGetItem":
            items = [i for rs in (response or {}).get("Responses", {}).values() for i in rs]
            return {"RRU": sum(rru(item_size(i), False) for i in items)}
    if service == "s3" and operation == "PutObject":
        body = params.get("Body", b"")
        size = len(body) if isinstance(body, (bytes, bytearray)) else len(getattr(body, "getvalue", lambda: b"")())
        key = params.get("Key", "")
        units = {"s3_put_bytes": size, "s3_notifications": int(key.startswith("originals/"))}
        prefix = key.split("/", 1)[0]
        if size > ARCHIVED_OBJECT_BYTES and prefix in ("originals", "inbox"):
            # the bucket's lifecycle moves these to archive classes (infra/chorale_infra/stack.py): priced apart
            units |= {f"s3_archived_bytes:{prefix}": size, f"s3_archived_objects:{prefix}": 1}
        return units
    if service == "sns" and operation in ("PublishBatch", "Publish"):
        # Billed per request, each 64 KiB of the request's payload counting as one; delivered per message.
        entries = params["PublishBatchRequestEntries"] if operation == "PublishBatch" else [params]
        payload = sum(
            len(e["Message"].encode())
            + sum(len(k) + len(v.get("StringValue", "").encode()) + len(v["DataType"])
                  for k, v in e.get("MessageAttributes", {}).items())  # fmt: skip
            for e in entries
        )
        return {"sns_messages": len(entries), "sns_requests": max(1, math.ceil(payload / 65536))}
    if service == "sqs" and operation == "ReceiveMessage":
        received = len((response or {}).get("Messages") or [])
        units = {"sqs_empty_receives": int(not received)}
        if params.get("QueueUrl", "").rsplit("/", 1)[-1] in _sns_fed_queues():
            # What SNS delivered to a subscribed queue (after its filter policy): a SendMessage each, billed.
            units["sns_sqs_deliveries"] = received
        return units
    if service == "sqs" and operation in ("SendMessageBatch", "DeleteMessageBatch"):
        return {"sqs_batch_entries": len(params["Entries"])}
    return {}


def has_flows() -> bool:
    """Whether the app takes bulk flows (POST /v1/flows, issue #5): then they are measured, not modelled."""
    _environment()
    import app as application

    return "POST" in getattr(application.app.routes.get("/v1/flows", {}), "keys", lambda: [])()


def _zip(files: dict[str, bytes]) -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


_RECEIVER = """
import http.server, sys
class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(204)
        self.end_headers()
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
print(server.server_port, flush=True)
server.serve_forever()
"""


@contextlib.contextmanager
def _webhook_receiver():
    """A receiver on 127.0.0.1 answering 204, in its own process (its CPU is not the delivery function's)."""
    process = subprocess.Popen([sys.executable, "-c", _RECEIVER], stdout=subprocess.PIPE, text=True)
    try:
        yield f"http://127.0.0.1:{int(process.stdout.readline())}/hooks/chorale"
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextlib.contextmanager
def _subscribed(client, keys: list[str]):
    """Each of these structures subscribes a webhook (on a local receiver) before the measured deposits; every
    delivery is counted (https:POST) so that make cost can price the receiver's answer time."""
    from chalicelib.adapters.webhook_http import HttpWebhookSender
    from chalicelib.domain.subscriptions_security import UrlPolicy
    from chalicelib.entrypoints import dependencies

    policy, post = dependencies.url_policy, HttpWebhookSender.post

    def counted_post(self, *args, **kwargs):
        METER.count("https", "POST", webhook_posts=1)
        return post(self, *args, **kwargs)

    dependencies.url_policy = lambda: UrlPolicy(local_stack=True)  # the receiver is on this machine
    HttpWebhookSender.post = counted_post
    try:
        with _webhook_receiver() as url:
            for key in keys:
                response = client.http.post("/v1/subscriptions", body=json.dumps({"url": url}),
                                            headers={"Authorization": f"Bearer {key}",
                                                     "Content-Type": "application/json"})  # fmt: skip
                if response.status_code != 201:
                    raise SystemExit(f"subscription refused: {response.status_code} {response.body[:300]!r}")
            yield
    finally:
        dependencies.url_policy, HttpWebhookSender.post = policy, post


def run(invoices: int = 40, idempotency_key: bool = True, reads: int = 10, flow: bool = False,
        subscribed: bool = False) -> dict:  # fmt: skip
    """Deposit `invoices` valid invoices one by one (or as one zip flow), process them through every event
    handler; counts per invoice. `subscribed`: the supplier and the buyer each have a webhook."""
    global METER
    METER = Meter()
    _environment()
    _install_call_hook()
    import boto3
    from chalice.app import ChaliceAuthorizer, DynamoDBEventConfig, SQSEventConfig
    from chalice.test import Client
    from moto import mock_aws

    with mock_aws():
        from invoices import MAIRIE_SIRET, ubl_invoice

        import app as application
        from chalicelib.config import settings
        from chalicelib.entrypoints import dependencies
        from chalicelib.entrypoints.observability import logger
        from devstack.pump import EventPump
        from devstack.resources import create_resources
        from devstack.seed import load_seed

        dependencies.reset()
        resources = create_resources(settings(), visibility_timeout=0)
        sqs = boto3.client("sqs")
        for url in resources.queue_urls.values():
            sqs.purge_queue(QueueUrl=url)
        seed = json.loads((ROOT / "devstack" / "demo-seed.json").read_text())
        load_seed(ROOT / "devstack" / "demo-seed.json")
        supplier = next(s for s in seed["structures"] if "supplier" in s.get("roles", []) and s.get("api_keys"))
        key = supplier["api_keys"][0]
        buyer = next(s for s in seed["structures"] if s["siret"] == MAIRIE_SIRET)  # ubl_invoice's buyer

        app = application.app
        stream_arns = {
            s.name: resources.invoice_stream_arn for s in app.event_sources if isinstance(s, DynamoDBEventConfig)
        }
        pump = EventPump(app, settings().region, stream_arns)
        original_invoke = pump.invoke

        def invoke(name, event):
            with METER.running(f"fn:{name}"):
                return original_invoke(name, event)

        pump.invoke = invoke
        authorize = ChaliceAuthorizer.__call__

        def authorizer_call(self, event, context):
            with METER.running(f"fn:{self.name}"):
                return authorize(self, event, context)

        ChaliceAuthorizer.__call__ = authorizer_call
        app_call = type(app).__call__

        def api_handler_call(self, event, context):  # what Lambda runs for a route (not the test gateway)
            with METER.running("fn:APIHandler"):
                return app_call(self, event, context)

        type(app).__call__ = api_handler_call

        sink = _LogSink()
        for handler in logger.handlers if hasattr(logger, "handlers") else []:
            handler.setStream(sink)
        with contextlib.suppress(Exception):
            logger.registered_handler.setStream(sink)

        body_bytes = 0
        ids = []
        with contextlib.ExitStack() as scenario:
            client = scenario.enter_context(Client(app, stage_name=STAGE, project_dir=str(ROOT)))
            scenario.enter_context(contextlib.redirect_stdout(sink))
            if subscribed:
                scenario.enter_context(_subscribed(client, [key, buyer["api_keys"][0]]))
            # Warm-up (imports, lazily created clients: a warm Lambda), not measured.
            client.http.post(
                "/v1/invoices",
                headers={"Authorization": f"Bearer {key}", "Content-Type": "application/xml"},
                body=ubl_invoice("BENCH-WARMUP"),
            )
            with METER.running("esm", invocation=False):
                _drain(pump, app, SQSEventConfig, DynamoDBEventConfig)
            stored_before = _stored_bytes()
            METER.measuring = True
            if flow:
                files = {f"invoice-{i:05d}.xml": ubl_invoice(f"FLOW-{i:05d}") for i in range(invoices)}
                body = _zip(files)
                response = client.http.post(
                    "/v1/flows",
                    headers={"Authorization": f"Bearer {key}", "Content-Type": "application/zip"},
                    body=body,
                )
                if response.status_code != 202:
                    raise SystemExit(f"flow refused: {response.status_code} {response.body[:300]!r}")
                flow_id = json.loads(response.body)["id"]
            for i in range(0 if flow else invoices):
                body = ubl_invoice(f"BENCH-{i:05d}")
                body_bytes += len(body)
                headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/xml"}
                if idempotency_key:
                    headers["Idempotency-Key"] = f"bench-{i}"
                response = client.http.post("/v1/invoices", headers=headers, body=body)
                if response.status_code != 202:
                    raise SystemExit(f"deposit refused: {response.status_code} {response.body[:300]!r}")
                ids.append(json.loads(response.body)["id"])
            with METER.running("esm", invocation=False):
                _drain(pump, app, SQSEventConfig, DynamoDBEventConfig)
            METER.measuring = False
            stored = {t: (b - stored_before.get(t, (0, 0))[0], n - stored_before.get(t, (0, 0))[1])
                      for t, (b, n) in _stored_bytes().items()}
            if flow:
                got = client.http.get(f"/v1/flows/{flow_id}", headers={"Authorization": f"Bearer {key}"})
                ids = [f["invoice_id"] for f in json.loads(got.body)["files"] if f.get("invoice_id")]
            statuses = Counter()
            for invoice_id in ids:
                got = client.http.get(f"/v1/invoices/{invoice_id}", headers={"Authorization": f"Bearer {key}"})
                statuses[json.loads(got.body).get("status", {}).get("code")] += 1
            # The read path, measured apart: GET /v1/invoices/{id}.
            METER.measuring, METER.prefix = True, "read:"
            for invoice_id in ids[:reads]:
                client.http.get(f"/v1/invoices/{invoice_id}", headers={"Authorization": f"Bearer {key}"})
            METER.measuring, METER.prefix = False, ""
        ChaliceAuthorizer.__call__ = authorize
        type(app).__call__ = app_call
        dependencies.reset()

    report = _report(invoices, reads, body_bytes, statuses)
    if subscribed:
        report["scenario"] += "; the supplier and the buyer each have a webhook (every event delivered to both)"
    if flow:
        report["scenario"] = f"one zip flow of {invoices} UBL invoices (POST /v1/flows) through every handler"
    # Everything written to S3 per invoice (originals, renditions, flow archives), not just the XML sent.
    report["stored_object_bytes"] = sum(v for (p, n), v in METER.units.items() if n == "s3_put_bytes") / invoices
    tables = {t: v for t, v in stored.items() if "/" not in t}
    indexes = {t: v for t, v in stored.items() if "/" in t}
    report["dynamodb_item_bytes"] = {_short(t): round(b / invoices, 1) for t, (b, n) in tables.items() if b > 0}
    report["dynamodb_items"] = {_short(t): n / invoices for t, (b, n) in tables.items() if n > 0}
    report["dynamodb_index_bytes"] = {_short(t): round(b / invoices, 1) for t, (b, n) in indexes.items() if b > 0}
    return report


def _stored_bytes() -> dict[str, tuple[int, int]]:
    """Bytes and items per table (DynamoDB's size rules), and per GSI ("table/index": its projected entries, billed
    as storage too), to price storage per invoice."""
    import boto3

    dynamodb = boto3.client("dynamodb")
    _local.inside = True
    try:
        result = {}
        for table in dynamodb.list_tables()["TableNames"]:
            items = dynamodb.scan(TableName=table).get("Items", [])
            result[table] = (sum(item_size(i) + 100 for i in items), len(items))  # + 100 B index overhead
            description = dynamodb.describe_table(TableName=table)["Table"]
            keys = [k["AttributeName"] for k in description["KeySchema"]]
            for index in description.get("GlobalSecondaryIndexes", []):
                gsi = {"keys": [k["AttributeName"] for k in index["KeySchema"]], "projection": index["Projection"]}
                result[f"{table}/{index['IndexName']}"] = index_storage(items, gsi, keys)
        return result
    finally:
        _local.inside = False


def _drain(pump, app, sqs_kind, stream_kind) -> None:
    """Deliver every event until no handler has anything left (validation → stream → fan-outs…)."""
    for _ in range(1000):
        delivered = 0
        for source in app.event_sources:
            if isinstance(source, sqs_kind):
                delivered += pump.deliver_sqs_once(source.name)
            elif isinstance(source, stream_kind):
                delivered += pump.deliver_stream_once(source.name)
        if not delivered:
            return


def _report(invoices: int, reads: int, body_bytes: int, statuses: Counter) -> dict:
    phases = sorted({p for p, *_ in METER.calls} | set(METER.invocations) | set(METER.log_bytes))
    per_phase = {}
    for phase in phases:
        n = reads if phase.startswith("read:") else invoices
        calls = {f"{service}:{op}": count / n for (p, service, op), count in sorted(METER.calls.items()) if p == phase}
        units = {name: amount / n for (p, name), amount in METER.units.items() if p == phase}
        per_phase[phase] = {
            "invocations": METER.invocations[phase] / n,
            "compute_ms": round(METER.compute_ms[phase] / n, 3),
            "log_bytes": round(METER.log_bytes[phase] / n, 1),
            "calls": calls,
            "units": units,
        }
    return {
        "measured": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "scenario": f"{invoices} single deposits (UBL, Idempotency-Key) through every handler; {reads} status reads",
        "invoices": invoices,
        "statuses": {str(k): v for k, v in statuses.items()},
        "original_bytes": body_bytes / invoices,
        "process_max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "per_invoice": per_phase,
    }


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    json.dump(run(count, flow=len(sys.argv) > 2 and sys.argv[2] == "flow"), sys.stdout, indent=1)
    print()
