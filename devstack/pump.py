"""Deliver events to the Chalice handlers the way Lambda's event sources do.

- SQS: batches of up to `batch_size`; messages named in `batchItemFailures` (or the whole
  batch when the handler raises) stay in the queue, come back after the visibility timeout
  and go to the DLQ after maxReceiveCount receives (SQS's redrive, as in AWS).
- DynamoDB streams: records in order per shard; on a failure the batch is retried from the
  first failed record (ReportBatchItemFailures semantics).
- SNS: through an enveloped shim queue subscribed to the topic.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import uuid
from collections.abc import Callable

import boto3
from botocore.config import Config
from chalice.app import DynamoDBEventConfig, SNSEventConfig, SQSEventConfig
from chalice.local import LambdaContext

log = logging.getLogger("devstack.pump")

Handler = Callable[[dict, object], object]


def _client(service: str, region: str):
    return boto3.session.Session().client(
        service, region_name=region, config=Config(account_id_endpoint_mode="disabled")
    )


def sqs_record(message: dict, queue_arn: str, region: str) -> dict:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {
            name: {"stringValue": value.get("StringValue"), "dataType": value.get("DataType", "String")}
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def sns_envelope_as_record(body: str, topic_arn: str) -> dict:
    envelope = json.loads(body)
    envelope.setdefault("Subject", None)  # chalice's SNSEvent needs the key; moto omits it
    return {"EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": topic_arn, "Sns": envelope}


def failed_ids(result: object) -> set[str] | None:
    """Ids reported in batchItemFailures; None when the result is not a batch response."""
    if isinstance(result, dict) and "batchItemFailures" in result:
        return {f["itemIdentifier"] for f in result["batchItemFailures"]}
    return None


# Handlers that read their time left get the timeout infra deploys them with (infra/chorale_infra/stack.py,
# QUEUE_CONSUMERS): the validation starts an object only with its reserve left (entrypoints/events.py).
DEPLOYED_TIMEOUT_MS = {"validate_invoices": 120_000, "expand_inbox": 300_000}


class EventPump:
    def __init__(self, app, region: str, stream_arns: dict[str, str] | None = None, memory_mb: int = 256):
        self.app = app
        self.region = region
        self.stream_arns = stream_arns or {}  # handler name → real local stream ARN
        self.memory_mb = memory_mb
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []
        self.errors = 0
        self._shard_iterators: dict[str, dict[str, str]] = {}  # for deliver_stream_once

    # --- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        for source in self.app.event_sources:
            if isinstance(source, SQSEventConfig):
                target, args = self._poll_sqs, (source.name, source.queue, source.batch_size or 10)
            elif isinstance(source, DynamoDBEventConfig):
                target, args = self._poll_stream, (source.name, self.stream_arns[source.name], source.batch_size)
            elif isinstance(source, SNSEventConfig):
                target, args = self._poll_sns, (source.name, source.topic)
            else:
                log.warning("event source %s of %s is not emulated locally", type(source).__name__, source.name)
                continue
            thread = threading.Thread(target=self._guard, args=(target, args), name=f"pump-{source.name}", daemon=True)
            thread.start()
            self.threads.append(thread)

    def stop(self, timeout: float = 5.0) -> None:
        self.stop_event.set()
        for thread in self.threads:
            thread.join(timeout)

    def _guard(self, target, args) -> None:
        while not self.stop_event.is_set():
            try:
                target(*args)
            except Exception:  # keep pumping: a local stand-in must survive what Lambda survives
                self.errors += 1
                log.exception("event pump %s failed; restarting", target.__name__)
                self.stop_event.wait(1.0)

    def invoke(self, name: str, event: dict) -> object:
        runtime_ms = DEPLOYED_TIMEOUT_MS.get(name, 60_000)
        return self.app.handler_map[name](event, LambdaContext(name, self.memory_mb, max_runtime_ms=runtime_ms))

    # --- SQS -------------------------------------------------------------------------------
    def _queue(self, queue: str) -> tuple[object, str, str]:
        sqs = _client("sqs", self.region)
        url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return sqs, url, arn

    def _deliver_sqs(self, name: str, sqs, url: str, batch_size: int, to_event, wait_seconds: int = 1) -> int:
        messages = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=min(batch_size, 10),
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return 0
        try:
            result = self.invoke(name, to_event(messages))
        except Exception:
            log.exception("%s raised: the whole batch will be redelivered", name)
            return len(messages)
        failed = failed_ids(result) or set()
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        return len(messages)

    def deliver_sqs_once(self, name: str, wait_seconds: int = 0) -> int:
        """One Lambda-style delivery from the handler's queue; the number of messages received."""
        source = self._source(name)
        sqs, url, arn = self._queue(source.queue)
        return self._deliver_sqs(
            name,
            sqs,
            url,
            source.batch_size or 10,
            lambda messages: {"Records": [sqs_record(m, arn, self.region) for m in messages]},
            wait_seconds,
        )

    def _poll_sqs(self, name: str, queue: str, batch_size: int) -> None:
        sqs, url, arn = self._queue(queue)
        while not self.stop_event.is_set():
            self._deliver_sqs(
                name,
                sqs,
                url,
                batch_size,
                lambda messages: {"Records": [sqs_record(m, arn, self.region) for m in messages]},
            )

    # --- SNS (through a shim queue) ---------------------------------------------------------
    def _poll_sns(self, name: str, topic: str) -> None:
        sqs, sns = _client("sqs", self.region), _client("sns", self.region)
        topic_arn = topic if topic.startswith("arn:") else sns.create_topic(Name=topic)["TopicArn"]
        url = sqs.create_queue(QueueName=f"local-sns-{name}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
        while not self.stop_event.is_set():
            # Lambda gets one SNS record per invocation.
            self._deliver_sqs(
                name,
                sqs,
                url,
                1,
                lambda messages: {"Records": [sns_envelope_as_record(messages[0]["Body"], topic_arn)]},
            )

    # --- DynamoDB streams -------------------------------------------------------------------
    def _iterators(self, streams, stream_arn: str) -> dict[str, str]:
        shards = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
        return {
            shard["ShardId"]: streams.get_shard_iterator(
                StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            for shard in shards
        }

    def _stream_round(self, name: str, stream_arn: str, batch_size: int, streams, iterators: dict[str, str]) -> int:
        delivered = 0
        for shard_id, iterator in list(iterators.items()):
            response = streams.get_records(ShardIterator=iterator, Limit=batch_size)
            records = response.get("Records", [])
            next_iterator = response.get("NextShardIterator")
            if records:
                delivered += len(records)
                next_iterator = self._deliver_stream(name, stream_arn, shard_id, records, streams) or next_iterator
            if next_iterator:
                iterators[shard_id] = next_iterator
        return delivered

    def deliver_stream_once(self, name: str) -> int:
        """Deliver what the stream holds that this pump has not delivered yet; the number of records."""
        streams = _client("dynamodbstreams", self.region)
        arn = self.stream_arns[name]
        if name not in self._shard_iterators:
            self._shard_iterators[name] = self._iterators(streams, arn)
        iterators = self._shard_iterators[name]
        return self._stream_round(name, arn, self._source(name).batch_size or 100, streams, iterators)

    def _poll_stream(self, name: str, stream_arn: str, batch_size: int) -> None:
        streams = _client("dynamodbstreams", self.region)
        iterators = self._iterators(streams, stream_arn)
        while not self.stop_event.is_set():
            if not self._stream_round(name, stream_arn, batch_size, streams, iterators):
                self.stop_event.wait(0.05)

    def _deliver_stream(self, name, stream_arn, shard_id, records, streams) -> str | None:
        """Invoke the handler; return an iterator positioned at the first failed record, if any."""
        for record in records:
            record["eventSourceARN"] = stream_arn
            record.setdefault("eventID", uuid.uuid4().hex)
            record["dynamodb"] = _as_lambda_json(record.get("dynamodb", {}))
        try:
            failed = failed_ids(self.invoke(name, {"Records": records}))
        except Exception:
            log.exception("%s raised: retrying the batch", name)
            failed = {records[0]["dynamodb"]["SequenceNumber"]}
        if not failed:
            return None
        first = min(failed, key=int)
        self.stop_event.wait(0.5)  # back off before the retry, as Lambda does
        return streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard_id, ShardIteratorType="AT_SEQUENCE_NUMBER", SequenceNumber=first
        )["ShardIterator"]

    def _source(self, name: str):
        return next(source for source in self.app.event_sources if source.name == name)


def _as_lambda_json(value):
    """boto3 decodes a stream record's binary values; Lambda's JSON event carries them base64-encoded."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {k: _as_lambda_json(v) for k, v in value.items()}
    if isinstance(value, list | set):
        return [_as_lambda_json(v) for v in value]
    return value
