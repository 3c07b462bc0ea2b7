"""Delay from a status change to its webhook arriving, on the local stack (`python bench/webhook_bench.py`).

Starts `python -m devstack` in a subprocess, a signature-verifying receiver on 127.0.0.1, subscribes it,
then for N invoices: deposit (200 → 203 by the platform), then the recipient takes it to 204 via the API.
The delay of each event is its arrival time at the receiver minus the event's `time` (the instant the
status change was decided, same clock). Prints p50/p90/max per kind of change.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from invoices import ubl_invoice  # noqa: E402
from webhook_support import Receiver  # noqa: E402

from devstack.launcher import DEMO_SEED, start_local_stack, stop_local_stack  # noqa: E402

SUPPLIER_KEY = "demo-supplier-atelier-key"
MAIRIE_KEY = "demo-recipient-mairie-key"


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--invoices", type=int, default=20)
    args = parser.parse_args()

    seed = Path(tempfile.mkdtemp()) / "seed.json"
    seed.write_text(DEMO_SEED.read_text(encoding="utf-8"), encoding="utf-8")
    stack = start_local_stack(seed)
    try:
        with Receiver() as receiver:
            response = stack.request(
                "POST", "/v1/subscriptions", SUPPLIER_KEY, json.dumps({"url": receiver.url}).encode(),
                {"Content-Type": "application/json"},
            )  # fmt: skip
            receiver.secret = response.json()["secret"]
            ids = []
            for n in range(args.invoices):
                deposited = stack.request(
                    "POST",
                    "/v1/invoices",
                    SUPPLIER_KEY,
                    ubl_invoice(f"F-BENCH-{n}"),
                    {"Content-Type": "application/xml"},
                )
                invoice_id = deposited.json()["id"]
                ids.append(invoice_id)
                stack.wait_for(lambda i=invoice_id: f"{i}-1" in receiver.events(), timeout=30)
                changed = stack.request(
                    "POST", f"/v1/invoices/{invoice_id}/status", MAIRIE_KEY, json.dumps({"code": 204}).encode(),
                    {"Content-Type": "application/json"},
                )  # fmt: skip
                assert changed.status == 200, changed.body
                stack.wait_for(lambda i=invoice_id: f"{i}-2" in receiver.events(), timeout=30)
                time.sleep(0.2)  # spread the changes: this measures latency, not throughput
            assert not receiver.refused, receiver.refused
            first_arrival: dict[str, float] = {}
            for received in receiver.received:
                first_arrival.setdefault(received.event["id"], received.at)
            delays: dict[str, list[float]] = {"200 (deposit)": [], "203 (validated)": [], "204 (API status change)": []}
            for invoice_id in ids:
                for sequence, kind in enumerate(delays):
                    event = receiver.events()[f"{invoice_id}-{sequence}"]
                    delays[kind].append((first_arrival[event["id"]] - _epoch(event["time"])) * 1000)
    finally:
        stop_local_stack(stack)

    every = [d for values in delays.values() for d in values]
    print(f"webhook delay on the local stack, {args.invoices} invoices, {len(every)} events (ms):")
    for kind, values in [*delays.items(), ("all", every)]:
        print(
            f"  {kind:<26} p50 {statistics.median(values):7.0f}   p90 {percentile(values, 0.9):7.0f}"
            f"   max {max(values):7.0f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
