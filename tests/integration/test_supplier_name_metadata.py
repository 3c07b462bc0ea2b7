"""A supplier's name travels in its originals' S3 user metadata, which S3 limits to 2 KB (moto does not): a long
name in 4-byte characters is cut to fit, and the invoice still carries the directory's whole name (review r24,
finding 4)."""

from __future__ import annotations

import json

import boto3
from demo import ADMIN_KEY, SUPPLIER_KEY, auth
from invoices import SUPPLIER_SIRET, ubl_invoice
from test_pipeline import deposit, get_invoice, process

from chalicelib.config import settings
from chalicelib.services import layout

S3_USER_METADATA_LIMIT = 2048  # bytes of keys and values


def test_a_200_character_name_in_4_byte_characters_keeps_the_metadata_under_2_kb(client, pump):
    name = "\U0001f3ed" * 200  # the directory's longest name, 12 bytes a character once percent-encoded
    response = client.http.patch(
        f"/v1/admin/structures/{SUPPLIER_SIRET}",
        headers=auth(ADMIN_KEY, **{"Content-Type": "application/json"}),
        body=json.dumps({"name": name}),
    )
    assert response.status_code == 200, response.body
    response = deposit(client, ubl_invoice("F-LONG-NAME"), SUPPLIER_KEY, **{"Idempotency-Key": "long-name-1"})
    assert response.status_code == 202, response.body
    created = json.loads(response.body)
    shown = created["supplier"]["name"]
    assert shown.endswith("…") and name.startswith(shown[:-1])  # cut on a character, and said so

    head = boto3.client("s3").head_object(Bucket=settings().invoice_bucket, Key=layout.original_key(created["id"]))
    assert sum(len(k.encode()) + len(v.encode()) for k, v in head["Metadata"].items()) < S3_USER_METADATA_LIMIT

    process(pump)
    invoice = json.loads(get_invoice(client, created["id"]).body)
    assert invoice["processing"] == "done"
    assert invoice["supplier"]["name"] == name  # the record takes the directory's whole name
