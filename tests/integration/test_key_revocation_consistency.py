"""A write re-reads its API key with a strongly consistent read: for about a second after a DELETE, an eventually
consistent GetItem may still return the revoked key, and the write would go through (review r20). moto cannot
show a stale read, so the read's mode is what is checked; the authorizer keeps the cheaper read (its answer is
cached for a minute anyway)."""

from __future__ import annotations

import json

import pytest
from demo import SUPPLIER_KEY, auth
from pynamodb.connection.base import Connection

from chalicelib.adapters.tables import ApiKeyRecord


@pytest.fixture
def key_reads(monkeypatch) -> list[bool]:
    """consistent_read of every GetItem on the API key table, in order."""
    reads: list[bool] = []
    real = Connection.get_item

    def spy(self, table_name, hash_key, *args, **kwargs):
        if table_name == ApiKeyRecord.Meta.table_name:
            reads.append(bool(kwargs.get("consistent_read")))
        return real(self, table_name, hash_key, *args, **kwargs)

    monkeypatch.setattr(Connection, "get_item", spy)
    return reads


def test_a_write_re_reads_its_key_consistently(client, key_reads):
    response = client.http.post(
        "/v1/uploads", headers=auth(SUPPLIER_KEY, **{"Content-Type": "application/json"}),
        body=json.dumps({}),
    )  # fmt: skip
    assert response.status_code == 201, response.body
    assert key_reads == [False, True]  # the authorizer's, then the write's re-check


def test_a_read_trusts_the_authorizer_s_cheaper_read(client, key_reads):
    assert client.http.get("/v1/subscriptions", headers=auth(SUPPLIER_KEY)).status_code == 200
    assert key_reads == [False]
