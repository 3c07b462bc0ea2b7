"""Local pipeline latency: p50/p95 from deposit to 203 over 100 deposits, and the import time of app.py.

Runs the real local stack (`python -m devstack`) in a subprocess, as `make run` does. Prints numbers, never asserts.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from invoices import ubl_invoice  # noqa: E402

from devstack.launcher import DEMO_SEED, start_local_stack, stop_local_stack  # noqa: E402

DEPOSITS = 100
KEY = "demo-supplier-atelier-key"


def _ts(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def import_time(runs: int = 5) -> float:
    code = "import time; t = time.perf_counter(); import app; print(time.perf_counter() - t)"
    samples = [
        float(subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True).stdout)
        for _ in range(runs)
    ]
    return statistics.median(samples)


def pipeline() -> None:
    with tempfile.TemporaryDirectory() as folder:
        seed = Path(folder) / "seed.json"
        seed.write_text(DEMO_SEED.read_text(encoding="utf-8"), encoding="utf-8")
        stack = start_local_stack(seed, {"LOG_LEVEL": "ERROR"})
        try:
            client_ms, server_ms = [], []
            for index in range(DEPOSITS):
                started = time.perf_counter()
                created = stack.request(
                    "POST", "/v1/invoices", KEY, ubl_invoice(f"BENCH-{index:04d}"), {"Content-Type": "application/xml"}
                ).json()

                def made_available(invoice_id=created["id"]):
                    invoice = stack.request("GET", f"/v1/invoices/{invoice_id}", KEY).json()
                    return invoice if invoice["processing"] == "done" else None

                invoice = stack.wait_for(made_available, timeout=30, interval=0.005)
                client_ms.append((time.perf_counter() - started) * 1000)
                history = stack.request("GET", f"/v1/invoices/{created['id']}/history", KEY).json()["history"]
                assert history[-1]["code"] == 203, invoice
                server_ms.append((_ts(history[-1]["at"]) - _ts(invoice["created_at"])) * 1000)
        finally:
            stop_local_stack(stack)

    def pct(values, q):
        return statistics.quantiles(values, n=100)[q - 1]

    print(f"deposits: {DEPOSITS} sequential UBL invoices on the local stack (moto + event pump)")
    print(f"deposit → 203, server timestamps (created_at → 203 at): p50 {statistics.median(server_ms):.0f} ms, "
          f"p95 {pct(server_ms, 95):.0f} ms")  # fmt: skip
    print(f"deposit → 203 seen by the client (POST sent → GET shows 203): p50 {statistics.median(client_ms):.0f} ms, "
          f"p95 {pct(client_ms, 95):.0f} ms, max {max(client_ms):.0f} ms")  # fmt: skip


if __name__ == "__main__":
    print(f"import app.py (Lambda cold-start proxy): {import_time() * 1000:.0f} ms (median of 5 fresh interpreters)")
    pipeline()
    sys.stdout.flush()
