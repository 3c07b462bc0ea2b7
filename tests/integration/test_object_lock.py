"""A stage with Object Lock (prod): the legal records are written locked, each with its own retention; what is
not a record (an upload not yet checked, a derived copy) is not, so it can expire."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from demo import SUPPLIER_KEY, auth
from invoices import ubl_invoice
from structured_invoices import facturx_pdf
from test_attachment_uploads import complete, pdf, send, ticket
from test_flows import make_zip, post_flow, run_pipeline, upload

from chalicelib.config import settings
from chalicelib.services import layout
from devstack.pump import EventPump

LOCK_DAYS = 3650


@pytest.fixture(autouse=True)
def locked_stage(monkeypatch):
    """Set before the moto resources are created (autouse fixtures come first): the bucket is lock-enabled."""
    monkeypatch.setenv("OBJECT_LOCK_MODE", "GOVERNANCE")
    monkeypatch.setenv("OBJECT_LOCK_DAYS", str(LOCK_DAYS))
    settings.cache_clear()
    yield
    monkeypatch.undo()
    settings.cache_clear()


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    real = socket.socket.connect

    def connect(self, address):
        if isinstance(address, tuple) and address[0] not in ("127.0.0.1", "::1", "localhost"):
            raise OSError(f"test tried to reach {address}: only loopback connections are allowed")
        return real(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture
def flow_pump(app, aws):
    boto3.client("sqs").purge_queue(QueueUrl=aws.queue_urls[settings().inbox_queue])  # S3's s3:TestEvent
    return EventPump(app, settings().region, {"publish_status_events": aws.invoice_stream_arn})


def lock_of(key: str) -> tuple[str | None, datetime | None]:
    head = boto3.client("s3").head_object(Bucket=settings().invoice_bucket, Key=key)
    return head.get("ObjectLockMode"), head.get("ObjectLockRetainUntilDate")


def assert_locked(key: str) -> None:
    mode, until = lock_of(key)
    expected = datetime.now(UTC) + timedelta(days=LOCK_DAYS)
    assert mode == "GOVERNANCE" and abs(until - expected) < timedelta(minutes=5), (key, mode, until)


def test_an_original_is_locked_and_its_rendition_is_not(client, flow_pump):
    deposited = client.http.post("/v1/invoices", headers=auth(SUPPLIER_KEY, **{"Content-Type": "application/pdf"}),
                                 body=facturx_pdf(number="LOCK-1"))  # fmt: skip
    assert deposited.status_code == 202, deposited.body
    invoice_id = json.loads(deposited.body)["id"]
    run_pipeline(flow_pump)
    assert_locked(layout.original_key(invoice_id))
    renditions = boto3.client("s3").list_objects_v2(Bucket=settings().invoice_bucket, Prefix="renditions/")
    [rendition] = [o["Key"] for o in renditions["Contents"] if invoice_id in o["Key"]]
    assert lock_of(rendition) == (None, None)  # derived from the original: re-derived, never the record


def test_a_posted_flow_its_bundle_and_an_uploaded_flow_are_locked(client, flow_pump):
    posted = post_flow(client, make_zip([("a.xml", ubl_invoice("LOCK-F1")), ("b.xml", ubl_invoice("LOCK-F2"))]))
    assert posted.status_code == 202, posted.body
    flow_id = json.loads(posted.body)["id"]
    uploaded = upload(client, ubl_invoice("LOCK-U1"))
    assert lock_of(layout.inbox_key(uploaded["upload_id"])) == (None, None)  # as the client's POST left it
    run_pipeline(flow_pump)
    assert_locked(layout.inbox_key(flow_id))
    assert_locked(layout.bundle_key(flow_id, 1))
    assert_locked(layout.inbox_key(uploaded["upload_id"]))  # locked when the platform took it in


def test_a_completed_attachment_is_locked_and_its_upload_is_not(client, flow_pump):
    created = client.http.post("/v1/invoices", headers=auth(SUPPLIER_KEY, **{"Content-Type": "application/xml"}),
                               body=ubl_invoice("LOCK-A1"))  # fmt: skip
    invoice_id = json.loads(created.body)["id"]
    run_pipeline(flow_pump)
    issued = ticket(client, invoice_id, "annexe.pdf")
    send(issued, pdf(64 * 1024))
    done = complete(client, issued)
    assert done.status_code == 201, done.body
    attachment = json.loads(done.body)
    staging = issued["fields"]["key"]
    assert lock_of(staging) == (None, None)  # the upload expires in two days, locked or not it would stay
    assert_locked(f"attachments/{invoice_id}/{attachment['id']}")


def test_a_refused_attachment_upload_leaves_nothing_locked(client, flow_pump):
    """Review finding: the upload was copied to its record key, locked, then checked: a refused file (wrong type,
    too large) stayed locked for the whole retention, the delete only adding a marker. It is locked once accepted."""
    created = client.http.post("/v1/invoices", headers=auth(SUPPLIER_KEY, **{"Content-Type": "application/xml"}),
                               body=ubl_invoice("LOCK-R1"))  # fmt: skip
    invoice_id = json.loads(created.body)["id"]
    run_pipeline(flow_pump)
    issued = ticket(client, invoice_id, "annexe.pdf")
    send(issued, b"not a PDF at all, whatever its name says")
    assert complete(client, issued).status_code == 415
    key = f"attachments/{invoice_id}/{issued['upload_id']}"
    versions = boto3.client("s3").list_object_versions(Bucket=settings().invoice_bucket, Prefix=key)
    for version in versions.get("Versions", []):  # the copy's bytes, now a noncurrent version: free to expire
        retention = boto3.client("s3").head_object(Bucket=settings().invoice_bucket, Key=key,
                                                   VersionId=version["VersionId"]).get("ObjectLockMode")  # fmt: skip
        assert retention is None, version


def test_the_prefixes_the_services_write_records_to_are_the_locked_ones():
    from chalicelib.services import lifecycle

    invoice, other = "01JD0000000000000000000000", "01JD0000000000000000000001"
    assert layout.is_legal_record(layout.inbox_key(invoice))
    assert layout.is_legal_record(layout.attachment_key(invoice, other))
    assert not layout.is_legal_record(lifecycle.attachment_upload_key(invoice, other))
    assert not layout.is_legal_record(layout.download_key(invoice))
