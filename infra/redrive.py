"""Move a queue's dead letters back to it, once the cause is fixed (see docs/operations.md, *Alarms*).

    make redrive QUEUE=chorale-prod-validation [MAX=100] [DRY_RUN=1]
    make redrive QUEUE=chorale-prod-webhook-deliveries FROM=chorale-prod-webhook-deliveries-given-up
    python infra/redrive.py chorale-prod-validation [--from QUEUE] [--max 100] [--dry-run] [--region eu-west-3]

The dead-letter queue is the one the queue's redrive policy names, or --from's: the webhook deliveries the app gave
up on (a receiver down past the retry age) wait in their own given-up queue, not in the DLQ. Each message goes
back with its body and message attributes unchanged (a validation message is the S3 notification of an
original: processing it again decides the invoice, or leaves it as decided), then leaves the dead-letter queue.
A message is deleted from the dead-letter queue only after SQS has accepted it on the source queue, so an interruption
can at worst send a message twice, which every consumer tolerates (handlers are idempotent).

A webhook delivery job goes back with a new retry window (its first attempt's time set to now, its attempt
number the next one): kept, its age would dead-letter it again at its first failure.

A run moves at most the dead letters present when it starts (visible and in flight, at most --max). One
that comes back to the dead-letter queue during the run (a delivery job whose receiver is still down) is
not moved again. It ends by saying what is left; it exits 1 if SQS refused a message or a call failed,
after making the messages it received and did not move visible again.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import signal
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chalicelib.domain.batching import chunks  # noqa: E402
from chalicelib.services.subscriptions_ports import DeliveryJob  # noqa: E402

SQS_BATCH = 10
# SendMessageBatch carries at most 1 MiB in all (bodies and attributes): large messages go fewer a request
SQS_BATCH_BYTES = 1024 * 1024 - 16 * 1024
RETRIES = 3  # sends again an entry SQS refused through no fault of ours (SenderFault false)
RETRY_PAUSE_SECONDS = 0.5  # doubled at each retry
PROGRESS_EVERY = 100


def dead_letter_queue_url(sqs, queue_url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["RedrivePolicy"])["Attributes"]
    if "RedrivePolicy" not in attributes:
        raise SystemExit(
            f"{queue_url} has no redrive policy, hence no dead-letter queue (a given-up queue is moved back with "
            "QUEUE=<the queue its messages came from> FROM=<it>)"
        )
    arn = json.loads(attributes["RedrivePolicy"])["deadLetterTargetArn"]
    _, _, _, _, account, name = arn.split(":", 5)
    return sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]


def delivery_job(body: str) -> DeliveryJob | None:
    """The webhook delivery job a dead letter holds (the given-up queue adds a `reason`), else None."""
    try:
        raw = json.loads(body)
    except ValueError:
        return None
    if not isinstance(raw, dict) or not {"subscription_id", "siret", "event"} <= raw.keys():
        return None
    try:
        return DeliveryJob.from_dict(raw)
    except (TypeError, ValueError):
        return None


def identity(message: dict) -> tuple:
    """What makes a dead letter the same one again: a delivery job comes back with another reason or window."""
    job = delivery_job(message["Body"])
    if job is not None:
        return "delivery", job.subscription_id, str(job.event.get("id"))
    attributes = json.dumps(message.get("MessageAttributes") or {}, sort_keys=True, default=repr)
    return "body", hashlib.sha256(message["Body"].encode() + attributes.encode()).hexdigest()


def outgoing_body(body: str, now: float) -> str:
    job = delivery_job(body)
    if job is None:
        return body
    fresh = replace(job, attempt=job.attempt + 1, first_attempt_at=now, not_before=0.0)
    return json.dumps(fresh.as_dict(), ensure_ascii=False)


def entry_size(entry: dict) -> int:
    """An entry's share of SendMessageBatch's 1 MiB: its body and its attributes' names, types and values."""
    size = len(entry["MessageBody"].encode())
    for name, value in entry.get("MessageAttributes", {}).items():
        data = value.get("StringValue") or value.get("BinaryValue") or b""
        size += len(name.encode()) + len(value["DataType"].encode())
        size += len(data.encode() if isinstance(data, str) else data)
    return size


