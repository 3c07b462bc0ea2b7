"""Bulk flows on moto: POST /v1/flows, the inbox → fan-out → validation → per-file report, uploads."""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import json
import tarfile
import urllib.parse
import zipfile

import boto3
import pytest
import requests
from demo import MAIRIE_KEY, SUPPLIER2_KEY, SUPPLIER_KEY, auth
from invoices import invalid_ubl_invoice, ubl_invoice
from s3_post import post_file
from structured_invoices import facturx_pdf, json_invoice, pdf_objstm_bomb
from zip_names import unflagged_zip

from chalicelib.config import settings
from chalicelib.domain.flows import Flow
from chalicelib.entrypoints import dependencies as deps
from chalicelib.entrypoints import flows_api
from chalicelib.services import flows as flow_service
from chalicelib.services import layout
from devstack.pump import EventPump

ZIP = {"Content-Type": "application/zip"}


@pytest.fixture
def flow_pump(app, aws):
    boto3.client("sqs").purge_queue(QueueUrl=aws.queue_urls[settings().inbox_queue])  # S3's s3:TestEvent
    arn = aws.invoice_stream_arn
    return EventPump(app, settings().region, {"publish_status_events": arn})


def run_pipeline(pump) -> None:
    """What Lambda's event sources do, until nothing moves: inbox → originals → validation."""
    while True:
        moved = pump.deliver_sqs_once("expand_inbox")
        while pump.deliver_sqs_once("validate_invoices"):
            moved += 1
        if not moved:
            return


def make_zip(entries) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return out.getvalue()


def post_flow(client, body: bytes, key: str = SUPPLIER_KEY, content_type: str = "application/zip"):
    return client.http.post("/v1/flows", headers=auth(key, **{"Content-Type": content_type}), body=body)


def get_flow(client, flow_id: str, key: str = SUPPLIER_KEY):
    return client.http.get(f"/v1/flows/{flow_id}", headers=auth(key))


def files_by_name(flow: dict) -> dict:
    return {f["name"]: f for f in flow["files"]}


def test_mixed_archive_every_file_reported_and_the_flow_survives(client, flow_pump):
    symlink = zipfile.ZipInfo("link.xml")
    symlink.external_attr = 0o120777 << 16
    entries = [
        ("ok-1.xml", ubl_invoice("FL-1")),
        ("sub/ok-2.xml", ubl_invoice("FL-2")),
        ("bad-amount.xml", invalid_ubl_invoice("FL-3")),
        ("facturx.pdf", facturx_pdf(number="FL-4")),
        ("structured.json", json.dumps(json_invoice("FL-5")).encode()),
        ("bad-schema.json", json.dumps({"number": "FL-6"}).encode()),
        ("readme.txt", b"Hello, these are our invoices."),
        ("nested.zip", make_zip([("inner.xml", ubl_invoice("FL-7"))])),
        ("../escape.xml", ubl_invoice("FL-8")),
        ("/etc/abs.xml", ubl_invoice("FL-9")),
        (symlink, b"/etc/passwd"),
        ("order.xml", b"<?xml version='1.0'?><Order xmlns='urn:x'/>"),
    ]
    response = post_flow(client, make_zip(entries))
    assert response.status_code == 202, response.body
    flow = json.loads(response.body)
    assert flow["state"] == "IN_RECU" and response.headers["Location"] == f"/v1/flows/{flow['id']}"

    run_pipeline(flow_pump)
    report = json.loads(get_flow(client, flow["id"]).body)
    files = files_by_name(report)
    assert [f["name"] for f in report["files"]] == [
        "ok-1.xml", "sub/ok-2.xml", "bad-amount.xml", "facturx.pdf", "structured.json", "bad-schema.json",
        "readme.txt", "nested.zip", "../escape.xml", "/etc/abs.xml", "link.xml", "order.xml",
    ]  # fmt: skip
    accepted = {"ok-1.xml", "sub/ok-2.xml", "facturx.pdf", "structured.json"}
    for name in accepted:
        assert files[name]["status"] == "accepted" and files[name]["status_code"] == 203, files[name]
        assert files[name]["invoice_id"] and files[name]["errors"] == []
    assert files["bad-amount.xml"]["status_code"] == 213 and files["bad-amount.xml"]["invoice_id"]
    assert "BR-CO-16" in {e["rule"] for e in files["bad-amount.xml"]["errors"]}
    assert {e["location"] for e in files["bad-schema.json"]["errors"]} == {"/"}
    assert files["bad-schema.json"]["invoice_id"] is None
    assert "not an invoice" in files["readme.txt"]["errors"][0]["message"]
    assert "nested archives" in files["nested.zip"]["errors"][0]["message"]
    assert "path traversal" in files["../escape.xml"]["errors"][0]["message"]
    assert "absolute path" in files["/etc/abs.xml"]["errors"][0]["message"]
    assert "symbolic link" in files["link.xml"]["errors"][0]["message"]
    assert files["order.xml"]["errors"][0]["message"].startswith("The root element")
    assert report["counts"] == {"files": 12, "accepted": 4, "rejected": 8, "pending": 0}
    assert report["state"] == "IN_INTEGRE_PARTIEL"

    # Each accepted file is a real invoice of the normal pipeline, visible to its recipient.
    invoice = json.loads(
        client.http.get(f"/v1/invoices/{files['facturx.pdf']['invoice_id']}", headers=auth(MAIRIE_KEY)).body
    )
    assert invoice["number"] == "FL-4" and invoice["format"] == "facturx" and invoice["status"]["code"] == 203
    # The originals of a flow are kept in bundles: one object for these five, each readable back unchanged.
    s3 = boto3.client("s3")
    bundles = s3.list_objects_v2(Bucket=settings().invoice_bucket, Prefix=layout.BUNDLES_PREFIX)["Contents"]
    assert [b["Key"] for b in bundles] == [layout.bundle_key(flow["id"], 1)]
    head = s3.head_object(Bucket=settings().invoice_bucket, Key=bundles[0]["Key"])
    assert head["Metadata"][layout.META_FLOW_ID] == flow["id"]
    originals = dict(entries[:5])
    for name in ("ok-1.xml", "facturx.pdf", "structured.json", "bad-amount.xml"):
        assert downloaded(client, f"/v1/invoices/{files[name]['invoice_id']}/file") == originals[name], name
    xml = downloaded(client, f"/v1/invoices/{files['ok-1.xml']['invoice_id']}/xml", MAIRIE_KEY)
    assert xml == originals["ok-1.xml"]


