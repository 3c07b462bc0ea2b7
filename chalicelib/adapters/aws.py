"""Lazily created, process-wide boto3 clients (created on first use, never at import)."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from ..config import settings

# Local DynamoDB Streams endpoints need the account id out of the host name (moto's url patterns).
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 4}, account_id_endpoint_mode="disabled")


@cache
def client(service: str) -> Any:
    return boto3.session.Session().client(service, region_name=settings().region, config=_CONFIG)


def reset_clients() -> None:
    """Forget every client (tests start a new AWS stand-in)."""
    client.cache_clear()
