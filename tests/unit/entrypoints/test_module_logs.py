"""The modules' standard loggers reach the logs (review finding: on Lambda the runtime's root logger stays at
WARNING, so a documented INFO line such as "webhook URL refused" was never written)."""

from __future__ import annotations

import io
import json
import logging

import pytest
from aws_lambda_powertools import Logger

from chalicelib.entrypoints.observability import route_module_logs


@pytest.fixture
def package_logger():
    package = logging.getLogger("chalicelib")
    saved = (package.level, list(package.handlers), package.propagate)
    yield package
    package.level, package.handlers, package.propagate = saved[0], saved[1], saved[2]


def test_with_its_own_handler_a_module_s_info_line_is_written_as_json_with_the_logger_s_keys(package_logger):
    out = io.StringIO()
    source = Logger(service="chorale-test", level="INFO", logger_handler=logging.StreamHandler(out))
    source.append_keys(function_request_id="req-1")
    route_module_logs(source, own_handler=True)
    logging.getLogger("chalicelib.services.subscriptions").info("webhook URL refused: %s", "link-local")
    logging.getLogger("chalicelib.services.subscriptions").debug("not at INFO")
    (line,) = out.getvalue().splitlines()
    record = json.loads(line)
    assert record["message"] == "webhook URL refused: link-local" and record["level"] == "INFO"
    assert record["service"] == "chorale-test" and record["function_request_id"] == "req-1"
    assert record["name"] == "chalicelib.services.subscriptions"


def test_without_it_the_modules_log_at_the_logger_s_level_and_propagate(package_logger):
    source = Logger(service="chorale-test", level="INFO", logger_handler=logging.StreamHandler(io.StringIO()))
    route_module_logs(source, own_handler=False)
    assert package_logger.level == logging.INFO and package_logger.propagate
    assert logging.getLogger("chalicelib.services.subscriptions").isEnabledFor(logging.INFO)
