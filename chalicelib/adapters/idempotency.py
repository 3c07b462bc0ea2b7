"""Idempotency-Key handling on Powertools' idempotency utility (DynamoDB persistence)."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from ..config import settings
from ..services.errors import IdempotencyKeyReused, StillInProgress
from .aws import client

_CONFIG = IdempotencyConfig(
    event_key_jmespath="key",
    payload_validation_jmespath="fingerprint",
    raise_on_no_idempotency_key=True,
    expires_after_seconds=24 * 3600,
)


@lru_cache(maxsize=1)
def _persistence() -> DynamoDBPersistenceLayer:
    # Built on first use: the layer creates its DynamoDB client in its constructor.
    return DynamoDBPersistenceLayer(table_name=settings().idempotency_table, boto3_client=client("dynamodb"))


def _deposit_once(request: dict, action: Callable[[], str]) -> str:
    return action()


class PowertoolsIdempotencyGuard:
    def register_lambda_context(self, context) -> None:
        """Lets in-progress records expire with the invocation (a crashed deposit frees its key)."""
        _CONFIG.register_lambda_context(context)

    def run_once(self, key: str, fingerprint: str, action: Callable[[], str]) -> str:
        guarded = idempotent_function(
            _deposit_once, data_keyword_argument="request", persistence_store=_persistence(), config=_CONFIG
        )
        try:
            return guarded(request={"key": key, "fingerprint": fingerprint}, action=action)
        except IdempotencyValidationError:
            raise IdempotencyKeyReused() from None
        except IdempotencyAlreadyInProgressError:
            raise StillInProgress(
                "A request with this Idempotency-Key is still being processed; retry shortly."
            ) from None


def reset() -> None:
    _persistence.cache_clear()