def downloaded(client, path: str, key: str = SUPPLIER_KEY) -> bytes:
    """What the 302 of a download route points at (read through boto3: no connection leaves the process)."""
    response = client.http.get(path, headers=auth(key))
    assert response.status_code == 302, response.body
    url = urllib.parse.urlparse(response.headers["Location"])
    bucket = settings().invoice_bucket
    object_key = urllib.parse.unquote(url.path).lstrip("/")
    object_key = object_key if url.netloc.startswith(f"{bucket}.") else object_key.split("/", 1)[1]
    return boto3.client("s3").get_object(Bucket=bucket, Key=object_key)["Body"].read()


def test_all_valid_is_integrated_and_all_invalid_rejected(client, flow_pump):
    good = json.loads(post_flow(client, make_zip([(f"{i}.xml", ubl_invoice(f"G-{i}")) for i in range(5)])).body)
    bad = json.loads(post_flow(client, make_zip([(f"{i}.xml", invalid_ubl_invoice(f"B-{i}")) for i in range(3)])).body)
    run_pipeline(flow_pump)
    good_report = json.loads(get_flow(client, good["id"]).body)
    assert good_report["state"] == "IN_INTEGRE" and good_report["counts"]["accepted"] == 5
    bad_report = json.loads(get_flow(client, bad["id"]).body)
    assert bad_report["state"] == "IN_REJETE" and bad_report["counts"]["rejected"] == 3


def test_tar_gz_flow(client, flow_pump):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for name, data in [("a.xml", ubl_invoice("TG-1")), ("b.xml", invalid_ubl_invoice("TG-2"))]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("c.xml")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/shadow"
        archive.addfile(link)
    flow = json.loads(post_flow(client, out.getvalue(), content_type="application/gzip").body)
    run_pipeline(flow_pump)
    report = json.loads(get_flow(client, flow["id"]).body)
    files = files_by_name(report)
    assert files["a.xml"]["status"] == "accepted" and files["b.xml"]["status"] == "rejected"
    assert files["c.xml"]["errors"][0]["message"].startswith("The file is a symbolic link")
    assert report["state"] == "IN_INTEGRE_PARTIEL"


def test_zip_bomb_and_duplicates_do_not_stop_the_flow(client, flow_pump):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        body = make_zip([("bomb.xml", b"\0" * (30 * 1024 * 1024)), ("x.xml", ubl_invoice("ZB-1")),
                         ("x.xml", ubl_invoice("ZB-2"))])  # fmt: skip
    flow = json.loads(post_flow(client, body).body)
    run_pipeline(flow_pump)
    report = json.loads(get_flow(client, flow["id"]).body)
    assert [(f["name"], f["status"]) for f in report["files"]] == [
        ("bomb.xml", "rejected"), ("x.xml", "accepted"), ("x.xml", "rejected"),
    ]  # fmt: skip
    assert "decompression bomb" in report["files"][0]["errors"][0]["message"]
    assert "already named" in report["files"][2]["errors"][0]["message"]


def test_members_with_very_long_names_do_not_stop_the_flow(client, flow_pump):
    """Member names are the sender's: thousands of characters each must not overflow the flow's items."""
    entries = [("../" * 1000 + f"f{n}.xml", ubl_invoice(f"LONG-{n}")) for n in range(60)]
    entries.append(("ok.xml", ubl_invoice("LONG-OK")))
    flow = json.loads(post_flow(client, make_zip(entries)).body)
    run_pipeline(flow_pump)
    report = json.loads(get_flow(client, flow["id"]).body)
    assert report["counts"] == {"files": 61, "accepted": 1, "rejected": 60, "pending": 0}
    refused = report["files"][0]
    assert len(refused["name"]) == 500 and refused["name"].endswith("…") and "path traversal" in (
        refused["errors"][0]["message"])  # fmt: skip
    assert files_by_name(report)["ok.xml"]["status_code"] == 203


def test_an_unreadable_zip_is_refused_at_once_with_its_reason(client, flow_pump):
    """Its central directory is read before the 202 (as for an empty one): no flow to poll only to learn it failed."""
    posted = post_flow(client, b"PK\x03\x04" + b"\x00" * 200)
    assert posted.status_code == 422, posted.body
    problem = json.loads(posted.body)
    assert problem["reason"] == "unreadable" and problem["detail"].startswith("The ZIP archive cannot be read: ")
    assert "Contents" not in boto3.client("s3").list_objects_v2(Bucket=settings().invoice_bucket, Prefix="inbox/")


