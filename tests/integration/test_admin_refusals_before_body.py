"""A structure's key on an administration write is the documented 403 before its body is read: a tenant cannot make
the server parse an import (up to 4 MiB) or learn its validation errors, whatever it sends (review r20)."""

from __future__ import annotations

import json

import pytest
from demo import SUPPLIER_KEY, auth
from invoices import MAIRIE_SIRET
from test_admin_key_removal import ADMIN_WRITES
from test_deactivation import everything_written

NEEDS_ADMIN = "This route needs an administrator key."
# Bodies each route would refuse as a 400, 415 or 422 if it read them first.
BROKEN_BODIES = [
    ({"Content-Type": "application/json"}, b"{not json"),
    ({"Content-Type": "text/csv"}, b"no,such,columns\n1,2,3\n"),
    ({"Content-Type": "text/csv"}, b"\xff\xfe not UTF-8"),
    ({"Content-Type": "text/plain"}, b"x"),
]
ADMIN_WRITE_PATHS = {
    ("post", "/v1/admin/structures"): "/v1/admin/structures",
    ("patch", "/v1/admin/structures/{siret}"): f"/v1/admin/structures/{MAIRIE_SIRET}",
    ("put", "/v1/admin/structures/{siret}/services/{code}"): f"/v1/admin/structures/{MAIRIE_SIRET}/services/S-1",
    ("post", "/v1/admin/structures/{siret}/api-keys"): f"/v1/admin/structures/{MAIRIE_SIRET}/api-keys",
    ("delete", "/v1/admin/structures/{siret}/api-keys/{key_id}"): f"/v1/admin/structures/{MAIRIE_SIRET}/api-keys/k",
    ("delete", "/v1/admin/structures/{siret}/subscriptions/{subscription_id}"): (
        f"/v1/admin/structures/{MAIRIE_SIRET}/subscriptions/01JD0000000000000000000000"
    ),
    ("post", "/v1/admin/imports"): "/v1/admin/imports",
}


def test_every_administration_write_is_probed():
    assert set(ADMIN_WRITE_PATHS) == set(ADMIN_WRITES)


@pytest.mark.parametrize("write", sorted(ADMIN_WRITE_PATHS), ids=lambda w: f"{w[0].upper()} {w[1]}")
def test_a_structure_key_is_refused_before_its_body_is_read(client, write):
    method, _ = write
    before = everything_written()
    for headers, body in BROKEN_BODIES:
        response = getattr(client.http, method)(ADMIN_WRITE_PATHS[write], headers=auth(SUPPLIER_KEY, **headers),
                                                body=body)  # fmt: skip
        assert response.status_code == 403, (headers, response.body)
        assert response.headers["Content-Type"] == "application/problem+json"
        assert json.loads(response.body)["detail"] == NEEDS_ADMIN
    assert everything_written() == before
