"""A re-route delivers an invoice anew, as a deposit does: a structure whose supplier role was removed may do
neither (review r20, finding 2)."""

from __future__ import annotations

import json

from demo import ADMIN_KEY, MAIRIE_KEY, SUPPLIER_KEY, auth
from invoices import SUPPLIER_SIRET
from lost_write_answers import made_available_fixture  # noqa: F401 (fixture)

JSON = {"Content-Type": "application/json"}


def set_roles(client, roles: list[str]) -> None:
    answer = client.http.patch(f"/v1/admin/structures/{SUPPLIER_SIRET}", headers=auth(ADMIN_KEY, **JSON),
                               body=json.dumps({"roles": roles}))  # fmt: skip
    assert answer.status_code == 200, answer.body


def reroute(client, invoice_id: str):
    return client.http.post(f"/v1/invoices/{invoice_id}/reroute", headers=auth(SUPPLIER_KEY, **JSON),
                            body=json.dumps({"comment": "bon service"}))  # fmt: skip


def test_a_structure_no_longer_a_supplier_cannot_re_route_its_invoices(client, made_available):
    invoice_id = made_available()
    assert client.http.post(f"/v1/invoices/{invoice_id}/status", headers=auth(MAIRIE_KEY, **JSON),
                            body=json.dumps({"code": 221})).status_code == 200  # fmt: skip
    set_roles(client, ["recipient"])
    refused = reroute(client, invoice_id)
    assert refused.status_code == 403, refused.body
    assert "supplier role" in json.loads(refused.body)["detail"]
    history = json.loads(client.http.get(f"/v1/invoices/{invoice_id}/history", headers=auth(SUPPLIER_KEY)).body)
    assert [h["code"] for h in history["history"]] == [200, 203, 221]  # nothing written
    set_roles(client, ["supplier"])
    assert reroute(client, invoice_id).status_code == 200
