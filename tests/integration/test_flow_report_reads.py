"""What a flow's report reads (review r50): a complete flow's report reads its page's invoices only, and says
exactly what reading every invoice says (a flow announced before its counts were noted still reads them all)."""

from __future__ import annotations

import collections
import json
import sys
from pathlib import Path

import boto3
import pytest
from botocore.client import BaseClient
from demo import SUPPLIER_KEY, auth
from invoices import invalid_ubl_invoice, ubl_invoice
from test_flows import flow_pump, make_zip, post_flow, run_pipeline  # noqa: F401

from chalicelib.adapters.flow_repository import HEADER, _flow_pk
from chalicelib.adapters.tables import FlowItemRecord
from chalicelib.config import settings


@pytest.fixture
def invoice_reads(monkeypatch):
    """How many invoices (BatchGetItem keys) the invoice table was asked for."""
    read = collections.Counter()
    original = BaseClient._make_api_call

    def counting(client, operation, params):
        if operation == "BatchGetItem":
            for table, asked in params["RequestItems"].items():
                read[table] += len(asked["Keys"])
        return original(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", counting)
    return read


def report(client, flow_id: str, invoice_reads, query: str = "") -> tuple[dict, int]:
    invoice_reads.clear()
    answer = client.http.get(f"/v1/flows/{flow_id}{query}", headers=auth(SUPPLIER_KEY))
    assert answer.status_code == 200, answer.body
    return json.loads(answer.body), invoice_reads[settings().invoice_table]


def pages(client, flow_id: str, invoice_reads, limit: int) -> tuple[list[dict], int]:
    """Every page of the report, and the most invoices one page read."""
    answers, most, cursor = [], 0, None
    while True:
        page, read = report(client, flow_id, invoice_reads, f"?limit={limit}" + (f"&cursor={cursor}" if cursor else ""))
        answers, most, cursor = answers + [page], max(most, read), page["next_cursor"]
        if cursor is None:
            return answers, most


def as_announced_before_r50(flow_id: str, created_at: str) -> None:
    """The header of a flow announced before its counts were noted: no counts, updated_at its expansion's."""
    FlowItemRecord(_flow_pk(flow_id), HEADER).update(
        actions=[FlowItemRecord.accepted_files.remove(), FlowItemRecord.rejected_files.remove(),
                 FlowItemRecord.updated_at.set(created_at)]
    )  # fmt: skip


def test_a_complete_flows_report_reads_its_pages_invoices_only_and_says_what_reading_them_all_says(
    client,
    flow_pump,  # noqa: F811
    invoice_reads,
):
    members = [(f"{i:02d}.xml", ubl_invoice(f"RD-{i}") if i % 7 else invalid_ubl_invoice(f"RD-{i}")) for i in range(58)]
    members += [("notes.txt", b"not an invoice"), ("empty.xml", b"")]  # rejected at expansion: no invoice
    posted = post_flow(client, make_zip(members))
    assert posted.status_code == 202, posted.body
    flow_id, created_at = json.loads(posted.body)["id"], json.loads(posted.body)["created_at"]
    run_pipeline(flow_pump)

    noted, most = pages(client, flow_id, invoice_reads, limit=5)
    assert most <= 5  # was 58 (every invoice of the flow) on every page
    counts = {"files": 60, "accepted": 49, "rejected": 11, "pending": 0}
    assert all(page["counts"] == counts and page["state"] == "IN_INTEGRE_PARTIEL" for page in noted)
    whole, read = report(client, flow_id, invoice_reads)
    assert read == 58 and len(whole["files"]) == 60

    as_announced_before_r50(flow_id, created_at)
    derived, most = pages(client, flow_id, invoice_reads, limit=5)
    assert most == 58  # no counts on the header: read from every invoice, as before
    assert derived == noted  # every field, updated_at included (the flow's last decision)
    assert derived[0]["updated_at"] > created_at


def test_a_redrive_that_changes_no_count_still_moves_the_reports_updated_at(
    client,
    flow_pump,  # noqa: F811
    invoice_reads,
    monkeypatch,
):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "infra"))
    from redrive import redrive

    from chalicelib.services import processing

    real = processing.validate_en16931
    monkeypatch.setattr(processing, "validate_en16931", lambda data: 1 / 0)  # a validator bug: given up, failed
    posted = json.loads(
        post_flow(client, make_zip([(f"{i}.xml", invalid_ubl_invoice(f"RU-{i}")) for i in range(3)])).body
    )
    run_pipeline(flow_pump)
    failed, _ = report(client, posted["id"], invoice_reads)
    assert failed["counts"] == {"files": 3, "accepted": 0, "rejected": 3, "pending": 0}

    monkeypatch.setattr(processing, "validate_en16931", real)
    assert redrive(boto3.client("sqs"), settings().validation_queue) == 1
    run_pipeline(flow_pump)  # now decided 213: the same counts, nothing re-announced, later decisions
    redriven, read = report(client, posted["id"], invoice_reads, "?limit=1")
    assert read == 1 and redriven["counts"] == failed["counts"]
    assert redriven["updated_at"] > failed["updated_at"]
    as_announced_before_r50(posted["id"], posted["created_at"])
    assert report(client, posted["id"], invoice_reads, "?limit=1")[0] == redriven


