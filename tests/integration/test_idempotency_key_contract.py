"""The Idempotency-Key contract under what moto does not show (review r18): a key reused with another format is a
409 even where the API's role may not clean up (IAM), and a key that cannot protect anything is refused."""

from __future__ import annotations

import json

import boto3
import pytest
from demo import SUPPLIER_KEY, auth
from idem_faults import faults_fixture  # noqa: F401 - fixture
from invoices import ubl_invoice
from structured_invoices import json_invoice
from test_flows import make_zip

from chalicelib.config import settings


def deposit(client, body, key, content_type="application/xml"):
    headers = auth(SUPPLIER_KEY, **{"Content-Type": content_type, "Idempotency-Key": key})
    return client.http.post("/v1/invoices", body=body, headers=headers)


def test_a_key_reused_from_xml_for_json_is_a_409_even_when_the_rendition_cannot_be_deleted(client, faults):
    # The API's role has no s3:DeleteObject on renditions/: S3 answers AccessDenied (moto enforces no IAM).
    faults.fail("DeleteObject", "AccessDenied", times=5, when=lambda p: p["Key"].startswith("renditions/"))
    assert deposit(client, ubl_invoice("F-KEY-1"), "k-xml-then-json").status_code == 202
    body = json.dumps(json_invoice("J-KEY-1")).encode()
    for _ in range(2):  # the refusal, and the client's retry: the same answer
        answer = deposit(client, body, "k-xml-then-json", "application/json")
        assert answer.status_code == 409, answer.body
        assert "already used with a different request" in json.loads(answer.body)["detail"]
    originals = boto3.client("s3").list_objects_v2(Bucket=settings().invoice_bucket, Prefix="originals/")
    assert len(originals["Contents"]) == 1  # the first invoice's original, unchanged


@pytest.mark.parametrize("key", ["", "   ", "k" * 256])
def test_a_blank_or_too_long_key_is_a_400_on_every_keyed_route(client, key):
    assert deposit(client, ubl_invoice("F-KEY-2"), key).status_code == 400
    headers = auth(SUPPLIER_KEY, **{"Content-Type": "application/zip", "Idempotency-Key": key})
    flow = client.http.post("/v1/flows", body=make_zip([("a.xml", ubl_invoice("F-KEY-3"))]), headers=headers)
    assert flow.status_code == 400
    problem = json.loads(flow.body)
    assert "Idempotency-Key must be 1 to 255 characters" in problem["detail"]


def test_a_key_of_255_characters_is_taken_and_replays(client):
    key = "k" * 255
    first = deposit(client, ubl_invoice("F-KEY-4"), key)
    assert first.status_code == 202
    assert json.loads(deposit(client, ubl_invoice("F-KEY-4"), key).body)["id"] == json.loads(first.body)["id"]


def test_two_conditional_write_conflicts_in_a_row_are_a_503_and_the_retry_deposits_once(client, faults):
    faults.fail("PutObject", "ConditionalRequestConflict", times=2, when=lambda p: p["Key"].startswith("originals/"))
    answer = deposit(client, ubl_invoice("F-KEY-5"), "k-conflicts")
    assert answer.status_code == 503 and answer.headers["Retry-After"], answer.body
    assert deposit(client, ubl_invoice("F-KEY-5"), "k-conflicts").status_code == 202
    originals = boto3.client("s3").list_objects_v2(Bucket=settings().invoice_bucket, Prefix="originals/")
    assert len(originals["Contents"]) == 1