def test_an_unreadable_uploaded_zip_is_a_rejected_flow_with_its_reason(client, flow_pump):
    flow_id = upload(client, b"PK\x03\x04" + b"\x00" * 200, "batch.zip")["upload_id"]
    run_pipeline(flow_pump)
    report = json.loads(get_flow(client, flow_id).body)
    assert report["state"] == "IN_REJETE" and "cannot be read" in report["error"] and report["files"] == []


def zip_of_version_64() -> bytes:
    """A ZIP whose central directory asks for extract version 6.4: zipfile knows up to 6.3 (NotImplementedError)."""
    data = bytearray(make_zip([("invoice.xml", ubl_invoice("V64-1"))]))
    data[data.find(b"PK\x01\x02") + 6] = 64
    return bytes(data)


@pytest.mark.parametrize("how", ["posted", "uploaded"])
def test_a_zip_of_an_unknown_version_is_an_unreadable_archive_not_a_500(client, flow_pump, how):
    """r48: POST /v1/flows answered 500, and the expansion of an upload crashed on every attempt (IN_RECU)."""
    if how == "posted":  # as any ZIP whose central directory cannot be read: refused at once, with why
        posted = post_flow(client, zip_of_version_64())
        assert posted.status_code == 422, posted.body
        assert json.loads(posted.body)["detail"] == "The ZIP archive cannot be read: zip file version 6.4."
        return
    flow_id = upload(client, zip_of_version_64(), "batch.zip")["upload_id"]
    run_pipeline(flow_pump)
    report = json.loads(get_flow(client, flow_id).body)
    assert report["state"] == "IN_REJETE" and report["files"] == []
    assert report["error"] == "The ZIP archive cannot be read: zip file version 6.4."


def make_tar_gz(entries) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


def test_an_empty_zip_is_refused_at_once(client):
    problem = json.loads(post_flow(client, make_zip([])).body)
    assert problem["status"] == 422 and flow_service.EMPTY_ARCHIVE in problem["detail"]
    directories_only = io.BytesIO()
    with zipfile.ZipFile(directories_only, "w") as archive:
        archive.writestr("factures/", b"")
    assert post_flow(client, directories_only.getvalue()).status_code == 422


@pytest.mark.parametrize("how", ["posted tar.gz", "uploaded zip"])
def test_an_archive_of_no_file_is_a_rejected_flow_that_says_so(client, flow_pump, how):
    if how == "posted tar.gz":
        posted = post_flow(client, make_tar_gz([]), content_type="application/gzip")
        assert posted.status_code == 202, posted.body
        flow_id = json.loads(posted.body)["id"]
    else:
        flow_id = upload(client, make_zip([]), "vide.zip")["upload_id"]
    run_pipeline(flow_pump)
    report = json.loads(get_flow(client, flow_id).body)
    assert report["state"] == "IN_REJETE" and report["files"] == []
    assert report["error"] == flow_service.EMPTY_ARCHIVE


def test_redelivered_inbox_message_changes_nothing(client, flow_pump):
    flow = json.loads(post_flow(client, make_zip([("a.xml", ubl_invoice("RD-1"))])).body)
    run_pipeline(flow_pump)
    before = json.loads(get_flow(client, flow["id"]).body)
    again = flow_service.expand_inbox(
        layout.inbox_key(flow["id"]), flows=deps.flows(), store=deps.originals(), directory=deps.directory()
    )
    run_pipeline(flow_pump)
    assert again is not None and json.loads(get_flow(client, flow["id"]).body)["files"] == before["files"]


def test_flow_refusals(client):
    assert post_flow(client, make_zip([("a.xml", b"<a/>")]), key=MAIRIE_KEY).status_code == 403
    response = post_flow(client, ubl_invoice(), content_type="application/xml")
    assert response.status_code == 415
    mismatch = post_flow(client, ubl_invoice(), content_type="application/zip")
    assert mismatch.status_code == 415 and json.loads(mismatch.body)["found"] == "xml"
    assert post_flow(client, b"").status_code == 400


def test_a_flow_is_visible_to_its_supplier_only(client):
    flow = json.loads(post_flow(client, make_zip([("a.xml", ubl_invoice("VS-1"))])).body)
    assert get_flow(client, flow["id"]).status_code == 200
    assert get_flow(client, flow["id"], SUPPLIER2_KEY).status_code == 404
    assert get_flow(client, "not-an-id").status_code == 404


# --- presigned uploads ------------------------------------------------------------------------


def new_ticket(client, body: bytes | None = None) -> dict:
    """A ticket; with `body`, one that carries the file's SHA-256 (S3 then refuses any other file)."""
    sha256 = {"sha256": base64.b64encode(hashlib.sha256(body).digest()).decode()} if body is not None else None
    response = client.http.post("/v1/uploads", headers=auth(SUPPLIER_KEY, **({"Content-Type": "application/json"}
                                if sha256 else {})), body=json.dumps(sha256) if sha256 else b"")  # fmt: skip
    assert response.status_code == 201, response.body
    return json.loads(response.body)


def upload(client, body: bytes, name: str = "invoice.bin", ticket: dict | None = None) -> dict:
    ticket = ticket or new_ticket(client, body)
    post_file(ticket, body, name)  # exactly the fields given, as S3 requires
    return ticket


