"""Lazily created, process-wide boto3 clients (created on first use, never at import)."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from ..config import settings

# A stalled connection (a brownout, not an error) must fail while the caller can still answer: with botocore's 60 s
# connect and 60 s read, one call outlasted API Gateway's 29 s and the validation's reserve (review r37). The read
# timeout is per socket read: a large S3 GET or PUT streams past it, and S3 keeps a long copy alive with whitespace.
CONNECT_TIMEOUT_SECONDS = 2
READ_TIMEOUT_SECONDS = 5
ATTEMPTS = 5  # the first and 4 retries: throttles at the peak are retried (infra/CAPACITY.md)
# Standard mode waits a random time up to 2^retry s (at most 20) before each retry: at most 1 + 2 + 4 + 8 s.
MAX_BACKOFF_SECONDS = sum(min(2**retry, 20) for retry in range(ATTEMPTS - 1))
# One call's longest wait, every attempt stalled: 5 x (2 + 5) + 15 = 50 s (the validation's reserve covers it).
CALL_WORST_CASE_SECONDS = ATTEMPTS * (CONNECT_TIMEOUT_SECONDS + READ_TIMEOUT_SECONDS) + MAX_BACKOFF_SECONDS

# Local DynamoDB Streams endpoints need the account id out of the host name (moto's url patterns).
_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": ATTEMPTS},
    connect_timeout=CONNECT_TIMEOUT_SECONDS,
    read_timeout=READ_TIMEOUT_SECONDS,
    account_id_endpoint_mode="disabled",
)


class DynamoTimeouts:
    """The PynamoDB models' Meta base: the boto3 clients' timeouts and attempts (PynamoDB's own defaults are a 15 s
    connect and a 30 s read)."""

    connect_timeout_seconds = CONNECT_TIMEOUT_SECONDS
    read_timeout_seconds = READ_TIMEOUT_SECONDS
    max_retry_attempts = ATTEMPTS - 1  # retries, after the first attempt


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
