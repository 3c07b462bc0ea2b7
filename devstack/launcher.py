"""Start the local stack (`python -m devstack`) in a subprocess and talk to it over HTTP, as an integrator would.

Used by the e2e tests and the benchmarks.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO_SEED = ROOT / "devstack" / "demo-seed.json"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Response:
    status: int
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(NoRedirect)


@dataclass
class LocalStack:
    base_url: str
    aws_endpoint: str
    process: subprocess.Popen

    def request(self, method: str, path: str, key: str | None = None, body: bytes | None = None, headers=None):
        request = urllib.request.Request(self.base_url + path, data=body, method=method, headers=dict(headers or {}))
        if key:
            request.add_header("Authorization", f"Bearer {key}")
        try:
            with _opener.open(request, timeout=10) as response:
                return Response(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return Response(error.code, dict(error.headers), error.read())

    def aws(self, service: str):
        import boto3

        return boto3.client(service, endpoint_url=self.aws_endpoint, region_name="eu-west-3")

    def wait_for(self, predicate, timeout: float = 10.0, interval: float = 0.05):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(interval)
        raise AssertionError(f"condition not met within {timeout}s")


def start_local_stack(seed: Path, extra_env: dict | None = None, port: int | None = None) -> LocalStack:
    """`port`: the API's (0: the stack takes a free one itself); a free one chosen here by default."""
    port, aws_port = free_port() if port is None else port, free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **(extra_env or {})}
    env.pop("AWS_ENDPOINT_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack", "--port", str(port), "--aws-port", str(aws_port), "--seed", str(seed)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    banner = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        banner.append(line)
        if line.startswith("Ctrl-C to stop"):
            break
    match = re.search(r"on (http://127\.0\.0\.1:\d+)\s+\(AWS stand-in: (http://127\.0\.0\.1:\d+)\)", "".join(banner))
    if not match:
        process.kill()
        raise RuntimeError("local stack did not start:\n" + "".join(banner))
    # Keep draining output so the child never blocks on a full pipe.
    threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()
    return LocalStack(match.group(1), match.group(2), process)


def stop_local_stack(stack: LocalStack) -> int:
    stack.process.send_signal(signal.SIGTERM)
    try:
        return stack.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        stack.process.kill()
        raise
