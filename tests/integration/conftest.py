"""Integration fixtures: moto in-process, every resource created, the real handlers behind the chalice test client."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from chalice.test import Client, TestHTTPClient
from moto import mock_aws

from chalicelib.config import settings
from chalicelib.entrypoints import dependencies
from devstack.gateway import local_gateway, problem_for
from devstack.pump import EventPump
from devstack.resources import create_resources
from devstack.seed import load_seed

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "devstack" / "demo-seed.json"


@pytest.fixture
def aws(monkeypatch):
    """A fresh moto account with every Chorale resource and the demo directory."""
    with mock_aws():
        dependencies.reset()
        resources = create_resources(settings(), visibility_timeout=0)
        # S3 announces a new notification configuration with an s3:TestEvent; start from an empty queue.
        boto3.client("sqs").purge_queue(QueueUrl=resources.queue_urls[settings().validation_queue])
        load_seed(SEED)
        yield resources
        dependencies.reset()


@pytest.fixture
def app(aws):
    import app as application

    return application.app


@pytest.fixture
def client(app, monkeypatch):
    # API Gateway answers auth failures itself; infra maps those to problem+json, as does the local stack.
    def error_response(self, error):
        from chalice.test import HTTPResponse

        status, headers, body = problem_for(error)
        return HTTPResponse(status_code=status, headers=headers, body=body)

    monkeypatch.setattr(TestHTTPClient, "_error_response", error_response)
    monkeypatch.setattr("chalice.test.LocalGateway", local_gateway)  # the header's form checked as API Gateway does
    with Client(app, stage_name="dev", project_dir=str(ROOT)) as test_client:
        yield test_client


@pytest.fixture
def pump(app, aws):
    return EventPump(app, settings().region, {"publish_status_events": aws.invoice_stream_arn})


@pytest.fixture
def events_queue(aws):
    """An SQS queue subscribed to the events topic (raw delivery off, as a webhook shim would see it)."""
    import boto3

    sqs = boto3.client("sqs", region_name=settings().region)
    url = sqs.create_queue(QueueName="test-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    boto3.client("sns", region_name=settings().region).subscribe(TopicArn=aws.topic_arn, Protocol="sqs", Endpoint=arn)

    def read() -> list[dict]:
        messages = []
        while True:
            batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return messages
            for message in batch:
                messages.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    return read
