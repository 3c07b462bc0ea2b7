"""Review r40: every answer of a broad scenario over all the operations (successes and refusals) checked against
the served OpenAPI document (openapi_contract.Recorder)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile

import pytest
from demo import ADMIN_KEY, CHR_KEY, MAIRIE_KEY, SUPPLIER_KEY, auth
from invoices import MAIRIE_SIRET, SUPPLIER_SIRET, invalid_ubl_invoice, ubl_invoice
from openapi_contract import Recorder, _undeclared_members

from chalicelib.adapters.mail import OutboxMailer
from chalicelib.domain.subscriptions import RetrySchedule
from chalicelib.domain.subscriptions_security import UrlPolicy
from chalicelib.entrypoints import dependencies
from chalicelib.entrypoints.openapi import openapi_document
from chalicelib.entrypoints.problems import problem_body

XML = {"Content-Type": "application/xml"}
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def local_policy(monkeypatch):
    monkeypatch.setattr(dependencies, "url_policy", lambda: UrlPolicy(local_stack=True))
    monkeypatch.setattr(dependencies, "mailer", lambda: OutboxMailer())
    monkeypatch.setattr(dependencies, "retry_schedule", lambda: RetrySchedule(0, 0, 0))
    dependencies.reset()
    yield
    dependencies.reset()


def drain(pump):
    while True:
        moved = pump.deliver_sqs_once("expand_inbox")
        while pump.deliver_sqs_once("validate_invoices"):
            moved += 1
        if not moved:
            break
    pump.deliver_stream_once("publish_status_events")
    while pump.deliver_sqs_once("fan_out_events"):
        pass
    while pump.deliver_sqs_once("deliver_webhooks"):
        pass


def make_zip(entries):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return out.getvalue()


def test_contract(client, pump, local_policy):
    http = Recorder(client)
    s, m = auth(SUPPLIER_KEY), auth(MAIRIE_KEY)
    http.label = "public"
    http.get("/v1/health")
    http.get("/openapi.json")
    http.get("/v1/schemas/invoice.json")
    http.label = "auth"
    http.get("/v1/invoices")
    http.get("/v1/invoices/nope", headers=s)
    http.label = "deposit"
    r = http.post("/v1/invoices", headers={**s, **XML, "Idempotency-Key": "k1"}, body=ubl_invoice("R40-1"))
    inv = json.loads(r.body)["id"]
    http.get(f"/v1/invoices/{inv}", headers=s)
    http.get(f"/v1/invoices/{inv}/transitions", headers=s)
    http.get(f"/v1/invoices/{inv}/history", headers=s)
    http.post("/v1/invoices", headers={**s, **XML, "Idempotency-Key": "k1"}, body=ubl_invoice("R40-other"))
    http.post("/v1/invoices", headers={**s, "Content-Type": "text/plain"}, body=b"hello")
    http.post("/v1/invoices", headers={**s, **XML}, body=b"")
    http.post("/v1/invoices", headers={**s, **XML}, body=b"<notxml")
    http.post("/v1/invoices", headers={**m, **XML}, body=ubl_invoice("R40-m"))
    http.post("/v1/invoices", headers={**s, **JSON}, body=b'{"x": 1}')
    http.post("/v1/invoices", headers={**s, "Content-Type": "application/pdf"}, body=b"%PDF-1.4\n%%EOF")
    bad = json.loads(http.post("/v1/invoices", headers={**s, **XML}, body=invalid_ubl_invoice("R40-bad")).body)["id"]
    drain(pump)
    http.label = "processed"
    for who in (s, m):
        http.get(f"/v1/invoices/{inv}", headers=who)
        http.get(f"/v1/invoices/{inv}/history", headers=who)
        http.get(f"/v1/invoices/{inv}/transitions", headers=who)
    http.get(f"/v1/invoices/{bad}", headers=s)
    http.get(f"/v1/invoices/{bad}/history", headers=s)
    http.get(f"/v1/invoices/{bad}/transitions", headers=s)
    http.get(f"/v1/invoices/{inv}/file", headers=s)
    http.get(f"/v1/invoices/{inv}/xml", headers=s)
    http.get(f"/v1/invoices/{inv}", headers=auth(CHR_KEY))
    http.get(f"/v1/invoices/{inv}", headers=auth(ADMIN_KEY))
    http.label = "search"
    http.get("/v1/invoices", headers=s)
    http.get("/v1/invoices?role=recipient", headers=m)
    http.get("/v1/invoices?limit=1", headers=s)
    http.get("/v1/invoices?limit=0", headers=s)
    http.get("/v1/invoices?limit=abc", headers=s)
    http.get("/v1/invoices?status=999", headers=s)
    http.get("/v1/invoices?issued_from=2026-13-01", headers=s)
    http.get("/v1/invoices?updated_since=yesterday", headers=s)
    http.get("/v1/invoices?cursor=garbage", headers=s)
    http.get("/v1/invoices?role=recipient", headers=s)
    http.get("/v1/invoices?foo=bar", headers=s)
    http.label = "status"
    http.post(f"/v1/invoices/{inv}/status", headers={**m, **JSON}, body=json.dumps({"code": 999}))
    http.post(f"/v1/invoices/{inv}/status", headers={**m, **JSON}, body=json.dumps({"code": 212, "amount": "1"}))
    http.post(f"/v1/invoices/{inv}/status", headers={**m, **JSON}, body=json.dumps({"code": 207}))
    http.post(f"/v1/invoices/{inv}/status", headers={**m, **JSON}, body=json.dumps({"code": 204, "x": 1}))
    http.post(f"/v1/invoices/{inv}/status", headers={**m, **JSON}, body=json.dumps({"code": "204"}))
    http.post(f"/v1/invoices/{inv}/status", headers={**m, **JSON}, body=json.dumps({"code": 204}))
    http.post(f"/v1/invoices/{inv}/status", headers={**s, **JSON}, body=json.dumps({"code": 205}))
    http.post(f"/v1/invoices/{inv}/status", headers={**m, **JSON}, body=json.dumps({"code": 205}))
    http.post(f"/v1/invoices/{inv}/status", headers={**m, **JSON}, body=json.dumps({"code": 211, "amount": "10.00"}))
    http.post(f"/v1/invoices/{inv}/status", headers={**s, **JSON}, body=json.dumps({"code": 212, "amount": "120.00"}))
    http.post(f"/v1/invoices/{inv}/status", headers={**s, **JSON}, body="[1]")
    http.post(f"/v1/invoices/{inv}/status", headers={**s, "Content-Type": "text/plain"}, body="{}")
    http.get(f"/v1/invoices/{inv}/history", headers=s)
    http.get(f"/v1/invoices/{inv}/transitions", headers=s)
    http.post(f"/v1/invoices/{bad}/status", headers={**s, **JSON}, body=json.dumps({"code": 220}))
    http.label = "reroute"
    inv2 = json.loads(http.post("/v1/invoices", headers={**s, **XML}, body=ubl_invoice("R40-2")).body)["id"]
    drain(pump)
    http.post(f"/v1/invoices/{inv2}/reroute", headers={**s, **JSON}, body=json.dumps({}))
    http.post(f"/v1/invoices/{inv2}/status", headers={**m, **JSON}, body=json.dumps({"code": 221, "reason_code": None}))
    http.post(
        f"/v1/invoices/{inv2}/reroute",
        headers={**s, **JSON},
        body=json.dumps({"service_code": "SERV-ECOLES", "engagement_number": "E1"}),
    )
    http.post(f"/v1/invoices/{inv2}/reroute", headers={**s, **JSON}, body=json.dumps({"recipient_siret": "123"}))
    http.label = "attachments"
    a = http.post(
        f"/v1/invoices/{inv2}/attachments?name=note.csv",
        headers={**s, "Content-Type": "application/octet-stream"},
        body=b"a,b\n1,2\n",
    )
    att = json.loads(a.body).get("id")
    http.get(f"/v1/invoices/{inv2}/attachments/{att}", headers=s)
    http.get(f"/v1/invoices/{inv2}/attachments/nope", headers=s)
    http.get(f"/v1/invoices/{inv2}", headers=s)
    http.post(
        f"/v1/invoices/{inv2}/attachments?name=x.exe",
        headers={**s, "Content-Type": "application/octet-stream"},
        body=b"MZ",
    )
    http.post(
        f"/v1/invoices/{inv2}/attachments", headers={**s, "Content-Type": "application/octet-stream"}, body=b"abc"
    )
    http.post(f"/v1/invoices/{inv2}/attachments?name=n.csv", headers={**s, "Content-Type": "text/html"}, body=b"abc")
    u = http.post(
        f"/v1/invoices/{inv2}/attachments/uploads", headers={**s, **JSON}, body=json.dumps({"name": "big.pdf"})
    )
    up = json.loads(u.body).get("upload_id")
    http.post(f"/v1/invoices/{inv2}/attachments/uploads/{up}", headers=s)
    http.post(
        f"/v1/invoices/{inv2}/attachments/uploads",
        headers={**s, **JSON},
        body=json.dumps({"name": "big.pdf", "sha256": "nope"}),
    )
    http.post(f"/v1/invoices/{inv2}/attachments/uploads", headers={**s, **JSON}, body=json.dumps({}))
    http.label = "flows"
    f = http.post(
        "/v1/flows",
        headers={**s, "Content-Type": "application/zip"},
        body=make_zip([("a.xml", ubl_invoice("R40-F1")), ("b.xml", invalid_ubl_invoice("R40-F2")), ("c.txt", b"x")]),
    )
    flow = json.loads(f.body)["id"]
    http.get(f"/v1/flows/{flow}", headers=s)
    drain(pump)
    http.get(f"/v1/flows/{flow}", headers=s)
    http.get(f"/v1/flows/{flow}?limit=1", headers=s)
    http.get(f"/v1/flows/{flow}?limit=0", headers=s)
    http.get(f"/v1/flows/{flow}?cursor=zz", headers=s)
    http.post("/v1/flows", headers={**s, "Content-Type": "application/zip"}, body=make_zip([]))
    http.post("/v1/flows", headers={**s, "Content-Type": "application/zip"}, body=b"PK\x03\x04garbage")
    http.post("/v1/flows", headers={**s, "Content-Type": "application/zip"}, body=b"")
    http.post("/v1/flows", headers={**s, "Content-Type": "text/plain"}, body=b"x")
    http.post("/v1/uploads", headers=s)
    http.post(
        "/v1/uploads",
        headers={**s, **JSON},
        body=json.dumps({"sha256": base64.b64encode(hashlib.sha256(b"x").digest()).decode()}),
    )
    http.post("/v1/uploads", headers={**s, **JSON}, body=json.dumps({"sha256": "no"}))
    http.post("/v1/uploads", headers={**s, **JSON}, body=json.dumps({"zz": 1}))
    http.post("/v1/uploads", headers={**m})
    http.label = "subscriptions"
    sub = http.post("/v1/subscriptions", headers={**s, **JSON}, body=json.dumps({"url": "http://127.0.0.1:9/hook"}))
    sid = json.loads(sub.body).get("id")
    mail = http.post(
        "/v1/subscriptions",
        headers={**m, **JSON},
        body=json.dumps({"email": "compta@mairie.example.fr", "filter": {"role": "recipient"}}),
    )
    mid = json.loads(mail.body).get("id")
    http.post("/v1/subscriptions", headers={**m, **JSON}, body=json.dumps({"email": "compta@mairie.example.fr"}))
    http.post("/v1/subscriptions", headers={**s, **JSON}, body=json.dumps({"url": "ftp://x"}))
    http.post(
        "/v1/subscriptions", headers={**s, **JSON}, body=json.dumps({"events": ["nope"], "url": "http://127.0.0.1:9/h"})
    )
    http.post("/v1/subscriptions", headers={**s, **JSON}, body=json.dumps({}))
    http.get("/v1/subscriptions", headers=s)
    http.get("/v1/subscriptions", headers=m)
    http.get(f"/v1/subscriptions/{sid}", headers=s)
    http.get(f"/v1/subscriptions/{mid}", headers=m)
    http.post(f"/v1/subscriptions/{sid}/test", headers=s)
    http.post(f"/v1/subscriptions/{mid}/test", headers=m)
    http.post(f"/v1/subscriptions/{sid}/rotate-secret", headers=s)
    http.post(f"/v1/subscriptions/{mid}/rotate-secret", headers=m)
    drain(pump)
    http.get(f"/v1/subscriptions/{sid}/deliveries", headers=s)
    http.get(f"/v1/subscriptions/{sid}", headers=s)
    [link] = [
        line for line in OutboxMailer.messages("compta@mairie.example.fr")[-1]["text"].splitlines() if "/v1/" in line
    ]
    path = link[link.index("/v1/") :]
    http.get(path)
    http.get(path, headers={"Accept": "text/html"})
    http.post(path)
    http.post(path + "x")
    http.get("/v1/subscription-confirmations/zzz")
    http.get(f"/v1/subscriptions/{mid}", headers=m)
    http.label = "directory"
    http.get("/v1/structures?q=mairie", headers=s)
    http.get("/v1/structures?siret=" + MAIRIE_SIRET, headers=s)
    http.get("/v1/structures", headers=s)
    http.get("/v1/structures?q=a&limit=0", headers=s)
    http.get("/v1/structures?q=a&role=payer", headers=s)
    http.get(f"/v1/structures/{MAIRIE_SIRET}", headers=s)
    http.get("/v1/structures/123", headers=s)
    http.get("/v1/structures/99999999999999", headers=s)
    A = auth(ADMIN_KEY)
    http.get(f"/v1/structures/{MAIRIE_SIRET}", headers=A)
    new = {"siret": "55555555500017", "name": "Nouvelle", "roles": ["recipient"]}
    http.post("/v1/admin/structures", headers={**A, **JSON}, body=json.dumps(new))
    http.post("/v1/admin/structures", headers={**A, **JSON}, body=json.dumps(new))
    http.post("/v1/admin/structures", headers={**A, **JSON}, body=json.dumps({"siret": "1"}))
    http.post("/v1/admin/structures", headers={**s, **JSON}, body=json.dumps(new))
    http.patch("/v1/admin/structures/55555555500017", headers={**A, **JSON}, body=json.dumps({"name": "Renommée"}))
    http.patch("/v1/admin/structures/55555555500099", headers={**A, **JSON}, body=json.dumps({"name": "X"}))
    http.patch("/v1/admin/structures/55555555500017", headers={**A, **JSON}, body=json.dumps({"bogus": 1}))
    http.put("/v1/admin/structures/55555555500017/services/S1", headers={**A, **JSON}, body=json.dumps({"name": "Svc"}))
    http.put("/v1/admin/structures/55555555500017/services/S1", headers={**A, **JSON}, body=json.dumps({"name": 3}))
    k = http.post("/v1/admin/structures/55555555500017/api-keys", headers=A)
    kid = json.loads(k.body).get("key_id")
    http.get("/v1/admin/structures/55555555500017/api-keys", headers=A)
    http.get("/v1/structures/55555555500017", headers=A)
    http.delete(f"/v1/admin/structures/55555555500017/api-keys/{kid}", headers=A)
    http.delete("/v1/admin/structures/55555555500017/api-keys/nope", headers=A)
    http.get(f"/v1/admin/structures/{SUPPLIER_SIRET}/subscriptions", headers=A)
    http.delete(f"/v1/admin/structures/{SUPPLIER_SIRET}/subscriptions/{sid}", headers=A)
    http.delete(f"/v1/admin/structures/{SUPPLIER_SIRET}/subscriptions/nope", headers=A)
    http.post("/v1/admin/imports", headers={**A, **JSON}, body=json.dumps({"structures": [new]}))
    http.post(
        "/v1/admin/imports",
        headers={**A, "Content-Type": "text/csv"},
        body="siret,name,roles\n55555555500017,Imp,recipient\n",
    )
    http.post("/v1/admin/imports", headers={**A, "Content-Type": "text/plain"}, body="x")
    http.post("/v1/admin/imports", headers={**A, **JSON}, body=json.dumps({"structures": [{"siret": "x"}]}))
    http.patch("/v1/admin/structures/55555555500017", headers={**A, **JSON}, body=json.dumps({"active": False}))
    http.get("/v1/structures/55555555500017", headers=s)
    http.delete(f"/v1/subscriptions/{mid}", headers=m)
    http.delete(f"/v1/subscriptions/{mid}", headers=m)
    assert http.violations == []


def test_the_recorder_names_a_problem_member_the_schema_leaves_undeclared():
    # The Problem schema stays open (a newer server's member must not break an older client): its validation lets
    # any member through, so the recorder checks the members by name.
    declared = problem_body(429, retry_after_seconds=1, request_id="r-1")
    assert _undeclared_members(openapi_document(), declared, "here") == []
    assert _undeclared_members(openapi_document(), {**declared, "quota_left": 0}, "here") == [
        "here: problem member 'quota_left' not declared in the Problem schema"
    ]
