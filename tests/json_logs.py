"""The Powertools logger's JSON lines, as CloudWatch gets them: appended keys (object_key, flow_id) are in the
formatter, not on the LogRecord, so caplog cannot show them."""

from __future__ import annotations

import io
import json

import pytest

from chalicelib.entrypoints.observability import logger, send_module_logs_through


class JsonLines:
    def __init__(self, buffer: io.StringIO):
        self.buffer = buffer

    def records(self) -> list[dict]:
        return [json.loads(line) for line in self.buffer.getvalue().splitlines() if line.strip()]

    def clear(self) -> None:
        self.buffer.truncate(0)
        self.buffer.seek(0)


@pytest.fixture(name="json_logs")
def json_logs_fixture():
    """The handler's lines at INFO (the tests' POWERTOOLS_LOG_LEVEL is CRITICAL), modules' loggers routed as on
    Lambda."""
    buffer = io.StringIO()
    handler = logger.registered_handler
    old_stream, old_level = handler.stream, logger.log_level
    handler.setStream(buffer)
    logger.setLevel("INFO")
    send_module_logs_through(logger)
    yield JsonLines(buffer)
    handler.setStream(old_stream)
    logger.setLevel(old_level)