@pytest.mark.parametrize(
    "make_invoice, skewed_clock, state",
    [
        (ubl_invoice, False, "IN_INTEGRE"),
        (ubl_invoice, True, "IN_INTEGRE"),  # the redrive's Lambda clock behind the one that noted the counts
        (invalid_ubl_invoice, False, "IN_REJETE"),  # the same counts: only the files' errors and updated_at move
    ],
    ids=["accepted", "accepted-by-a-late-clock", "rejected-again"],
)
def test_a_redrives_decisions_the_flow_was_not_told_of_yet_read_as_a_full_read_says(
    client,
    flow_pump,  # noqa: F811
    invoice_reads,
    monkeypatch,
    make_invoice,
    skewed_clock,
    state,
):
    """Review r53 §2: a failed flow redriven, its decisions saved, the flow not told of them yet (its call fails
    and is retried): the report is what reading every invoice says, not the noted IN_REJETE, 3 rejected, over 3
    files shown accepted (or the failure's updated_at over files showing the new decisions' errors)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "infra"))
    from redrive import redrive

    from chalicelib.entrypoints import events
    from chalicelib.services import processing

    real = processing.validate_en16931
    monkeypatch.setattr(processing, "validate_en16931", lambda data: 1 / 0)  # a validator bug: given up, failed
    posted = json.loads(post_flow(client, make_zip([(f"{i}.xml", make_invoice(f"MR-{i}")) for i in range(3)])).body)
    run_pipeline(flow_pump)
    failed, read = report(client, posted["id"], invoice_reads, "?limit=1")
    assert (failed["state"], failed["counts"]["rejected"], read) == ("IN_REJETE", 3, 1)  # nothing moved: cheap
    if skewed_clock:
        FlowItemRecord(_flow_pk(posted["id"]), HEADER).update(actions=[FlowItemRecord.updated_at.set("9999")])

    monkeypatch.setattr(processing, "validate_en16931", real)
    monkeypatch.setattr(events, "_object_done", lambda *a, **k: None)  # the flow is told of the decisions later
    assert redrive(boto3.client("sqs"), settings().validation_queue) == 1
    run_pipeline(flow_pump)
    redriven = [report(client, posted["id"], invoice_reads, query)[0] for query in ("", "?limit=1")]
    assert [page["state"] for page in redriven] == [state, state]
    accepted = 3 if state == "IN_INTEGRE" else 0
    assert redriven[1]["counts"] == {"files": 3, "accepted": accepted, "rejected": 3 - accepted, "pending": 0}

    as_announced_before_r50(posted["id"], posted["created_at"])
    full = [report(client, posted["id"], invoice_reads, query)[0] for query in ("", "?limit=1")]
    if skewed_clock:  # the full read's updated_at starts from the header's, reset here
        full = [{**page, "updated_at": noted["updated_at"]} for page, noted in zip(full, redriven, strict=True)]
    assert redriven == full
