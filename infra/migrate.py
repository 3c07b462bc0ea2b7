"""Rewrite a stage's stored items in the shape the current code gives them, once, after an update (docs/operations.md).

    make migrate STAGE=prod [ONLY=names|claims|expires] [DRY_RUN=1]
    python infra/migrate.py --stage prod [--only names|claims|expires] [--dry-run] [--region eu-west-3]

Three steps, in this order (--only: one of them), each a scan of its tables:
- names: a structure whose stored name search key (name_key, name_initial, name_sort) is not the one the current
  fold gives is written again as it is, same updated_at (conditional on its version): the write recomputes them.
- claims: a number claim whose key is not the one services/controls.number_claim_key gives its invoice now moves
  there with its `expires`: put at the new key (conditional: no claim there, or one naming the same invoice), then
  deleted at the old one. One that meets another invoice's claim there is a conflict: two invoices accepted before
  share a number under the new rule. Both stand, the claim there stays, a line names both invoices (tell the buyer),
  and the old claim is deleted: no deposit computes its key any more. The claim of a rejected (213) invoice, or of an
  invoice not found, is left as it is (a line says so).
- expires: the invoice, flow and number-claim items without `expires` (the DynamoDB TTL) get it, as the current
  code writes it: the stage's RETENTION_DAYS after the deposit (an invoice's created_at, a flow item's header's, a
  claim its invoice's), conditional on there still being none. An unconfirmed e-mail subscription without one is
  deleted if its link has expired, else gets its purge time.

Every write is conditional and what is already done is counted, not written again: a run stopped half-way is run
again as it is, and a second run changes nothing. Throttling and other passing AWS failures (the API's own
classifier) are retried a few times; a line every 1,000 items tells the progress; each step ends with a line
"scanned, changed, already done, conflicts". It exits 1 on a conflict, or on a failure ("<step>: changed N; failed
at <item> (<error>)": the steps after it do not run). The scans read whole tables (eventually consistent reads).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from replay_events import stream_publisher  # noqa: E402

STEPS = ("names", "claims", "expires")
PROGRESS_EVERY = 1000  # items scanned between two progress lines
THROTTLING_RETRIES = 4  # waits of 0.5, 1, 2, 4 s, after the SDK's own retries


def announce(line: str) -> None:
    print(line, flush=True)  # a progress line shows at once, also through a pipe


def passing(error: Exception) -> bool:
    """A passing AWS failure (throttling, a 5xx, a timeout), by the API's own classifier."""
    from chalicelib.adapters.aws_failures import temporary_failure

    return temporary_failure(error) is not None


def retried(call: Callable, *args, sleep: Callable = time.sleep, **kwargs):
    for retry in range(THROTTLING_RETRIES + 1):
        try:
            return call(*args, **kwargs)
        except Exception as error:
            if retry == THROTTLING_RETRIES or not passing(error):
                raise
            sleep(0.5 * 2**retry)


@dataclass
class Tally:
    step: str
    dry_run: bool = False
    say: Callable = announce
    scanned: int = 0
    changed: int = 0
    done: int = 0
    left: int = 0
    conflicts: int = 0

    def seen(self) -> None:
        self.scanned += 1
        if self.scanned % PROGRESS_EVERY == 0:
            self.say(f"{self.step}: scanned {self.scanned} so far, {self.verb} {self.changed}")

    def leave(self, why: str) -> None:
        self.left += 1
        self.say(f"{self.step}: left {why}")

    @property
    def verb(self) -> str:
        return "would change" if self.dry_run else "changed"

    def summary(self) -> str:
        line = (f"{self.step}: scanned {self.scanned}, {self.verb} {self.changed}, already done {self.done}, "
                f"conflicts {self.conflicts}")  # fmt: skip
        return line + (f", left {self.left}" if self.left else "")


class StepFailed(Exception):
    def __init__(self, tally: Tally, item: str, error: Exception):
        super().__init__(f"{tally.step}: {tally.verb} {tally.changed}; failed at {item} ({error})")


def item_key(record) -> dict:
    """The item's key as DynamoDB takes it, from its model's key attributes."""
    return {
        attribute.attr_name: {attribute.attr_type: attribute.serialize(getattr(record, name))}
        for name, attribute in type(record).get_attributes().items()
        if attribute.is_hash_key or attribute.is_range_key
    }


