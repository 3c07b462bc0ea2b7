"""Publish again the status events of a time window, once the stream publisher's cause is fixed.

    make replay-events STAGE=prod SINCE=2026-11-26T10:00:00Z UNTIL=2026-11-26T12:30:00Z [DRY_RUN=1]
    python infra/replay_events.py --stage prod --since … --until … [--dry-run] [--region eu-west-3]

When the stream publisher gives up on a batch (10 retries, 24 h), DynamoDB Streams sends a pointer to it to
the on-failure queue `chorale-<stage>-publish-status-events-failures`; the records themselves expire with the
stream (24 h). What they announced is still in the invoices: their history. This scans the invoice table for
invoices updated since `--since` and publishes every status change made between `--since` and `--until`,
through the same publisher as the stream (same event ids, so a receiver that already had an event drops the
copy, and an e-mail subscription is not mailed it again; same message attributes, so subscribers' filter
policies apply). SNS's throttling is retried a few times; a line every 1,000 events tells the progress, and a
failure prints "published N; failed at invoice <id> (<error>)" and exits 1. Take the window from the failure
messages (`DDBStreamBatchInfo.approximateArrivalOfFirstRecord` … `approximateArrivalOfLastRecord`), widened by
a minute on each side. The scan reads the whole table (eventually consistent: ~$0.02 per million invoices
stored).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def instant(text: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise SystemExit(f"not an ISO 8601 time: {text!r} (e.g. 2026-11-26T10:00:00Z)") from None
    if parsed.tzinfo is None:
        raise SystemExit(f"{text!r} needs a time zone (a trailing Z)")
    return parsed.astimezone(UTC)


def stored(moment: datetime) -> str:
    """As the invoice table stores update times (updated_key), for the scan's filter."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


PROGRESS_EVERY = 1000  # events between two progress lines
THROTTLING_RETRIES = 4  # waits of 0.5, 1, 2, 4 s: SNS's publish quota refills every second


class ReplayFailed(Exception):
    def __init__(self, published: int, invoice_id: str, error: Exception):
        super().__init__(f"published {published}; failed at invoice {invoice_id} ({error})")
        self.published, self.invoice_id, self.error = published, invoice_id, error


def throttled(error: Exception) -> bool:
    """A passing AWS failure of the call (throttling, a 5xx, a timeout: the API's own classifier), or SNS's
    throttling of entries of a batch (the publisher's error names their codes)."""
    from chalicelib.adapters.aws_failures import temporary_failure

    return temporary_failure(error) is not None or "throttl" in str(error).lower()


class Reporting:
    """The publisher as a replay drives it: throttling retried a few times with a short backoff (a batch
    published again may repeat events its first try sent: receivers dedupe, e-mails are sent once), a progress
    line every PROGRESS_EVERY events, and a failure that says how far the replay got."""

    def __init__(self, publisher, *, sleep=time.sleep):
        self.publisher, self.sleep = publisher, sleep
        self.published = 0

    def publish(self, events) -> None:
        for retry in range(THROTTLING_RETRIES + 1):
            try:
                self.publisher.publish(events)
                break
            except Exception as error:
                if retry == THROTTLING_RETRIES or not throttled(error):
                    raise ReplayFailed(self.published, events[0].invoice.id, error) from error
                self.sleep(0.5 * 2**retry)
        before, self.published = self.published, self.published + len(events)
        if self.published // PROGRESS_EVERY > before // PROGRESS_EVERY:
            print(f"published {self.published} so far (invoice {events[-1].invoice.id})", flush=True)


def replay(since: datetime, until: datetime, *, invoices, publisher, dry_run: bool = False, sleep=time.sleep) -> int:
    """The number of events published (or, with dry_run, that would be). Raises ReplayFailed."""
    from chalicelib.services.publishing import republish_window

    class Counting:
        def __init__(self):
            self.events = 0

        def publish(self, events) -> None:
            self.events += len(events)

    target = Counting() if dry_run else Reporting(publisher, sleep=sleep)
    return republish_window(invoices.updated_since(stored(since)), since, until, publisher=target)


def stage_environment(stage: str, region: str, account: str) -> dict[str, str]:
    """The settings the publisher reads, for a stage deployed by infra/ (its physical names)."""
    prefix = f"chorale-{stage}"
    return {
        "AWS_REGION": region,
        "INVOICE_TABLE": f"{prefix}-invoices",
        "SUBSCRIPTION_TABLE": f"{prefix}-subscriptions",
        "EVENTS_TOPIC_ARN": f"arn:aws:sns:{region}:{account}:{prefix}-events",
    }


def stream_publisher(stage: str) -> str:
    """The stage's stream publisher function, as infra/ names it."""
    return f"chorale-{stage}-PublishStatusEvents"


def links_base(lambda_client, stage: str) -> str | None:
    """The API address the stage's stream publisher starts the events' links with, so that a replayed event
    reads as its first publication; None when the function cannot be read (the links are then paths)."""
    try:
        configuration = lambda_client.get_function_configuration(FunctionName=stream_publisher(stage))
    except lambda_client.exceptions.ResourceNotFoundException:
        return None
    return configuration.get("Environment", {}).get("Variables", {}).get("PUBLIC_BASE_URL")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", required=True)
    parser.add_argument("--since", required=True, type=instant)
    parser.add_argument("--until", required=True, type=instant)
    parser.add_argument("--dry-run", action="store_true", help="only count the events")
    parser.add_argument("--region", default=None)
    args = parser.parse_args(argv)
    if args.until < args.since:
        raise SystemExit("--until is before --since")
    import boto3

    region = args.region or boto3.session.Session().region_name or "eu-west-3"
    account = boto3.client("sts", region_name=region).get_caller_identity()["Account"]
    os.environ.update(stage_environment(args.stage, region, account))
    base = links_base(boto3.client("lambda", region_name=region), args.stage)
    if base:
        os.environ["PUBLIC_BASE_URL"] = base
    from chalicelib.adapters.invoice_repository import DynamoInvoiceRepository
    from chalicelib.entrypoints import dependencies

    try:
        count = replay(args.since, args.until, invoices=DynamoInvoiceRepository(), publisher=dependencies.publisher(),
                       dry_run=args.dry_run)  # fmt: skip
    except ReplayFailed as failure:  # the scan's order is not the time's: run the whole window again once fixed
        print(f"{failure} of chorale-{args.stage} between {stored(args.since)} and {stored(args.until)}",
              file=sys.stderr)  # fmt: skip
        return 1
    verb = "would publish" if args.dry_run else "published"
    print(f"{verb} {count} status event(s) of chorale-{args.stage} between {stored(args.since)} and "
          f"{stored(args.until)}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
