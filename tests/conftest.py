"""Test-wide settings: no real AWS, quiet Powertools. Set before chalicelib is imported."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-west-3",
        "AWS_REGION": "eu-west-3",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_METRICS_DISABLED": "1",
        "POWERTOOLS_LOG_LEVEL": "CRITICAL",
        "POWERTOOLS_DEV": "0",
        # sha256("demo-admin-key"): tests/demo.py's ADMIN_KEY
        "ADMIN_KEY_HASHES": "ac5bb3526d3be432ba19fb1fc0712d350c160bd2169cd24401c9fcaeaac2d860",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

import aws_calls  # noqa: E402 - after the settings above: it patches chalice and botocore for the whole session

aws_calls.install()


def pytest_sessionfinish(session, exitstatus):
    """The AWS calls each function made, added to the record tests/infra's IAM check reads: from a run of
    integration tests (tests/infra's cost benchmark runs handlers too, in its own scenario)."""
    if any(item.nodeid.startswith("tests/integration/") for item in getattr(session, "items", [])):
        aws_calls.write()