def rejected(invoice) -> bool:
    from chalicelib.domain.statuses import REJETEE

    return invoice.processing == "done" and invoice.status is not None and invoice.status.code == REJETEE.code


@dataclass
class Migration:
    dry_run: bool = False
    sleep: Callable = time.sleep
    say: Callable = announce
    _flow: tuple = (None, None)  # the flow whose items the scan is reading, and its created_at: they come together

    def call(self, function: Callable, *args, **kwargs):
        return retried(function, *args, sleep=self.sleep, **kwargs)

    def tally(self, step: str) -> Tally:
        return Tally(step, dry_run=self.dry_run, say=self.say)

    def scan(self, tally: Tally, model, condition=None) -> Iterator:
        """The table's items (matching `condition`), resumed after the last page read on a passing failure. Items
        the condition leaves out count as scanned and already done."""
        start, retry = None, 0
        while True:
            items = model.scan(condition, last_evaluated_key=start)
            try:
                for item in items:
                    retry = 0
                    yield item
                return
            except Exception as error:  # raised by a page's read only: the pages before it were all yielded
                if retry == THROTTLING_RETRIES or not passing(error):
                    raise StepFailed(tally, f"the scan of {model.Meta.table_name}", error) from error
                start = items.last_evaluated_key
                self.sleep(0.5 * 2**retry)
                retry += 1
            finally:
                filtered = items.page_iter.total_scanned_count - items.total_count
                tally.scanned += filtered
                tally.done += filtered

    @contextmanager
    def on(self, tally: Tally, item: str):
        try:
            yield
        except StepFailed:
            raise
        except Exception as error:
            raise StepFailed(tally, item, error) from error

    # --- names -------------------------------------------------------------------------------------------------
    def names(self) -> Tally:
        from pynamodb.exceptions import DoesNotExist

        from chalicelib.adapters.directory import DynamoDirectory, structure_from_record, structure_to_record
        from chalicelib.adapters.tables import StructureRecord
        from chalicelib.services.errors import ConcurrentUpdate

        def stale(record) -> bool:
            current = structure_to_record(structure_from_record(record))
            return any(getattr(current, a) != getattr(record, a) for a in ("name_key", "name_initial", "name_sort"))

        tally, directory = self.tally("names"), DynamoDirectory()
        for record in self.scan(tally, StructureRecord):
            tally.seen()
            with self.on(tally, f"structure {record.siret}"):
                for _ in range(3):  # an administrator's write in between recomputes the key too: read it again
                    if not stale(record):
                        tally.done += 1
                        break
                    if self.dry_run:
                        tally.changed += 1
                        break
                    try:
                        self.call(directory.put_structure, structure_from_record(record))
                    except ConcurrentUpdate:
                        try:
                            record = self.call(StructureRecord.get, record.siret, consistent_read=True)
                        except DoesNotExist:
                            tally.done += 1  # deleted meanwhile
                            break
                        continue
                    tally.changed += 1
                    break
                else:
                    raise RuntimeError("changed by another write three times running: run again")
        return tally

    # --- claims ------------------------------------------------------------------------------------------------
    def claims(self) -> Tally:
        from chalicelib.adapters.invoice_repository import DynamoInvoiceRepository
        from chalicelib.adapters.tables import NumberClaimRecord, kept_until
        from chalicelib.services import controls
        from chalicelib.services.errors import DuplicateNumber

        tally, invoices = self.tally("claims"), DynamoInvoiceRepository()
        moved: dict[str, str] = {}  # new key → invoice, of the claims this run moved (or, dry, would move)
        for claim in self.scan(tally, NumberClaimRecord):
            if not self.dry_run and moved.get(claim.key) == claim.invoice_id:
                continue  # written by this run, met again by its scan
            tally.seen()
            with self.on(tally, f"claim {claim.key}"):
                invoice = self.call(invoices.get, claim.invoice_id)
                key = None if invoice is None else controls.number_claim_key(invoice.summary, invoice.supplier_siret)
                if invoice is None or rejected(invoice) or key is None:
                    why = "not found" if invoice is None else "rejected (213)" if rejected(invoice) else "unnumbered"
                    tally.leave(f"claim {claim.key}: its invoice {claim.invoice_id} is {why}")
                    continue
                if key == claim.key:
                    tally.done += 1
                    continue
                if self.dry_run:
                    holder = moved.get(key) or self.call(self.claim_holder, key)
                    if holder in (None, invoice.id):
                        moved[key] = invoice.id
                        tally.changed += 1
                        continue
                else:
                    try:
                        expires = claim.expires or kept_until(invoice.created_at)
                        self.call(invoices.claim_number, key, invoice.id, expires)
                    except DuplicateNumber:
                        holder = self.call(self.claim_holder, key)
                        if holder is None:
                            raise RuntimeError(f"the claim {key} was released meanwhile: run again") from None
                    else:
                        moved[key] = invoice.id
                        self.call(invoices.release_number, claim.key, invoice.id)
                        tally.changed += 1
                        continue
                tally.conflicts += 1
                print(f"claims: conflict: invoice {invoice.id} (supplier {invoice.supplier_siret}, number "
                      f"{invoice.summary.number!r}) has the number of invoice {holder} under the new rule (claim "
                      f"{key}): both stand, that claim stays; tell the buyer. Its claim {claim.key} "
                      f"{'would be' if self.dry_run else 'is'} deleted", file=sys.stderr, flush=True)  # fmt: skip
                if not self.dry_run:
                    self.call(invoices.release_number, claim.key, invoice.id)
        return tally

    @staticmethod
    def claim_holder(key: str) -> str | None:
        from pynamodb.exceptions import DoesNotExist

        from chalicelib.adapters.tables import NumberClaimRecord

        try:
            return NumberClaimRecord.get(key, consistent_read=True).invoice_id
        except DoesNotExist:
            return None

    # --- expires -----------------------------------------------------------------------------------------------
    def expires(self) -> Tally:
        from chalicelib.adapters.invoice_repository import DynamoInvoiceRepository, from_record
        from chalicelib.adapters.subscription_store import subscription_from_record
        from chalicelib.adapters.subscription_tables import SubscriptionRecord
        from chalicelib.adapters.tables import FlowItemRecord, InvoiceRecord, NumberClaimRecord, kept_until

        tally = self.tally("expires")
        for record in self.scan(tally, InvoiceRecord, InvoiceRecord.expires.does_not_exist()):
            tally.seen()
            with self.on(tally, f"invoice {record.id}"):
                self.set_expires(tally, record, kept_until(from_record(record).created_at))
        for item in self.scan(tally, FlowItemRecord, FlowItemRecord.expires.does_not_exist()):
            tally.seen()
            with self.on(tally, f"flow item {item.pk} {item.sk}"):
                created_at = self.flow_created_at(item)
                if created_at is None:
                    tally.leave(f"flow item {item.pk} {item.sk}: its flow has no header with a created_at")
                    continue
                self.set_expires(tally, item, kept_until(created_at))
        invoices = DynamoInvoiceRepository()
        for claim in self.scan(tally, NumberClaimRecord, NumberClaimRecord.expires.does_not_exist()):
            tally.seen()
            with self.on(tally, f"claim {claim.key}"):
                invoice = self.call(invoices.get, claim.invoice_id)
                if invoice is None:
                    tally.leave(f"claim {claim.key}: its invoice {claim.invoice_id} is not found")
                    continue
                self.set_expires(tally, claim, kept_until(invoice.created_at))
        now = time.time()
        unconfirmed = (SubscriptionRecord.state == "pending_confirmation") & SubscriptionRecord.expires.does_not_exist()
        for record in self.scan(tally, SubscriptionRecord, unconfirmed):
            tally.seen()
            subscription = subscription_from_record(record)
            with self.on(tally, f"subscription {record.siret} {record.id}"):
                if subscription.lapsed(now):
                    self.delete_lapsed(tally, record)
                elif subscription.purge_at is not None:
                    self.set_expires(tally, record, datetime.fromtimestamp(subscription.purge_at, UTC))
                else:
                    tally.leave(f"subscription {record.siret} {record.id}: unconfirmed, with no link expiry")
        return tally

    def flow_created_at(self, item) -> str | None:
        from pynamodb.exceptions import DoesNotExist

        from chalicelib.adapters.flow_repository import HEADER
        from chalicelib.adapters.tables import FlowItemRecord

        if item.sk == HEADER:
            return item.created_at
        if self._flow[0] != item.pk:
            try:
                header = self.call(FlowItemRecord.get, item.pk, HEADER)
            except DoesNotExist:
                header = None
            self._flow = (item.pk, header.created_at if header else None)
        return self._flow[1]

    def set_expires(self, tally: Tally, record, when: datetime) -> None:
        """SET expires where there is none yet, on an item still there. A raw UpdateItem: PynamoDB's would also bump
        an invoice's version, and fail the app's write of a change read before it."""
        from chalicelib.adapters.aws import client
        from chalicelib.adapters.tables import is_conditional_failure

        if self.dry_run:
            tally.changed += 1
            return
        model = type(record)
        key = item_key(record)
        names = {"#expires": model.expires.attr_name, **{f"#k{n}": name for n, name in enumerate(key)}}
        present = " AND ".join(f"attribute_exists(#k{n})" for n in range(len(key)))
        try:
            self.call(
                client("dynamodb").update_item,
                TableName=model.Meta.table_name,
                Key=key,
                UpdateExpression="SET #expires = :expires",
                ConditionExpression=f"attribute_not_exists(#expires) AND {present}",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={":expires": {"N": model.expires.serialize(when)}},
            )
        except Exception as error:
            if not is_conditional_failure(error):
                raise
            tally.done += 1  # written meanwhile (by the app, or by a lost answer's first attempt), or deleted
            return
        tally.changed += 1

    def delete_lapsed(self, tally: Tally, record) -> None:
        from pynamodb.exceptions import DeleteError

        from chalicelib.adapters.subscription_tables import SubscriptionRecord
        from chalicelib.adapters.tables import is_conditional_failure

        if self.dry_run:
            tally.changed += 1
            return
        unchanged = (
            (SubscriptionRecord.state == "pending_confirmation")
            & SubscriptionRecord.expires.does_not_exist()
            & (SubscriptionRecord.confirmation_expires == record.confirmation_expires)
        )
        try:
            self.call(SubscriptionRecord(record.siret, record.id).delete, condition=unchanged)
        except DeleteError as error:
            if not is_conditional_failure(error):
                raise
            tally.done += 1  # confirmed, changed or deleted meanwhile
            return
        tally.changed += 1


