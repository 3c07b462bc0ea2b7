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
