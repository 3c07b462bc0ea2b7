"""recipient.active on GET /v1/invoices/{id}: a supplier sees that an unapproved invoice's recipient structure is
deactivated, so may re-route it, without trying the re-route first. Read from the directory at each GET."""

from __future__ import annotations

import json

from demo import SUPPLIER_KEY, auth
from invoices import CHR_SIRET, ubl_invoice
from test_stranded_invoices import TO_CHR, made_available, reroute, set_structure_active  # noqa: F401 (fixture)

from chalicelib.entrypoints import dependencies
from chalicelib.services import queries


def recipient(client, invoice_id: str) -> dict:
    response = client.http.get(f"/v1/invoices/{invoice_id}", headers=auth(SUPPLIER_KEY))
    assert response.status_code == 200, response.body
    return json.loads(response.body)["recipient"]


def test_active_follows_the_recipient_structure_in_the_directory(client, made_available):  # noqa: F811
    invoice_id = made_available()
    assert recipient(client, invoice_id)["active"] is True

    set_structure_active(client, False)
    assert recipient(client, invoice_id)["active"] is False  # the invoice did not change: read at the GET

    assert reroute(client, invoice_id, TO_CHR).status_code == 200
    rerouted = recipient(client, invoice_id)
    assert (rerouted["siret"], rerouted["active"]) == (CHR_SIRET, True)


def test_listings_leave_it_out(client, made_available):  # noqa: F811
    invoice_id = made_available()
    listed = json.loads(client.http.get("/v1/invoices", headers=auth(SUPPLIER_KEY)).body)["items"]
    assert invoice_id in [i["id"] for i in listed]
    assert all("active" not in i["recipient"] for i in listed)


def test_null_while_routed_to_none(client):
    deposited = client.http.post(
        "/v1/invoices", headers=auth(SUPPLIER_KEY, **{"Content-Type": "application/xml"}), body=ubl_invoice("F-NONE")
    )
    invoice_id = json.loads(deposited.body)["id"]  # not processed: routed to no structure yet
    assert recipient(client, invoice_id)["active"] is None


class _Directory:
    def __init__(self, structures: dict):
        self._structures = structures

    def structure(self, siret: str):
        return self._structures.get(siret)


def test_false_when_the_structure_is_gone_from_the_directory(client, made_available):  # noqa: F811
    invoice = dependencies.invoices().get(made_available())
    assert invoice.recipient_siret
    assert queries.recipient_active(invoice, directory=_Directory({})) is False