def test_a_second_file_posted_with_a_used_ticket_is_not_taken_in_and_the_flow_says_so(client, flow_pump):
    """Review finding: S3 takes a second POST with the same ticket; it was silently dropped. The flow keeps the
    file it was expanded from and reports the ignored one (ignored_upload_at); a redelivery is no such file."""
    first = make_zip([("a.xml", ubl_invoice("RT-A"))])
    ticket = upload(client, first, "batch.zip")
    run_pipeline(flow_pump)
    report = json.loads(get_flow(client, ticket["upload_id"]).body)
    assert report["state"] == "IN_INTEGRE" and "ignored_upload_at" not in report
    upload(client, first, "batch.zip", ticket=ticket)  # the same file again: nothing to report
    run_pipeline(flow_pump)
    assert "ignored_upload_at" not in json.loads(get_flow(client, ticket["upload_id"]).body)
    upload(client, make_zip([("b.xml", ubl_invoice("RT-B"))]), "batch.zip", ticket=ticket)
    run_pipeline(flow_pump)
    report = json.loads(get_flow(client, ticket["upload_id"]).body)
    assert report["ignored_upload_at"] and [f["name"] for f in report["files"]] == ["a.xml"]
    assert report["state"] == "IN_INTEGRE"


def test_presigned_post_policy_fixes_key_size_and_expiry(client):
    ticket = json.loads(client.http.post("/v1/uploads", headers=auth(SUPPLIER_KEY)).body)
    assert set(ticket) >= {"upload_id", "url", "fields", "expires_at"}
    policy = json.loads(base64.b64decode(ticket["fields"]["policy"]))
    conditions = policy["conditions"]
    assert ["eq", "$key", f"inbox/{ticket['upload_id']}"] in conditions
    assert ["content-length-range", 1, 120 * 1024 * 1024] in conditions
    assert not any("checksum" in json.dumps(c) or "Content-MD5" in json.dumps(c) for c in conditions)  # none asked
    assert {"x-amz-meta-supplier-siret": "81234567800013"} in conditions  # the uploader cannot change it
    assert ticket["fields"]["key"] == f"inbox/{ticket['upload_id']}"
    from datetime import datetime

    lifetime = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00")) - datetime.now().astimezone()
    assert 0 < lifetime.total_seconds() <= 900
    assert client.http.post("/v1/uploads", headers=auth(MAIRIE_KEY)).status_code == 403


def test_a_web_app_may_post_the_upload_from_the_browser(client):
    """The bucket answers the browser's CORS preflight for the presigned POST (its signature still decides)."""
    ticket = new_ticket(client)
    preflight = requests.options(
        ticket["url"],
        headers={"Origin": "https://app.example.fr", "Access-Control-Request-Method": "POST"},
        timeout=10,
    )
    assert preflight.status_code == 200
    assert preflight.headers.get("Access-Control-Allow-Origin") in ("*", "https://app.example.fr")
    assert "POST" in preflight.headers.get("Access-Control-Allow-Methods", "")


def test_uploaded_single_invoice_becomes_the_invoice_named_by_the_upload_id(client, flow_pump):
    ticket = upload(client, facturx_pdf(number="UP-1"))
    stored = boto3.client("s3").head_object(Bucket=settings().invoice_bucket, Key=f"inbox/{ticket['upload_id']}")
    assert stored["Metadata"]["supplier-siret"] == "81234567800013"
    run_pipeline(flow_pump)
    invoice = json.loads(client.http.get(f"/v1/invoices/{ticket['upload_id']}", headers=auth(SUPPLIER_KEY)).body)
    assert invoice["number"] == "UP-1" and invoice["status"]["code"] == 203 and invoice["format"] == "facturx"
    report = json.loads(get_flow(client, ticket["upload_id"]).body)
    assert report["state"] == "IN_INTEGRE" and report["files"][0]["invoice_id"] == ticket["upload_id"]


def named_ticket(client, body: dict):
    return client.http.post("/v1/uploads", headers=auth(SUPPLIER_KEY, **{"Content-Type": "application/json"}),
                            body=json.dumps(body))  # fmt: skip


def test_a_single_invoice_upload_is_reported_under_the_name_its_ticket_was_asked_with(client, flow_pump):
    """It was always `invoice`: a supplier uploading its PDFs one by one could not tell them apart in the reports."""
    pdf = facturx_pdf(number="UP-NAMED")
    answer = named_ticket(client, {"name": " Facture n°42 – été.pdf ", "sha256": base64.b64encode(
        hashlib.sha256(pdf).digest()).decode()})  # fmt: skip
    assert answer.status_code == 201, answer.body
    ticket = upload(client, pdf, "ignored-by-s3.pdf", ticket=json.loads(answer.body))
    run_pipeline(flow_pump)
    [file] = json.loads(get_flow(client, ticket["upload_id"]).body)["files"]
    assert (file["name"], file["status_code"]) == ("Facture n°42 – été.pdf", 203)
    unnamed = upload(client, facturx_pdf(number="UP-UNNAMED"))
    run_pipeline(flow_pump)
    assert json.loads(get_flow(client, unnamed["upload_id"]).body)["files"][0]["name"] == "invoice"


@pytest.mark.parametrize("name", ["", "   ", "a\x00b.pdf", "a\nb.pdf", "x" * 501, 42, ["a.pdf"]])
def test_an_upload_name_that_names_no_file_is_a_422_naming_the_field(client, name):
    answer = named_ticket(client, {"name": name})
    assert answer.status_code == 422, answer.body
    problem = json.loads(answer.body)
    assert problem["field"] == "name" and "'name' must be the file's name" in problem["detail"]