def stage_environment(stage: str, region: str, lambda_client=None) -> dict[str, str]:
    """The settings the steps read, for a stage deployed by infra/ (its physical names); with `lambda_client`, the
    retention its functions run with (RETENTION_DAYS, which `cdk -c retention_days=…` may have set)."""
    prefix = f"chorale-{stage}"
    environment = {
        "AWS_REGION": region,
        "INVOICE_TABLE": f"{prefix}-invoices",
        "NUMBER_TABLE": f"{prefix}-invoice-numbers",
        "FLOW_TABLE": f"{prefix}-flows",
        "STRUCTURE_TABLE": f"{prefix}-structures",
        "SUBSCRIPTION_TABLE": f"{prefix}-subscriptions",
    }
    if lambda_client is not None:
        function = stream_publisher(stage)
        try:
            configuration = lambda_client.get_function_configuration(FunctionName=function)
        except lambda_client.exceptions.ResourceNotFoundException:
            configuration = {}
        retention = configuration.get("Environment", {}).get("Variables", {}).get("RETENTION_DAYS")
        if not retention:
            raise SystemExit(f"no RETENTION_DAYS in {function}'s environment: deploy this version first")
        environment["RETENTION_DAYS"] = retention
    return environment


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", required=True)
    parser.add_argument("--only", choices=STEPS, default=None, help="run this step only")
    parser.add_argument("--dry-run", action="store_true", help="only count what would change")
    parser.add_argument("--region", default=None)
    args = parser.parse_args(argv)
    import boto3

    region = args.region or boto3.session.Session().region_name or "eu-west-3"
    steps = [args.only] if args.only else list(STEPS)
    lambda_client = boto3.client("lambda", region_name=region) if "expires" in steps else None
    os.environ.update(stage_environment(args.stage, region, lambda_client))
    migration, conflicts = Migration(dry_run=args.dry_run), 0
    for step in steps:
        try:
            tally = getattr(migration, step)()
        except StepFailed as failure:
            print(f"{failure} in chorale-{args.stage}; the steps after it were not run: run again once fixed",
                  file=sys.stderr)  # fmt: skip
            return 1
        print(tally.summary(), flush=True)
        conflicts += tally.conflicts
    if conflicts:
        print(f"{conflicts} number conflict(s) in chorale-{args.stage}: see the lines above", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
