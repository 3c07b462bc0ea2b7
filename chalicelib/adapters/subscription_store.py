"""Subscriptions and their delivery log in DynamoDB."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from botocore.exceptions import ClientError
from pynamodb.exceptions import DoesNotExist, PutError, PynamoDBException, UpdateError

from ..domain.subscriptions import LAST_ERROR_CHARS, EventFilter, Subscription
from ..services.subscriptions_ports import DeliveryAttempt, MailClaimRefused
from .aws import client
from .subscription_tables import DELIVERY_LOG_DAYS, DeliveryLogRecord, SubscriptionRecord
from .tables import is_conditional_failure

log = logging.getLogger(__name__)


def subscription_from_record(record: SubscriptionRecord) -> Subscription:
    return Subscription(
        id=record.id,
        siret=record.siret,
        created_at=record.created_at,
        url=record.url,
        email=record.email,
        events=tuple(record.events or ()),
        filter=EventFilter(
            tuple(int(c) for c in record.status_codes or ()),
            record.role,  # type: ignore[arg-type]
            tuple(record.service_codes or ()),  # absent on subscriptions made before the service filter
        ),
        secret=record.secret,
        previous_secret=record.previous_secret,
        previous_secret_expires=record.previous_secret_expires,
        state=record.state or "active",  # type: ignore[arg-type]
        failing_since=record.failing_since,
        last_error=record.last_error,
        confirmation_hash=record.confirmation_hash,
        confirmation_expires=record.confirmation_expires,
        request_sha256=record.request_sha256,
    )


def subscription_to_record(subscription: Subscription) -> SubscriptionRecord:
    return SubscriptionRecord(
        subscription.siret,
        subscription.id,
        created_at=subscription.created_at,
        url=subscription.url,
        email=subscription.email,
        events=list(subscription.events),
        status_codes=list(subscription.filter.status_codes) or None,
        role=subscription.filter.role,
        service_codes=list(subscription.filter.service_codes) or None,
        secret=subscription.secret,
        previous_secret=subscription.previous_secret,
        previous_secret_expires=subscription.previous_secret_expires,
        state=subscription.state,
        failing_since=subscription.failing_since,
        last_error=subscription.last_error,
        confirmation_hash=subscription.confirmation_hash,
        confirmation_expires=subscription.confirmation_expires,
        request_sha256=subscription.request_sha256,
        expires=None if subscription.purge_at is None else datetime.fromtimestamp(subscription.purge_at, UTC),
    )


def _mail_partition(email: str) -> dict:
    return {"S": f"mail#{hashlib.sha256(email.strip().lower().encode()).hexdigest()}"}


def _sent_at(marker: dict | None, now: float) -> float:
    """The refusing marker's claim time; `now` (the full window, an upper bound) should DynamoDB not return it."""
    return float(marker["sent_at"]["N"]) if marker and "sent_at" in marker else now


def _structure_refusal(marker: dict | None, now: float) -> MailClaimRefused:
    """The refusal by this structure's marker (ALL_OLD), with the request that wrote it when it was noted."""
    claimed_by = (marker or {}).get("claimed_by", {}).get("S")
    return MailClaimRefused("structure", _sent_at(marker, now), claimed_by)


def _same_write(stored: Subscription, written: Subscription) -> bool:
    # A secret (a webhook's) or a confirmation hash (an address's) drawn for this write, and its time.
    return (stored.created_at, stored.secret, stored.confirmation_hash) == (
        written.created_at,
        written.secret,
        written.confirmation_hash,
    )


def _unless_condition_fails(write: Callable[[], object]) -> bool:
    """Make a conditional write: False when its condition was false, any other failure (an outage) raised."""
    try:
        write()
    except (PynamoDBException, ClientError) as error:
        if is_conditional_failure(error):
            return False
        raise
    return True


