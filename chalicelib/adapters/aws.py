"""Lazily created, process-wide boto3 clients (created on first use, never at import)."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from ..config import settings

# Local DynamoDB Streams endpoints need the account id out of the host name (moto's url patterns).
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 4}, account_id_endpoint_mode="disabled")
# On AWS, presigned URLs name the bucket's regional endpoint (<bucket>.s3.<region>.amazonaws.com): the legacy global
# one redirects for up to a day after the bucket is created (signed GETs and browser POSTs then fail) and never
# works in opt-in regions. An endpoint of our own (the local stand-in) keeps botocore's default.
_REGIONAL_S3 = Config(s3={"addressing_style": "virtual"})


@cache
def client(service: str) -> Any:
    config = _CONFIG
    if service == "s3" and not os.environ.get("AWS_ENDPOINT_URL"):
        config = _CONFIG.merge(_REGIONAL_S3)
    return boto3.session.Session().client(service, region_name=settings().region, config=config)


def reset_clients() -> None:
    """Forget every client (tests start a new AWS stand-in)."""
    client.cache_clear()
