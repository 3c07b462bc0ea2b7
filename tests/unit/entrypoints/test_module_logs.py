"""The modules' standard loggers reach the logs (review finding: on Lambda the runtime's root logger stays at
WARNING, so a documented INFO line such as "webhook URL refused" was never written)."""

from __future__ import annotations

import io
import json
import logging

import pytest
from aws_lambda_powertools import Logger

from chalicelib.entrypoints.observability import send_module_logs_through


@pytest.fixture
def package_logger():
    package = logging.getLogger("chalicelib")
    saved = (package.level, list(package.handlers), package.propagate)
    yield package
    package.level, package.handlers, package.propagate = saved[0], saved[1], saved[2]


def test_a_module_s_info_line_is_written_as_json_with_the_logger_s_keys(package_logger):
    out = io.StringIO()
    source = Logger(service="chorale-test", level="INFO", logger_handler=logging.StreamHandler(out))
    source.append_keys(function_request_id="req-1")
    send_module_logs_through(source)
    logging.getLogger("chalicelib.services.subscriptions").info("webhook URL refused: %s", "link-local")
    logging.getLogger("chalicelib.services.subscriptions").debug("not at INFO")
    (line,) = out.getvalue().splitlines()
    record = json.loads(line)
    assert record["message"] == "webhook URL refused: link-local" and record["level"] == "INFO"
    assert record["service"] == "chorale-test" and record["function_request_id"] == "req-1"
    assert record["name"] == "chalicelib.services.subscriptions"