class DynamoSubscriptionStore:
    def add(self, subscription: Subscription) -> Subscription | None:
        try:
            subscription_to_record(subscription).save(condition=SubscriptionRecord.id.does_not_exist())
        except PutError as error:
            # botocore retries a write whose answer was lost, and the retry fails its condition on our own item;
            # or every retry timed out after the write landed. Either way the write may be ours: look.
            stored = self._stored_quietly(subscription)
            if stored is not None and _same_write(stored, subscription):
                return None
            if stored is not None and is_conditional_failure(error):
                return stored  # another write holds the id: an Idempotency-Key's other attempt
            raise
        return None

    def _stored_quietly(self, subscription: Subscription) -> Subscription | None:
        try:
            return self.get(subscription.siret, subscription.id)
        except Exception:  # noqa: BLE001 - the write's own error is the one to raise
            return None

    def get(self, siret: str, subscription_id: str) -> Subscription | None:
        """The subscription. A previous secret past its grace period is removed from the item at this read (every
        delivery reads its subscription so, as do the routes on one subscription): it is not kept at rest."""
        try:
            subscription = subscription_from_record(
                SubscriptionRecord.get(siret, subscription_id, consistent_read=True)
            )
        except DoesNotExist:
            return None
        if subscription.previous_secret_lapsed(time.time()):
            self._forget_previous_secret(subscription)
            subscription = subscription.without_previous_secret()
        return subscription

    def _forget_previous_secret(self, subscription: Subscription) -> None:
        """Best effort: a failure leaves it for the next read. Only the secret read goes (a rotation since keeps
        its own previous secret)."""
        seen = SubscriptionRecord.previous_secret_expires
        condition = seen.does_not_exist() if subscription.previous_secret_expires is None else (
            seen == subscription.previous_secret_expires)  # fmt: skip
        try:
            SubscriptionRecord(subscription.siret, subscription.id).update(
                [SubscriptionRecord.previous_secret.remove(), SubscriptionRecord.previous_secret_expires.remove()],
                condition=SubscriptionRecord.previous_secret.exists() & condition,
            )
        except UpdateError as error:
            if not is_conditional_failure(error):
                log.warning("could not remove the lapsed previous secret of subscription %s: %s",
                            subscription.id, error)  # fmt: skip

    def for_structure(self, siret: str) -> list[Subscription]:
        return [subscription_from_record(r) for r in SubscriptionRecord.query(siret)]

    def has_subscriptions(self, siret: str) -> bool:
        found = SubscriptionRecord.query(siret, limit=1, attributes_to_get=["siret", "id"])
        return next(iter(found), None) is not None

    def save(self, subscription: Subscription) -> None:
        subscription_to_record(subscription).save(condition=SubscriptionRecord.id.exists())

    def save_rotation(self, rotated: Subscription, replaced_secret: str) -> bool:
        """Write the rotation's secret fields only (a delivery's concurrent failing or active mark stands), if the
        secret is still the one rotated: False when another rotation got there first or the subscription is gone."""
        record = SubscriptionRecord
        actions = [record.secret.set(rotated.secret), record.previous_secret.set(rotated.previous_secret),
                   record.previous_secret_expires.set(rotated.previous_secret_expires)]  # fmt: skip
        if _unless_condition_fails(
            lambda: record(rotated.siret, rotated.id).update(actions, condition=record.secret == replaced_secret)
        ):
            return True
        # botocore retries an update whose answer was lost, and the retry fails its condition on our own write
        stored = self._stored_quietly(rotated)
        return stored is not None and stored.secret == rotated.secret

    def _update(self, siret: str, subscription_id: str, actions) -> None:
        # a deleted subscription stays deleted; anything else is an outage
        _unless_condition_fails(
            lambda: SubscriptionRecord(siret, subscription_id).update(actions, condition=SubscriptionRecord.id.exists())
        )

    def mark_failing(self, siret: str, subscription_id: str, at: str, error: str) -> None:
        self._update(
            siret,
            subscription_id,
            [
                SubscriptionRecord.state.set("failing"),
                SubscriptionRecord.failing_since.set(SubscriptionRecord.failing_since | at),
                SubscriptionRecord.last_error.set(error[:LAST_ERROR_CHARS]),
            ],
        )

    def mark_active(self, siret: str, subscription_id: str) -> None:
        self._update(
            siret,
            subscription_id,
            [
                SubscriptionRecord.state.set("active"),
                SubscriptionRecord.failing_since.remove(),
                SubscriptionRecord.last_error.remove(),
            ],
        )

    def claim_confirmation_mail(
        self,
        email: str,
        siret: str,
        now: float,
        window_seconds: float,
        per_address: int,
        claimed_by: str | None = None,
    ) -> MailClaimRefused | None:
        """Note a confirmation mail to `email` asked by `siret`, or say why not: "structure" when this structure
        had one mailed to the address within the window, "address" when the address already got `per_address`
        this UTC day, whoever asked (the structure's marker is noted then too, see _note_unmailed). Both are marker
        items keyed by the address's hash (beside the structures' subscriptions: a SIRET is digits only), written
        together or not at all (TransactWriteItems); they expire by the table's TTL on `expires`. The marker notes
        `claimed_by` (a keyed request's subscription id), so that a refusal tells whose request claimed it."""
        partition = _mail_partition(email)
        day = time.strftime("%Y-%m-%d", time.gmtime(now))
        expires = {"N": str(int(now + window_seconds + 2 * 86400))}
        marker = {"siret": partition, "id": {"S": f"confirmation#{siret}"}, "sent_at": {"N": repr(now)},
                  "expires": expires, **({"claimed_by": {"S": claimed_by}} if claimed_by else {})}  # fmt: skip
        not_within_window = {
            "ConditionExpression": "attribute_not_exists(siret) OR sent_at < :cutoff",
            "ExpressionAttributeValues": {":cutoff": {"N": repr(now - window_seconds)}},
        }
        try:
            client("dynamodb").transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": SubscriptionRecord.Meta.table_name, "Item": marker, **not_within_window,
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",  # the marker that refused: its sent_at
                        }
                    },
                    {
                        "Update": {
                            "TableName": SubscriptionRecord.Meta.table_name,
                            "Key": {"siret": partition, "id": {"S": f"count#{day}"}},
                            "UpdateExpression": "ADD mails :one SET expires = :expires",
                            "ConditionExpression": "attribute_not_exists(mails) OR mails < :cap",
                            "ExpressionAttributeValues": {
                                ":one": {"N": "1"}, ":cap": {"N": str(per_address)}, ":expires": expires
                            },
                        }
                    },
                ]
            )  # fmt: skip
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            # Each item's reason, in order: "ConditionalCheckFailed" for the one whose condition was false.
            cancelled = error.response.get("CancellationReasons") or []
            reasons = [r.get("Code") for r in cancelled]
            if reasons[:1] == ["ConditionalCheckFailed"]:
                return _structure_refusal(cancelled[0].get("Item"), now)
            if reasons[1:2] == ["ConditionalCheckFailed"]:
                return self._note_unmailed(marker, not_within_window, now)
            raise  # a conflict with a concurrent transaction, throttling...: an outage, not a refusal
        return None

    @staticmethod
    def _note_unmailed(marker: dict, not_within_window: dict, now: float) -> MailClaimRefused:
        """The address's day is full: the structure's marker is written all the same (marked `unmailed`, the count
        untouched), so that this structure's next request is answered as if the mail had gone ("structure")."""
        try:
            client("dynamodb").put_item(
                TableName=SubscriptionRecord.Meta.table_name, Item={**marker, "unmailed": {"BOOL": True}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD", **not_within_window,
            )  # fmt: skip
        except ClientError as error:
            if is_conditional_failure(error):  # a concurrent request of this structure claimed it first
                return _structure_refusal(error.response.get("Item"), now)
            raise
        return MailClaimRefused("address", now)

    def release_confirmation_mail(self, email: str, siret: str, sent_at: float) -> bool:
        """Undo the claim made at `sent_at` (its mail was never queued): its marker goes, and the address's day
        count goes down by one, together (an `unmailed` marker, which counted nothing, goes alone). False when there
        is nothing of that claim to undo (it never landed, or another claim replaced it)."""
        partition = _mail_partition(email)
        day = time.strftime("%Y-%m-%d", time.gmtime(sent_at))
        key = {"siret": partition, "id": {"S": f"confirmation#{siret}"}}
        ours = {":ours": {"N": repr(sent_at)}}
        try:
            client("dynamodb").transact_write_items(
                TransactItems=[
                    {
                        "Delete": {
                            "TableName": SubscriptionRecord.Meta.table_name,
                            "Key": key,
                            "ConditionExpression": "sent_at = :ours AND attribute_not_exists(unmailed)",
                            "ExpressionAttributeValues": ours,
                        }
                    },
                    {
                        "Update": {
                            "TableName": SubscriptionRecord.Meta.table_name,
                            "Key": {"siret": partition, "id": {"S": f"count#{day}"}},
                            "UpdateExpression": "ADD mails :minus_one",
                            "ConditionExpression": "mails >= :one",
                            "ExpressionAttributeValues": {":minus_one": {"N": "-1"}, ":one": {"N": "1"}},
                        }
                    },
                ]
            )  # fmt: skip
        except ClientError as error:
            reasons = [r.get("Code") for r in error.response.get("CancellationReasons") or []]
            if reasons[:1] == ["ConditionalCheckFailed"]:
                return self._release_unmailed(key, ours)
            if "ConditionalCheckFailed" in reasons:
                return False
            raise
        return True

    @staticmethod
    def _release_unmailed(key: dict, ours: dict) -> bool:
        return _unless_condition_fails(
            lambda: client("dynamodb").delete_item(
                TableName=SubscriptionRecord.Meta.table_name, Key=key,
                ConditionExpression="sent_at = :ours AND unmailed = :yes",
                ExpressionAttributeValues={**ours, ":yes": {"BOOL": True}},
            )
        )  # fmt: skip

    def delete(self, siret: str, subscription_id: str) -> bool:
        # False: no such subscription. Throttling, the network... raise: the caller must not answer as if deleted.
        return _unless_condition_fails(
            lambda: SubscriptionRecord(siret, subscription_id).delete(condition=SubscriptionRecord.id.exists())
        )


class DynamoDeliveryLog:
    def record(self, attempt: DeliveryAttempt) -> None:
        DeliveryLogRecord(
            attempt.subscription_id,
            f"{attempt.at}#{attempt.event_id}#{attempt.attempt:05d}",
            event_id=attempt.event_id,
            event_type=attempt.event_type,
            attempt=attempt.attempt,
            at=attempt.at,
            outcome=attempt.outcome,
            status=attempt.status,
            latency_ms=attempt.latency_ms,
            error=attempt.error,
            next_attempt_in=attempt.next_attempt_in,
            expires=int(time.time()) + DELIVERY_LOG_DAYS * 86400,
        ).save()

    def claim_mail(self, subscription_id: str, event_id: str, chain: float, attempt: int) -> bool:
        """A marker per (subscription, event) in its own partition (`mailed#<subscription id>`, which `recent`
        never reads), written only if absent or the same job's (`chain`, an attempt up to this one); it expires
        with the delivery log, longer than a replay or a fan-out redrive reaches back (15 and 18 days)."""
        return _unless_condition_fails(
            lambda: client("dynamodb").put_item(
                TableName=DeliveryLogRecord.Meta.table_name,
                Item={"subscription_id": {"S": _mailed(subscription_id)}, "sort_key": {"S": event_id},
                      "chain": {"N": repr(chain)}, "attempt": {"N": str(attempt)},
                      "expires": {"N": str(int(time.time()) + DELIVERY_LOG_DAYS * 86400)}},
                ConditionExpression="attribute_not_exists(sort_key) OR (chain = :chain AND attempt <= :attempt)",
                ExpressionAttributeValues={":chain": {"N": repr(chain)}, ":attempt": {"N": str(attempt)}},
            )
        )  # fmt: skip

    def release_mail(self, subscription_id: str, event_id: str, chain: float) -> None:
        _unless_condition_fails(
            lambda: client("dynamodb").delete_item(
                TableName=DeliveryLogRecord.Meta.table_name,
                Key={"subscription_id": {"S": _mailed(subscription_id)}, "sort_key": {"S": event_id}},
                ConditionExpression="chain = :chain",  # another job's claim (it mailed) stays
                ExpressionAttributeValues={":chain": {"N": repr(chain)}},
            )
        )

    def recent(self, subscription_id: str, limit: int) -> list[DeliveryAttempt]:
        return [
            DeliveryAttempt(
                subscription_id=r.subscription_id,
                event_id=r.event_id,
                event_type=r.event_type,
                attempt=int(r.attempt),
                at=r.at,
                outcome=r.outcome,
                status=int(r.status) if r.status is not None else None,
                latency_ms=float(r.latency_ms) if r.latency_ms is not None else None,
                error=r.error,
                next_attempt_in=float(r.next_attempt_in) if r.next_attempt_in is not None else None,
            )
            for r in DeliveryLogRecord.query(subscription_id, scan_index_forward=False, limit=limit)
        ]


def _mailed(subscription_id: str) -> str:
    return f"mailed#{subscription_id}"