def test_a_landed_upload_is_a_flow_in_recu_before_its_notification_is_handled(client, flow_pump):
    ticket = new_ticket(client)
    waiting = get_flow(client, ticket["upload_id"])
    assert waiting.status_code == 404 and "once its file has reached the inbox" in json.loads(waiting.body)["detail"]
    upload(client, make_zip([("a.xml", ubl_invoice("UR-1"))]), "batch.zip", ticket)
    landed = get_flow(client, ticket["upload_id"])
    assert landed.status_code == 200, landed.body
    report = json.loads(landed.body)
    assert report["state"] == "IN_RECU" and report["source"] == "upload" and report["files"] == []
    assert report["counts"] == {"files": 0, "accepted": 0, "rejected": 0, "pending": 0}
    assert get_flow(client, ticket["upload_id"], SUPPLIER2_KEY).status_code == 404  # another supplier's upload
    run_pipeline(flow_pump)
    assert json.loads(get_flow(client, ticket["upload_id"]).body)["state"] == "IN_INTEGRE"


def test_uploaded_archive_becomes_the_flow_named_by_the_upload_id(client, flow_pump):
    ticket = upload(client, make_zip([("a.xml", ubl_invoice("UA-1")), ("b.txt", b"notes")]), "batch.zip")
    run_pipeline(flow_pump)
    report = json.loads(get_flow(client, ticket["upload_id"]).body)
    assert report["id"] == ticket["upload_id"] and report["source"] == "upload"
    assert [(f["name"], f["status"]) for f in report["files"]] == [("a.xml", "accepted"), ("b.txt", "rejected")]


def test_uploaded_file_that_is_no_invoice_is_a_rejected_flow_of_one(client, flow_pump):
    ticket = upload(client, b"just some notes", "notes.txt")
    run_pipeline(flow_pump)
    report = json.loads(get_flow(client, ticket["upload_id"]).body)
    assert report["state"] == "IN_REJETE" and report["files"][0]["invoice_id"] is None
    assert "not an invoice" in report["files"][0]["errors"][0]["message"]
    assert client.http.get(f"/v1/invoices/{ticket['upload_id']}", headers=auth(SUPPLIER_KEY)).status_code == 404


def test_a_bundle_in_the_deep_archive_is_a_409_not_a_500(client, flow_pump):
    flow = json.loads(post_flow(client, make_zip([("a.xml", ubl_invoice("ARCH-1"))])).body)
    run_pipeline(flow_pump)
    [file] = json.loads(get_flow(client, flow["id"]).body)["files"]
    s3, bucket, key = boto3.client("s3"), settings().invoice_bucket, layout.bundle_key(flow["id"], 1)
    s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": key}, StorageClass="DEEP_ARCHIVE")
    response = client.http.get(f"/v1/invoices/{file['invoice_id']}/file", headers=auth(SUPPLIER_KEY))
    assert response.status_code == 409 and response.headers["Content-Type"] == "application/problem+json"
    assert "deep archive" in json.loads(response.body)["detail"]


def test_a_flow_given_up_then_redriven_is_announced_again_with_its_new_counts(client, flow_pump, events_queue,
                                                                               monkeypatch):  # fmt: skip
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "infra"))
    from redrive import redrive
    from webhook_support import validate_event

    from chalicelib.services import processing

    def completed_events() -> list[dict]:
        return [json.loads(m["Message"]) for m in events_queue()
                if m["MessageAttributes"]["event_type"]["Value"] == "flow.completed"]  # fmt: skip

    real = processing.validate_en16931
    monkeypatch.setattr(processing, "validate_en16931", lambda data: 1 / 0)  # a validator bug
    flow = json.loads(post_flow(client, make_zip([(f"{i}.xml", ubl_invoice(f"RDF-{i}")) for i in range(3)])).body)
    run_pipeline(flow_pump)
    [first] = completed_events()  # given up: announced with its invoices failed
    assert first["id"] == f"{flow['id']}-completed" and first["data"]["revision"] == 1
    assert first["data"]["state"] == "IN_REJETE" and first["data"]["counts"]["rejected"] == 3

    monkeypatch.setattr(processing, "validate_en16931", real)  # the fix is deployed, the ops redrive
    assert redrive(boto3.client("sqs"), settings().validation_queue) == 1
    run_pipeline(flow_pump)
    [again] = completed_events()
    validate_event(first), validate_event(again)  # the published schema
    assert again["id"] == f"{flow['id']}-completed-2" and again["data"]["revision"] == 2
    assert again["data"]["state"] == "IN_INTEGRE" and again["data"]["links"] == {"flow": f"/v1/flows/{flow['id']}"}
    assert again["data"]["counts"] == {"files": 3, "accepted": 3, "rejected": 0, "pending": 0}
    assert get_flow_json(client, flow["id"])["counts"] == again["data"]["counts"]

    redelivered = {"Records": [{"eventName": "ObjectCreated:Put",
                                "s3": {"object": {"key": layout.bundle_key(flow["id"], 1)}}}]}  # fmt: skip
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName=settings().validation_queue)["QueueUrl"],
                     MessageBody=json.dumps(redelivered))  # fmt: skip
    run_pipeline(flow_pump)
    assert completed_events() == []  # nothing changed: nothing announced


def get_flow_json(client, flow_id: str) -> dict:
    return json.loads(get_flow(client, flow_id).body)


