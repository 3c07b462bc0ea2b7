"""An administrator sees and deletes a structure's subscriptions: after a key theft, the thief's webhook is found and
removed even though the structure's own (revoked) keys can no longer manage it."""

from __future__ import annotations

import time

from ..domain.directory import Principal
from ..domain.ids import is_ulid
from ..domain.subscriptions import Subscription
from .authentication import require_admin
from .errors import NotFound
from .ports import Directory
from .subscriptions import current_subscriptions
from .subscriptions_ports import SubscriptionStore


def _existing_structure(siret: str, directory: Directory) -> None:
    if directory.structure(siret) is None:  # also keeps a hostile path segment out of the table's key
        raise NotFound(f"No structure {siret}.")


def structure_subscriptions(
    principal: Principal, siret: str, *, store: SubscriptionStore, directory: Directory
) -> list[Subscription]:
    """Every subscription of the structure, whatever its state (but unconfirmed addresses whose link has expired, as
    the structure's own listing); NotFound for an unknown structure."""
    require_admin(principal)
    _existing_structure(siret, directory)
    return current_subscriptions(store, siret, time.time())


def delete_structure_subscription(
    principal: Principal, siret: str, subscription_id: str, *, store: SubscriptionStore, directory: Directory
) -> None:
    """Delete one of the structure's subscriptions (its queued deliveries are dropped); NotFound when it has none
    with this id."""
    require_admin(principal)
    _existing_structure(siret, directory)
    if not (is_ulid(subscription_id) and store.delete(siret, subscription_id)):
        raise NotFound(f"No subscription {subscription_id} for structure {siret}.")
