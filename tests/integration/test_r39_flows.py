"""Review r39: bulk flows as an ERP integrator reads their reports."""

from __future__ import annotations

import json
import warnings

from demo import SUPPLIER_KEY, auth
from invoices import ubl_invoice
from test_flows import flow_pump, get_flow, make_zip, post_flow, run_pipeline  # noqa: F401

from chalicelib.entrypoints.formats_openapi import FLOW_SCHEMA


def _report(client, flow_pump, body: bytes, content_type: str = "application/zip") -> dict:  # noqa: F811
    posted = post_flow(client, body, content_type=content_type)
    assert posted.status_code == 202, posted.body
    run_pipeline(flow_pump)
    return json.loads(get_flow(client, json.loads(posted.body)["id"]).body)


def test_each_file_entry_carries_its_archive_position_across_pages(client, flow_pump):  # noqa: F811
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns when writing a duplicate name
        body = make_zip([("dir/", b""), ("a.xml", ubl_invoice("R39-I1")), ("a.xml", ubl_invoice("R39-I2")),
                         ("x" * 600 + ".xml", ubl_invoice("R39-I3"))])  # fmt: skip
    posted = json.loads(post_flow(client, body).body)
    run_pipeline(flow_pump)
    path = f"/v1/flows/{posted['id']}?limit=2"
    first = json.loads(client.http.get(path, headers=auth(SUPPLIER_KEY)).body)
    rest = json.loads(client.http.get(f"{path}&cursor={first['next_cursor']}", headers=auth(SUPPLIER_KEY)).body)
    entries = first["files"] + rest["files"]
    assert [(f["index"], f["name"][:5], f["status"]) for f in entries] == [
        (1, "a.xml", "accepted"), (2, "a.xml", "rejected"), (3, "xxxxx", "accepted"),
    ]  # fmt: skip
    assert FLOW_SCHEMA["properties"]["files"]["items"]["properties"]["index"]["type"] == "integer"


def test_macos_finder_metadata_is_skipped_and_counted_apart(client, flow_pump):  # noqa: F811
    """A ZIP made by macOS Finder's "Compress": its AppleDouble files and .DS_Store are no rejected files."""
    body = make_zip([
        ("factures/A.xml", ubl_invoice("R39-M1")),
        ("__MACOSX/factures/._A.xml", b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        "),
        ("factures/.DS_Store", b"\x00\x00\x00\x01Bud1\x00\x00"),
        ("factures/B.xml", ubl_invoice("R39-M2")),
    ])  # fmt: skip
    report = _report(client, flow_pump, body)
    assert report["state"] == "IN_INTEGRE"
    assert report["counts"] == {"files": 2, "accepted": 2, "rejected": 0, "pending": 0}
    assert report["ignored_files"] == 2
    assert [(f["index"], f["name"]) for f in report["files"]] == [(1, "factures/A.xml"), (4, "factures/B.xml")]


def test_a_tar_gz_of_windows_metadata_only_is_an_archive_of_no_file(client, flow_pump):  # noqa: F811
    from test_flows import make_tar_gz

    report = _report(client, flow_pump, make_tar_gz([("Thumbs.db", b"x"), ("desktop.ini", b"y")]), "application/gzip")
    assert report["state"] == "IN_REJETE" and report["error"] == "The archive contains no file."
    assert report["counts"] == {"files": 0, "accepted": 0, "rejected": 0, "pending": 0}
    assert report["ignored_files"] == 2


def test_an_archive_over_the_file_limit_is_refused_whole_zip_and_tar_gz_alike(client, flow_pump):  # noqa: F811
    import boto3
    from test_flows import make_tar_gz

    from chalicelib.config import settings
    from chalicelib.services import layout

    entries = [("a.xml", ubl_invoice("R39-T1"))] + [(f"n{i:04d}.txt", b"x") for i in range(settings().max_flow_files)]
    refused = post_flow(client, make_zip(entries))
    problem = json.loads(refused.body)
    assert refused.status_code == 422 and refused.headers["Content-Type"] == "application/problem+json"
    assert (problem["reason"], problem["files"], problem["max_files"]) == ("too_many_files", len(entries), 1000)
    report = _report(client, flow_pump, make_tar_gz(entries), "application/gzip")
    assert report["state"] == "IN_REJETE" and "no file of it is deposited" in report["error"]
    assert report["files"] == [] and report["counts"]["files"] == 0
    s3 = boto3.client("s3")
    assert s3.list_objects_v2(Bucket=settings().invoice_bucket, Prefix=layout.BUNDLES_PREFIX)["KeyCount"] == 0