def test_a_flow_revision_is_noted_only_over_the_previous_one(aws):
    from chalicelib.adapters.flow_repository import HEADER, DynamoFlowRepository, _flow_pk
    from chalicelib.adapters.tables import FlowItemRecord

    flows = DynamoFlowRepository()
    T0 = "2026-11-28T10:00:00.000Z"  # a flow's created_at is a real time: its items expire from it
    flow = Flow("01JDZ8Q6XW00000000000000R1", "12345678900011", T0, T0)
    assert flows.create(flow)
    assert flows.mark_completed(flow.id, "t1", 1, "3/1/2")
    assert (flows.progress(flow.id).revision, flows.progress(flow.id).announced) == (1, "3/1/2")
    assert flows.mark_completed(flow.id, "t2", 2, "3/2/1")
    assert not flows.mark_completed(flow.id, "t3", 2, "3/3/0")  # another process noted revision 2 first
    assert not flows.mark_completed(flow.id, "t3", 4, "3/3/0")
    progress = flows.progress(flow.id)
    assert (progress.revision, progress.announced, progress.completed_at) == (2, "3/2/1", "t2")

    older = Flow("01JDZ8Q6XW00000000000000R2", "12345678900011", T0, T0)
    flows.create(older)  # announced before flows had revisions: completed_at only
    FlowItemRecord(_flow_pk(older.id), HEADER).update(actions=[FlowItemRecord.completed_at.set("t1")])
    assert flows.progress(older.id).revision == 1 and flows.progress(older.id).announced is None
    assert flows.mark_completed(older.id, "t2", 2, "3/3/0") and flows.progress(older.id).revision == 2


def test_the_report_pages_its_files_with_limit_and_cursor(client, flow_pump):
    flow = json.loads(post_flow(client, make_zip([(f"{i}.xml", ubl_invoice(f"PG-{i}")) for i in range(5)])).body)
    assert flow["next_cursor"] is None
    run_pipeline(flow_pump)
    names, cursor, pages = [], None, 0
    while True:
        query = f"?limit=2&cursor={cursor}" if cursor else "?limit=2"
        page = json.loads(client.http.get(f"/v1/flows/{flow['id']}{query}", headers=auth(SUPPLIER_KEY)).body)
        assert page["counts"] == {"files": 5, "accepted": 5, "rejected": 0, "pending": 0}  # the whole flow's
        names += [f["name"] for f in page["files"]]
        pages, cursor = pages + 1, page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and names == [f"{i}.xml" for i in range(5)]
    whole = get_flow_json(client, flow["id"])
    assert [f["name"] for f in whole["files"]] == names and whole["next_cursor"] is None
    for query in ("?limit=0", "?limit=abc", "?cursor=nope"):
        refused = client.http.get(f"/v1/flows/{flow['id']}{query}", headers=auth(SUPPLIER_KEY))
        assert refused.status_code == 400 and refused.headers["Content-Type"] == "application/problem+json"


def hostile_json_members() -> dict[str, bytes]:
    control = json_invoice("HJ-1")
    control["number"] = "A\u0001B"  # lxml refuses it when writing UBL
    surrogate_key = json.dumps({**json_invoice("HJ-2"), "PLACEHOLDER": 1}).replace("PLACEHOLDER", "\\ud800")
    return {"control-character": json.dumps(control).encode(), "deep": b"[" * 100_000 + b"]" * 100_000,
            "surrogate-key": surrogate_key.encode()}  # fmt: skip


@pytest.mark.parametrize("case", ["control-character", "deep", "surrogate-key"])
def test_a_hostile_json_file_is_rejected_alone_and_the_flow_completes(client, flow_pump, case):
    body = make_zip([("good.xml", ubl_invoice(f"HJ-GOOD-{case}")), ("bad.json", hostile_json_members()[case])])
    flow = json.loads(post_flow(client, body).body)
    run_pipeline(flow_pump)
    report = json.loads(get_flow(client, flow["id"]).body)
    assert report["state"] == "IN_INTEGRE_PARTIEL"
    assert report["counts"] == {"files": 2, "accepted": 1, "rejected": 1, "pending": 0}
    bad = files_by_name(report)["bad.json"]
    message = bad["errors"][0]["message"]
    if case == "control-character":
        assert "U+0001" in message and bad["errors"][0]["location"] == "/number"
    elif case == "deep":
        assert "nested too deeply" in message
    else:  # review finding: its pointer held the raw surrogate, which no item could store: the flow stayed IN_RECU
        assert any(e["location"] == "/\\ud800" and "U+D800" in e["message"] for e in bad["errors"]), bad["errors"]


def test_an_unexpected_failure_on_one_file_rejects_that_file_not_the_flow(client, flow_pump, monkeypatch, caplog):
    prepare = flow_service.intake.prepare_member

    def fails_on_the_second(data: bytes):
        if b"UF-2" in data:
            raise RuntimeError("a reader bug on hostile input")
        return prepare(data)

    monkeypatch.setattr(flow_service.intake, "prepare_member", fails_on_the_second)
    flow = json.loads(
        post_flow(client, make_zip([("a.xml", ubl_invoice("UF-1")), ("b.xml", ubl_invoice("UF-2"))])).body
    )
    run_pipeline(flow_pump)
    report = json.loads(get_flow(client, flow["id"]).body)
    assert report["state"] == "IN_INTEGRE_PARTIEL" and [f["status"] for f in report["files"]] == [
        "accepted",
        "rejected",
    ]
    assert report["files"][1]["errors"][0]["message"] == "The file could not be read as an invoice (RuntimeError)."
    logged = [r.getMessage() for r in caplog.records if r.exc_info]  # logged with its traceback
    assert any("file 2 could not be read" in m for m in logged)
    assert not any("b.xml" in m for m in logged)  # its position, never its name (names can carry personal data)


