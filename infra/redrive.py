"""Move a queue's dead letters back to it, once the cause is fixed (see docs/operations.md, *Alarms*).

    make redrive QUEUE=chorale-prod-validation [MAX=100] [DRY_RUN=1]
    python infra/redrive.py chorale-prod-validation [--max 100] [--dry-run] [--region eu-west-3]

The dead-letter queue is the one the queue's redrive policy names. Each message goes back with its body and
message attributes unchanged (a validation message is the S3 notification of an original: processing it
again decides the invoice, or leaves it as decided), then leaves the dead-letter queue. A message is
deleted from the dead-letter queue only after SQS has accepted it on the source queue, so an interruption
can at worst send a message twice, which every consumer tolerates (handlers are idempotent).
"""

from __future__ import annotations

import argparse
import json
import sys


def dead_letter_queue_url(sqs, queue_url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["RedrivePolicy"])["Attributes"]
    if "RedrivePolicy" not in attributes:
        raise SystemExit(f"{queue_url} has no redrive policy, hence no dead-letter queue")
    arn = json.loads(attributes["RedrivePolicy"])["deadLetterTargetArn"]
    _, _, _, _, account, name = arn.split(":", 5)
    return sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]


def redrive(sqs, queue_name: str, limit: int | None = None, dry_run: bool = False) -> int:
    """Move up to `limit` messages (all by default) from the queue's DLQ back to it; the number moved."""
    queue_url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    dlq_url = dead_letter_queue_url(sqs, queue_url)
    if dry_run:
        attributes = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["ApproximateNumberOfMessages"])
        return int(attributes["Attributes"]["ApproximateNumberOfMessages"])
    moved = 0
    while limit is None or moved < limit:
        batch = min(10, limit - moved) if limit is not None else 10
        messages = sqs.receive_message(
            QueueUrl=dlq_url, MaxNumberOfMessages=batch, MessageAttributeNames=["All"], WaitTimeSeconds=1
        ).get("Messages", [])
        if not messages:
            break
        entries = [
            {"Id": str(n), "MessageBody": m["Body"],
             **({"MessageAttributes": m["MessageAttributes"]} if m.get("MessageAttributes") else {})}
            for n, m in enumerate(messages)
        ]  # fmt: skip
        sent = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        accepted = {int(s["Id"]) for s in sent.get("Successful", [])}
        done = [{"Id": str(n), "ReceiptHandle": messages[n]["ReceiptHandle"]} for n in sorted(accepted)]
        if done:
            sqs.delete_message_batch(QueueUrl=dlq_url, Entries=done)
        moved += len(done)
        if len(accepted) < len(messages):  # SQS refused some: they stay in the DLQ (visible again later)
            failed = [f.get("Message", f.get("Code")) for f in sent.get("Failed", [])]
            print(f"{len(messages) - len(accepted)} message(s) refused by {queue_name}: {failed}", file=sys.stderr)
            break
    return moved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("queue", help="the source queue's name, e.g. chorale-prod-validation")
    parser.add_argument("--max", type=int, default=None, help="move at most this many messages")
    parser.add_argument("--dry-run", action="store_true", help="only count the dead letters")
    parser.add_argument("--region", default=None)
    args = parser.parse_args(argv)
    import boto3

    sqs = boto3.client("sqs", region_name=args.region)
    count = redrive(sqs, args.queue, args.max, args.dry_run)
    print(f"{'dead letters in' if args.dry_run else 'moved back to'} {args.queue}: {count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