@contextmanager
def interrupts_deferred():
    """Ctrl-C waits until the block is done (a batch sent is then deleted from the DLQ), then interrupts."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        raise KeyboardInterrupt


@dataclass
class Redrive:
    sqs: object
    queue_name: str
    say: object = print
    source_name: str | None = None  # the queue to move from (--from); None: the queue's DLQ
    moved: int = 0
    came_back: int = 0  # moved in this run, then dead-lettered again: not moved twice
    refused: list[str] = field(default_factory=list)  # why SQS refused the messages it kept refusing
    _held: dict = field(default_factory=dict)  # MessageId → message received from the DLQ, neither moved nor freed

    def __post_init__(self):
        self.queue_url = self.sqs.get_queue_url(QueueName=self.queue_name)["QueueUrl"]
        if self.source_name:
            self.dlq_url = self.sqs.get_queue_url(QueueName=self.source_name)["QueueUrl"]
        else:
            self.dlq_url = dead_letter_queue_url(self.sqs, self.queue_url)
        self.dlq_name = self.dlq_url.rstrip("/").rsplit("/", 1)[-1]

    def counts(self) -> tuple[int, int]:
        """The DLQ's (visible, in flight) messages, as SQS approximates them."""
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        attributes = self.sqs.get_queue_attributes(QueueUrl=self.dlq_url, AttributeNames=names)["Attributes"]
        return int(attributes[names[0]]), int(attributes[names[1]])

    def left(self) -> str:
        """What the DLQ holds now, and when a run can take the messages in flight."""
        visible, in_flight = self.counts()
        text = f"{visible} visible, {in_flight} in flight"
        if in_flight:
            timeout = self.sqs.get_queue_attributes(QueueUrl=self.dlq_url, AttributeNames=["VisibilityTimeout"])
            seconds = timeout["Attributes"]["VisibilityTimeout"]
            text += f": run again once they are visible, after the queue's visibility timeout ({seconds} s)"
        return text

    def run(self, limit: int | None = None) -> None:
        """Move the dead letters present now (at most `limit`); on any error or interruption, the messages
        received and not moved are made visible again before it propagates."""
        present = sum(self.counts())
        target = present if limit is None else min(limit, present)
        moved_ids: set[tuple] = set()
        seen: set[str] = set()
        try:
            while self.moved < target:
                messages = self.sqs.receive_message(
                    QueueUrl=self.dlq_url,
                    MaxNumberOfMessages=min(SQS_BATCH, target - self.moved),
                    MessageAttributeNames=["All"],
                    WaitTimeSeconds=1,
                ).get("Messages", [])
                if not messages or all(m["MessageId"] in seen for m in messages):
                    break  # nothing left that can be received now, or only what this run already skipped
                new = [m for m in messages if m["MessageId"] not in seen]
                seen.update(m["MessageId"] for m in new)
                self._held.update((m["MessageId"], m) for m in messages)  # the latest receipt handle frees it
                fresh = [m for m in new if identity(m) not in moved_ids]
                self.came_back += len(new) - len(fresh)
                before = self.moved
                for message in fresh:
                    moved_ids.add(identity(message))
                if not self._move(fresh):
                    break
                if self.moved // PROGRESS_EVERY > before // PROGRESS_EVERY:
                    self.say(f"moved {self.moved} of {target}")
        finally:
            self._free()

    def _move(self, messages: list[dict]) -> bool:
        """Send the messages to the queue, then delete those it accepted from the DLQ; False if some were refused."""
        now = time.time()
        entries = [
            {"Id": message["MessageId"], "MessageBody": outgoing_body(message["Body"], now),
             **({"MessageAttributes": message["MessageAttributes"]} if message.get("MessageAttributes") else {})}
            for message in messages
        ]  # fmt: skip
        for batch in chunks(entries, count=SQS_BATCH, budget=SQS_BATCH_BYTES, size=entry_size):
            accepted: list[str] = []
            with interrupts_deferred():
                try:
                    self._send(batch, accepted)
                finally:
                    self._delete(accepted)
            if len(accepted) < len(batch):
                return False
        return True

    def _send(self, entries: list[dict], accepted: list[str]) -> None:
        for attempt in range(RETRIES + 1):
            answer = self.sqs.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
            accepted.extend(s["Id"] for s in answer.get("Successful", []))
            failed = answer.get("Failed", [])
            final = [f for f in failed if f.get("SenderFault") or attempt == RETRIES]
            self.refused.extend(f"{f.get('Code')}: {f.get('Message', '')}" for f in final)
            again = {f["Id"] for f in failed} - {f["Id"] for f in final}
            if not again:
                return
            time.sleep(RETRY_PAUSE_SECONDS * 2**attempt)
            entries = [e for e in entries if e["Id"] in again]

    def _delete(self, ids: list[str]) -> None:
        if not ids:
            return
        held = [self._held.pop(i) for i in ids]
        answer = self.sqs.delete_message_batch(
            QueueUrl=self.dlq_url, Entries=[{"Id": m["MessageId"], "ReceiptHandle": m["ReceiptHandle"]} for m in held]
        )
        self.moved += len(ids)
        for failure in answer.get("Failed", []):  # sent, still in the DLQ: it will be sent again by a later run
            print(f"moved but not deleted from {self.dlq_name}: {failure}", file=sys.stderr)

    def _free(self) -> None:
        """Make the messages received and not moved visible again, so a run can take them at once."""
        held, self._held = list(self._held.values()), {}
        for start in range(0, len(held), SQS_BATCH):
            entries = [
                {"Id": m["MessageId"], "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                for m in held[start : start + SQS_BATCH]
            ]
            self.sqs.change_message_visibility_batch(QueueUrl=self.dlq_url, Entries=entries)


def redrive(sqs, queue_name: str, limit: int | None = None, dry_run: bool = False, source: str | None = None) -> int:
    """Move up to `limit` of the dead letters present now (in the queue's DLQ, or in `source`) back to the queue;
    the number moved (with dry_run, the number of dead letters, visible and in flight)."""
    job = Redrive(sqs, queue_name, source_name=source)
    if dry_run:
        return sum(job.counts())
    job.run(limit)
    return job.moved


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("queue", help="the source queue's name, e.g. chorale-prod-validation")
    parser.add_argument(
        "--from",
        dest="source",
        default=None,
        help="move from this queue instead of the DLQ, e.g. chorale-prod-webhook-deliveries-given-up",
    )
    parser.add_argument("--max", type=positive, default=None, help="move at most this many messages")
    parser.add_argument("--dry-run", action="store_true", help="only count the dead letters (visible and in flight)")
    parser.add_argument("--region", default=None)
    args = parser.parse_args(argv)
    import boto3

    job = Redrive(boto3.client("sqs", region_name=args.region), args.queue, source_name=args.source)
    if args.dry_run:
        print(f"dead letters in {job.dlq_name}: {job.left()}")
        return 0
    failed = False
    try:
        job.run(args.max)
    except KeyboardInterrupt:
        print(f"interrupted: moved back to {args.queue}: {job.moved}; left in {job.dlq_name}: {job.left()}")
        raise
    except Exception as error:  # noqa: BLE001 - reported with what was done and what is left
        print(f"stopped by an error: {error}", file=sys.stderr)
        failed = True
    print(f"moved back to {args.queue}: {job.moved}")
    if job.came_back:
        print(f"{job.came_back} moved in this run came back to {job.dlq_name} at once: is the cause fixed?")
    if job.refused:
        print(f"{len(job.refused)} message(s) refused by {args.queue}: {job.refused}", file=sys.stderr)
    print(f"left in {job.dlq_name}: {job.left()}")
    return 1 if failed or job.refused else 0


if __name__ == "__main__":
    sys.exit(main())