def test_an_aws_failure_while_expanding_fails_the_message_to_be_retried(client, flow_pump, monkeypatch):
    from botocore.exceptions import ClientError

    def throttled(data: bytes):
        raise ClientError({"Error": {"Code": "SlowDown", "Message": "Please reduce your request rate."}}, "PutObject")

    monkeypatch.setattr(flow_service.intake, "prepare_member", throttled)
    flow = json.loads(post_flow(client, make_zip([("a.xml", ubl_invoice("AF-1"))])).body)
    assert flow_pump.deliver_sqs_once("expand_inbox") == 1
    report = json.loads(get_flow(client, flow["id"]).body)
    assert report["state"] == "IN_RECU" and report["files"] == []  # not expanded: the message comes back
    inbox = boto3.client("sqs").get_queue_attributes(
        QueueUrl=flow_pump._queue(settings().inbox_queue)[1], AttributeNames=["All"]
    )["Attributes"]
    assert int(inbox["ApproximateNumberOfMessages"]) + int(inbox["ApproximateNumberOfMessagesNotVisible"]) == 1


def test_many_small_members_of_zeros_are_read_only_up_to_the_archives_ratio(client, flow_pump):
    entries = [(f"z{i}.xml", b"\0" * (1024 * 1024)) for i in range(40)] + [("ok.xml", ubl_invoice("ZR-1"))]
    body = make_zip(entries)  # 40 MiB from ~45 KB: each member under the per-member ratio floor
    flow = json.loads(post_flow(client, body).body)
    run_pipeline(flow_pump)
    report = json.loads(get_flow(client, flow["id"]).body)
    assert report["state"] == "IN_REJETE" and report["counts"]["files"] == 41
    refused = [f for f in report["files"] if "over the total limit" in f["errors"][0]["message"]]
    assert len(refused) >= 41 - 16 and files_by_name(report)["ok.xml"]["status"] == "rejected"


def test_renditions_of_pdf_and_json_files_count_against_the_flows_limit(client, flow_pump, monkeypatch):
    from chalicelib.formats import archives

    small = functools.partial(archives.Limits, max_total_bytes=10_000)  # 3 JSON files fit, 3 renditions do not
    monkeypatch.setattr(flows_api.archives, "Limits", small)
    body = make_zip([(f"{i}.json", json.dumps(json_invoice(f"RB-{i}")).encode()) for i in range(3)])
    flow = json.loads(post_flow(client, body).body)
    run_pipeline(flow_pump)
    report = json.loads(get_flow(client, flow["id"]).body)
    assert [f["status"] for f in report["files"]] == ["accepted", "accepted", "rejected"]
    assert "bytes of invoice XML" in report["files"][2]["errors"][0]["message"]


def set_active(client, siret: str, active: bool) -> None:
    from demo import ADMIN_KEY

    response = client.http.patch(
        f"/v1/admin/structures/{siret}",
        headers=auth(ADMIN_KEY, **{"Content-Type": "application/json"}),
        body=json.dumps({"active": active}),
    )
    assert response.status_code == 200, response.body


def test_a_ticket_taken_before_a_deactivation_deposits_nothing(client, flow_pump):
    ticket = new_ticket(client)
    set_active(client, "81234567800013", False)
    try:
        upload(client, ubl_invoice("DA-1"), "invoice.xml", ticket)  # S3 still takes the file the ticket allows
        run_pipeline(flow_pump)
    finally:
        set_active(client, "81234567800013", True)
    report = json.loads(get_flow(client, ticket["upload_id"]).body)
    assert report["state"] == "IN_REJETE" and report["files"] == []
    assert "81234567800013 was deactivated" in report["error"]
    assert client.http.get(f"/v1/invoices/{ticket['upload_id']}", headers=auth(SUPPLIER_KEY)).status_code == 404


def test_a_deactivated_supplier_gets_no_ticket_and_posts_no_flow(client, monkeypatch):
    from chalicelib.domain.directory import Principal
    from chalicelib.entrypoints import api as api_module

    # API Gateway caches the authorizer's answer for a minute: it still says "active supplier" after deactivation.
    cached = Principal("81234567800013", "Atelier Numérique SARL", ("supplier",))
    set_active(client, "81234567800013", False)
    monkeypatch.setattr(api_module, "authenticate", lambda token, directory: cached)
    try:
        assert client.http.post("/v1/uploads", headers=auth(SUPPLIER_KEY)).status_code == 401
        assert post_flow(client, make_zip([("a.xml", ubl_invoice("DA-2"))])).status_code == 401
    finally:
        monkeypatch.undo()
        set_active(client, "81234567800013", True)


def test_a_flow_expanded_before_a_deactivation_has_its_invoices_rejected(client, flow_pump):
    flow = json.loads(post_flow(client, make_zip([("a.xml", ubl_invoice("DA-3"))])).body)
    assert flow_pump.deliver_sqs_once("expand_inbox")
    set_active(client, "81234567800013", False)
    try:
        run_pipeline(flow_pump)
    finally:
        set_active(client, "81234567800013", True)
    [entry] = json.loads(get_flow(client, flow["id"]).body)["files"]
    path = f"/v1/invoices/{entry['invoice_id']}/history"
    last = json.loads(client.http.get(path, headers=auth(SUPPLIER_KEY)).body)["history"][-1]
    assert last["code"] == 213 and last["reason_code"] == "REJ_COH" and "was deactivated" in last["comment"]
    assert entry["status"] == "rejected"


