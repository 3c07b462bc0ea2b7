"""Review r40, part 2: admin successes, JSON and Factur-X deposits, S3 uploads to completion, flows from uploads,
checked against the served OpenAPI document (openapi_contract.Recorder)."""

from __future__ import annotations

import json

from demo import ADMIN_KEY, MAIRIE_KEY, SUPPLIER_KEY, auth
from invoices import MAIRIE_SIRET, ubl_invoice
from openapi_contract import Recorder
from s3_post import post_file
from structured_invoices import facturx_pdf, json_invoice
from test_openapi_contract import drain, local_policy, make_zip  # noqa: F401

JSON = {"Content-Type": "application/json"}
XML = {"Content-Type": "application/xml"}
NEW = "55555555500013"


def test_contract2(client, pump, local_policy):  # noqa: F811
    http = Recorder(client)
    A, s, m = auth(ADMIN_KEY), auth(SUPPLIER_KEY), auth(MAIRIE_KEY)
    http.label = "admin"
    new = {"siret": NEW, "name": "Nouvelle", "roles": ["recipient"]}
    http.post("/v1/admin/structures", headers={**A, **JSON}, body=json.dumps(new))
    http.post("/v1/admin/structures", headers={**A, **JSON}, body=json.dumps(new))
    http.patch(f"/v1/admin/structures/{NEW}", headers={**A, **JSON}, body=json.dumps({"name": "Renommée"}))
    http.put(f"/v1/admin/structures/{NEW}/services/S1", headers={**A, **JSON}, body=json.dumps({"name": "Svc"}))
    service = {"code": "S2", "name": "Achats", "active": True, "requires_engagement": True}
    every_field = {**new, "active": True, "requires_service_code": True, "requires_engagement": False}
    every_field.update(siret="55555555500021", roles=["supplier", "recipient"], services=[service])
    http.post("/v1/admin/structures", headers={**A, **JSON}, body=json.dumps(every_field))
    http.patch("/v1/admin/structures/55555555500021", headers={**A, **JSON}, body=json.dumps(every_field))
    http.put("/v1/admin/structures/55555555500021/services/S2", headers={**A, **JSON}, body=json.dumps(service))
    k = http.post(f"/v1/admin/structures/{NEW}/api-keys", headers=A)
    kid = json.loads(k.body).get("key_id")
    key = json.loads(k.body).get("api_key")
    http.get(f"/v1/admin/structures/{NEW}/api-keys", headers=A)
    http.get(f"/v1/admin/structures/{MAIRIE_SIRET}/api-keys", headers=A)
    http.get("/v1/invoices", headers=auth(key))
    http.delete(f"/v1/admin/structures/{NEW}/api-keys/{kid}", headers=A)
    http.delete(f"/v1/admin/structures/{NEW}/api-keys/{kid}", headers=A)
    http.post("/v1/admin/imports", headers={**A, **JSON}, body=json.dumps({"structures": [new]}))
    http.post(
        "/v1/admin/imports",
        headers={**A, "Content-Type": "text/csv"},
        body="siret,name,roles\n55555555500013,Imp,recipient\n",
    )
    http.get("/v1/structures?q=imp", headers=s)
    http.get(f"/v1/structures?siret={MAIRIE_SIRET}", headers=s)
    http.label = "json-invoice"
    r = http.post("/v1/invoices", headers={**s, **JSON}, body=json.dumps(json_invoice("R40-J1")))
    jid = json.loads(r.body).get("id")
    bad = json_invoice("R40-J2")
    bad["nope"] = 1
    bad.pop("currency", None)
    http.post("/v1/invoices", headers={**s, **JSON}, body=json.dumps(bad))
    r = http.post("/v1/invoices", headers={**s, "Content-Type": "application/pdf"}, body=facturx_pdf())
    pid = json.loads(r.body).get("id")
    odd = ubl_invoice("R40-ODD", quantity="0.0000001", unit_price="0.0000001")
    r = http.post("/v1/invoices", headers={**s, **XML}, body=odd)
    oid = json.loads(r.body).get("id")
    drain(pump)
    for i in (jid, pid, oid):
        http.get(f"/v1/invoices/{i}", headers=s)
        http.get(f"/v1/invoices/{i}/xml", headers=s)
        http.get(f"/v1/invoices/{i}/history", headers=s)
    http.label = "uploads"
    t = json.loads(http.post("/v1/uploads", headers=s).body)
    http.get(f"/v1/flows/{t['upload_id']}", headers=s)
    post_file(t, ubl_invoice("R40-U1"), "u1.xml")
    http.get(f"/v1/flows/{t['upload_id']}", headers=s)
    drain(pump)
    http.get(f"/v1/flows/{t['upload_id']}", headers=s)
    http.get(f"/v1/invoices/{t['upload_id']}", headers=s)
    t2 = json.loads(http.post("/v1/uploads", headers=s).body)
    post_file(t2, make_zip([("a.xml", ubl_invoice("R40-U2"))]), "a.zip")
    drain(pump)
    http.get(f"/v1/flows/{t2['upload_id']}", headers=s)
    t3 = json.loads(http.post("/v1/uploads", headers=s).body)
    post_file(t3, b"not an invoice", "x.bin")
    drain(pump)
    http.get(f"/v1/flows/{t3['upload_id']}", headers=s)
    http.label = "attach-upload"
    u = json.loads(
        http.post(
            f"/v1/invoices/{oid}/attachments/uploads", headers={**s, **JSON}, body=json.dumps({"name": "a.pdf"})
        ).body
    )
    post_file(u, b"%PDF-1.7\n" + b"x" * 100, "a.pdf")
    http.post(f"/v1/invoices/{oid}/attachments/uploads/{u['upload_id']}", headers=s)
    http.post(f"/v1/invoices/{oid}/attachments/uploads/{u['upload_id']}", headers=s)
    u = json.loads(
        http.post(
            f"/v1/invoices/{oid}/attachments/uploads", headers={**s, **JSON}, body=json.dumps({"name": "b.pdf"})
        ).body
    )
    post_file(u, b"GIF89a nope", "b.pdf")
    http.post(f"/v1/invoices/{oid}/attachments/uploads/{u['upload_id']}", headers=s)
    http.post(f"/v1/invoices/{oid}/attachments/uploads/nope", headers=s)
    http.get(f"/v1/invoices/{oid}", headers=m)
    assert http.violations == []