def test_sparse_members_and_names_not_in_utf8_are_rejected_alone_and_the_flow_completes(client, flow_pump):
    """A GNU sparse member (holes tarfile would fill outside the inflation bound) and a name that is not UTF-8 (which
    used to fail every expansion: the flow stayed IN_RECU) are each a per-file error; the valid invoice goes
    through and the flow completes."""
    import gzip

    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, data in [("ok.xml", ubl_invoice("SN-1")), ("facture-é.xml", ubl_invoice("SN-2"))]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        sparse = tarfile.TarInfo("hole.xml")
        real = str(32 * 1024 * 1024 - 1)
        sparse.pax_headers = {"GNU.sparse.map": f"{real},0", "GNU.sparse.size": real}
        archive.addfile(sparse)
    latin1 = out.getvalue().replace("path=facture-é".encode(), b"path=facture-\xe9\xe9")  # same length
    flow = json.loads(post_flow(client, gzip.compress(latin1), content_type="application/gzip").body)
    run_pipeline(flow_pump)
    report = json.loads(get_flow(client, flow["id"]).body)
    assert [(f["name"], f["status"]) for f in report["files"]] == [
        ("ok.xml", "accepted"), ("facture-\ufffd\ufffd.xml", "rejected"), ("hole.xml", "rejected"),
    ]  # fmt: skip
    assert "not valid UTF-8" in report["files"][1]["errors"][0]["message"]
    assert "sparse" in report["files"][2]["errors"][0]["message"]
    assert report["state"] == "IN_INTEGRE_PARTIEL"


def test_the_report_names_files_of_an_info_zip_archive_as_their_sender_did(client, flow_pump):
    """Info-ZIP `zip` (Linux, the macOS command line) writes UTF-8 names without the UTF-8 flag: the report showed
    them read as CP437 ('factur├⌐ n┬░1.xml'). A real CP437 name is still read as CP437."""
    body = unflagged_zip([("facturé n°1.xml".encode(), ubl_invoice("IZ-1"), b""),
                          ("FACTURÉ-œ.xml".encode(), ubl_invoice("IZ-2"), b""),
                          (b"fa\x87ade.xml", ubl_invoice("IZ-3"), b"")])  # fmt: skip
    flow = json.loads(post_flow(client, body).body)
    run_pipeline(flow_pump)
    report = json.loads(get_flow(client, flow["id"]).body)
    assert [(f["name"], f["status"]) for f in report["files"]] == [
        ("facturé n°1.xml", "accepted"), ("FACTURÉ-œ.xml", "accepted"), ("façade.xml", "accepted"),
    ]  # fmt: skip


def test_a_pdf_of_padded_object_streams_is_rejected_alone_in_a_flow(client, flow_pump):
    """Two 198 KB PDFs of 12 padded object streams each (a 5 KB ZIP) took 51 s to expand; ~15 of them would pass the
    expander's 300 s on every delivery, leaving the flow IN_RECU."""
    bomb = pdf_objstm_bomb(12, 16 * 1024 * 1024 - 4096)
    flow = json.loads(post_flow(client, make_zip([("ok.xml", ubl_invoice("PB-1")), ("x1.pdf", bomb),
                                                  ("x2.pdf", bomb)])).body)  # fmt: skip
    run_pipeline(flow_pump)
    report = json.loads(get_flow(client, flow["id"]).body)
    assert [(f["name"], f["status"]) for f in report["files"]] == [
        ("ok.xml", "accepted"), ("x1.pdf", "rejected"), ("x2.pdf", "rejected"),
    ]  # fmt: skip
    assert "object streams inflate to more than" in report["files"][1]["errors"][0]["message"]
    assert report["state"] == "IN_INTEGRE_PARTIEL"


def test_the_pdf_files_of_a_flow_share_one_budget(client, flow_pump):
    """Past what the flow's PDFs may inflate to together (the archive's total limit), the next PDF is rejected
    alone, unread; the other files go through."""
    from chalicelib.formats import archives

    bomb = pdf_objstm_bomb(1, 3 * 1024 * 1024)  # under the document's budget: read, and charged to the flow
    entries = [("a.pdf", bomb), ("b.pdf", bomb), ("c.pdf", bomb), ("fx.pdf", facturx_pdf(number="FB-1")),
               ("ok.xml", ubl_invoice("FB-2"))]  # fmt: skip
    flow = json.loads(post_flow(client, make_zip(entries)).body)
    limits = archives.Limits(max_total_bytes=8 * 1024 * 1024)
    expanded = flow_service.expand_inbox(
        layout.inbox_key(flow["id"]), flows=deps.flows(), store=deps.originals(), directory=deps.directory(),
        limits=limits,
    )  # fmt: skip
    outcomes = {f.name: f.outcome for f in expanded.files}
    assert outcomes == {"a.pdf": "rejected", "b.pdf": "rejected", "c.pdf": "rejected", "fx.pdf": "rejected",
                        "ok.xml": "pending"}  # fmt: skip
    fx = next(f for f in expanded.files if f.name == "fx.pdf")
    assert "flow's PDF files inflate to more than 8388608 bytes" in fx.errors[0].message
    run_pipeline(flow_pump)
    assert json.loads(get_flow(client, flow["id"]).body)["state"] == "IN_INTEGRE_PARTIEL"
