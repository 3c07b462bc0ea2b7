"""Operations: the one-off migration of items stored before an update (infra/migrate.py): `expires` on invoices, flows,
number claims and unconfirmed e-mail subscriptions; number claims under their current key; structures' name keys."""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from demo import SUPPLIER_KEY, auth
from invoices import ubl_invoice

from chalicelib.adapters.directory import DynamoDirectory, structure_to_record
from chalicelib.adapters.flow_repository import DynamoFlowRepository
from chalicelib.adapters.invoice_repository import DynamoInvoiceRepository
from chalicelib.adapters.subscription_store import DynamoSubscriptionStore
from chalicelib.adapters.tables import StructureRecord
from chalicelib.config import settings
from chalicelib.domain.directory import Structure
from chalicelib.domain.flows import Flow, FlowFile
from chalicelib.domain.subscriptions import Subscription
from chalicelib.services import controls

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "infra"))
import migrate  # noqa: E402

RETENTION_DAYS = 90


@pytest.fixture
def stage(monkeypatch):
    """The moto tables (not chorale-dev-*), with the dev stage's retention."""
    monkeypatch.setattr(migrate, "stage_environment", lambda *_: {})
    monkeypatch.setenv("RETENTION_DAYS", str(RETENTION_DAYS))
    settings.cache_clear()
    yield
    monkeypatch.undo()
    settings.cache_clear()


def dynamodb():
    return boto3.client("dynamodb")


def items(table: str) -> list[dict]:
    return dynamodb().scan(TableName=table, ConsistentRead=True)["Items"]


def forget_expires(table: str) -> None:
    """Items as stored before 2026-11-28: no `expires`."""
    for item in items(table):
        key = {k: item[k] for k in item if k in ("id", "key", "pk", "sk", "siret")}
        dynamodb().update_item(TableName=table, Key=key, UpdateExpression="REMOVE expires")


def retention_after(iso: str) -> int:
    return int((datetime.fromisoformat(iso.replace("Z", "+00:00")) + timedelta(days=RETENTION_DAYS)).timestamp())


def deposited(client, pump, number: str) -> str:
    response = client.http.post("/v1/invoices", headers=auth(SUPPLIER_KEY, **{"Content-Type": "application/xml"}),
                                body=ubl_invoice(number))  # fmt: skip
    assert response.status_code == 202, response.body
    while pump.deliver_sqs_once("validate_invoices"):
        pass
    return json.loads(response.body)["id"]


def run(capsys, *args: str) -> tuple[int, str, str]:
    rc = migrate.main(["--stage", "dev", *args])
    out = capsys.readouterr()
    return rc, out.out, out.err


def claims() -> dict[str, dict]:
    return {item["key"]["S"]: item for item in items(settings().number_table)}


def test_expires_is_given_to_the_items_stored_without_it(stage, client, pump, capsys):
    invoice_id = deposited(client, pump, "F-MIG-EXP")
    invoice = DynamoInvoiceRepository().get(invoice_id)
    flows = DynamoFlowRepository()
    flows.create(Flow("flowmig", invoice.supplier_siret, "2026-11-20T08:00:00Z", "2026-11-20T08:00:00Z"))
    flows.add_files("flowmig", [FlowFile(f"file#{n:05d}", f"f{n}.xml") for n in range(3)], "2026-11-20T08:00:00Z")
    store, now = DynamoSubscriptionStore(), time.time()
    pending = {"state": "pending_confirmation", "confirmation_hash": "h", "email": "a@example.org"}
    store.add(Subscription("lapsed", "21750000100011", "2026-11-01T08:00:00Z", **pending,
                           confirmation_expires=now - 60))  # fmt: skip
    store.add(Subscription("waiting", "21750000100011", "2026-11-27T08:00:00Z", **pending,
                           confirmation_expires=now + 3600))  # fmt: skip
    store.add(Subscription("active", "21750000100011", "2026-11-01T08:00:00Z", url="https://example.org/hook"))
    for table in (settings().invoice_table, settings().flow_table, settings().number_table):
        forget_expires(table)
    forget_expires(settings().subscription_table)
    before = {t: items(t) for t in (settings().invoice_table, settings().flow_table, settings().number_table)}

    rc, out, _ = run(capsys, "--only", "expires", "--dry-run")
    assert rc == 0
    assert out.splitlines()[-1] == "expires: scanned 7, would change 6, already done 1, conflicts 0"
    assert all(items(t) == found for t, found in before.items())  # a dry run writes nothing
    assert {i["id"]["S"] for i in items(settings().subscription_table)} == {"lapsed", "waiting", "active"}

    rc, out, _ = run(capsys, "--only", "expires")
    assert rc == 0
    assert out.splitlines()[-1] == "expires: scanned 7, changed 6, already done 1, conflicts 0"
    (record,) = items(settings().invoice_table)
    assert int(record["expires"]["N"]) == retention_after(invoice.created_at)
    assert int(record["version"]["N"]) == invoice.version  # the app's next write of a change read before still lands
    (claim,) = items(settings().number_table)
    assert int(claim["expires"]["N"]) == retention_after(invoice.created_at)
    flow_items = items(settings().flow_table)
    assert len(flow_items) == 2  # the header and one chunk of files
    assert {int(i["expires"]["N"]) for i in flow_items} == {retention_after("2026-11-20T08:00:00Z")}
    subscriptions = {i["id"]["S"]: i for i in items(settings().subscription_table)}
    assert set(subscriptions) == {"waiting", "active"}  # the lapsed one is gone, as its TTL would have taken it
    assert int(subscriptions["waiting"]["expires"]["N"]) == int(store.get("21750000100011", "waiting").purge_at)
    assert "expires" not in subscriptions["active"]  # kept until deleted

    rc, out, _ = run(capsys, "--only", "expires")
    assert rc == 0
    assert out.splitlines()[-1] == "expires: scanned 6, changed 0, already done 6, conflicts 0"


def move_claim(new_key: str, old_key: str) -> None:
    """A claim as code before the fold wrote it: under the number as sent."""
    item = dynamodb().get_item(TableName=settings().number_table, Key={"key": {"S": new_key}})["Item"]
    dynamodb().put_item(TableName=settings().number_table, Item={**item, "key": {"S": old_key}})
    dynamodb().delete_item(TableName=settings().number_table, Key={"key": {"S": new_key}})


def claim_key(invoice_id: str) -> str:
    invoice = DynamoInvoiceRepository().get(invoice_id)
    return controls.number_claim_key(invoice.summary, invoice.supplier_siret)


def test_claims_move_to_the_key_of_the_current_fold(stage, client, pump, capsys):
    moved_id = deposited(client, pump, "f-mig-\u200b1")  # lower case and a Cf character: both changed its key
    kept_id = deposited(client, pump, "F-MIG-2")  # upper-case ASCII: its key never changed
    new_key = claim_key(moved_id)
    old_key = new_key.replace("F-MIG-1", "f-mig-\u200b1")
    move_claim(new_key, old_key)
    before = claims()

    rc, out, err = run(capsys, "--only", "claims", "--dry-run")
    assert (rc, err) == (0, "")
    assert out.splitlines()[-1] == "claims: scanned 2, would change 1, already done 1, conflicts 0"
    assert claims() == before

    rc, out, _ = run(capsys, "--only", "claims")
    assert rc == 0
    assert out.splitlines()[-1] == "claims: scanned 2, changed 1, already done 1, conflicts 0"
    after = claims()
    assert set(after) == {new_key, claim_key(kept_id)}
    assert after[new_key]["invoice_id"]["S"] == moved_id
    assert after[new_key]["expires"] == before[old_key]["expires"]  # moved with its TTL

    # The same number sent again is now a duplicate.
    again = deposited(client, pump, "F-MIG-1")
    assert DynamoInvoiceRepository().get(again).status.code == 213

    rc, out, _ = run(capsys, "--only", "claims")
    assert rc == 0
    assert "claims: scanned 2, changed 0, already done 2, conflicts 0" in out


def test_a_claim_on_a_number_with_a_tab_moves_to_its_spaced_key(stage, client, pump, capsys):
    """Review r54 F1: before whitespace was folded, 'F\\tMIG\\t3' was claimed under its tabs."""
    invoice_id = deposited(client, pump, "F\tMIG\t3")
    new_key = claim_key(invoice_id)
    assert new_key.endswith("#F MIG 3")
    old_key = new_key.replace("F MIG 3", "F\tMIG\t3")
    move_claim(new_key, old_key)

    rc, out, _ = run(capsys, "--only", "claims")
    assert rc == 0 and "claims: scanned 1, changed 1, already done 0, conflicts 0" in out
    assert set(claims()) == {new_key}
    assert DynamoInvoiceRepository().get(deposited(client, pump, "F MIG 3")).status.code == 213


def test_two_invoices_accepted_before_under_one_number_are_a_reported_conflict(stage, client, pump, capsys):
    first_id = deposited(client, pump, "f-mig-dup")
    shared_key = claim_key(first_id)
    old_key = shared_key.replace("F-MIG-DUP", "f-mig-dup")
    move_claim(shared_key, old_key)  # as before the fold: the upper-case number was not a duplicate
    second_id = deposited(client, pump, "F-MIG-DUP")
    assert DynamoInvoiceRepository().get(second_id).status.code == 203
    assert claims()[shared_key]["invoice_id"]["S"] == second_id

    rc, out, err = run(capsys, "--only", "claims", "--dry-run")
    assert rc == 1
    assert "claims: scanned 2, would change 0, already done 1, conflicts 1" in out
    assert f"invoice {first_id}" in err and f"invoice {second_id}" in err and "would be deleted" in err
    assert set(claims()) == {shared_key, old_key}

    rc, out, err = run(capsys, "--only", "claims")
    assert rc == 1
    assert "claims: scanned 2, changed 0, already done 1, conflicts 1" in out
    assert f"claims: conflict: invoice {first_id} (supplier " in err
    assert f"has the number of invoice {second_id} under the new rule (claim {shared_key})" in err
    assert err.splitlines()[-1] == "1 number conflict(s) in chorale-dev: see the lines above"
    after = claims()
    assert set(after) == {shared_key} and after[shared_key]["invoice_id"]["S"] == second_id  # the first holder's
    assert {DynamoInvoiceRepository().get(i).status.code for i in (first_id, second_id)} == {203}  # both stand

    rc, out, err = run(capsys, "--only", "claims")
    assert (rc, err) == (0, "")


def test_a_structure_s_stale_name_key_is_recomputed_and_its_updated_at_kept(stage, aws, capsys):
    directory = DynamoDirectory()
    siret = "12345678900011"
    directory.put_structure(Structure(siret, "L’Atelier du Coin", ("recipient",), updated_at="2026-11-20T10:00:00Z"))
    stale = "l’atelier du coin"  # as the fold before 2026-11-27 06:00 left it
    dynamodb().update_item(
        TableName=settings().structure_table, Key={"siret": {"S": siret}},
        UpdateExpression="SET name_key = :k, name_initial = :i, name_sort = :s",
        ExpressionAttributeValues={":k": {"S": stale}, ":i": {"S": "l"}, ":s": {"S": f"{stale}#{siret}"}},
    )  # fmt: skip
    assert directory.search("l'atelier", None, 10, None)[0] == []
    seeded = len(items(settings().structure_table))

    rc, out, _ = run(capsys, "--only", "names", "--dry-run")
    assert rc == 0 and out.splitlines()[-1] == f"names: scanned {seeded}, would change 1, already done " \
        f"{seeded - 1}, conflicts 0"  # fmt: skip
    assert StructureRecord.get(siret, consistent_read=True).name_key == stale

    rc, out, _ = run(capsys, "--only", "names")
    assert rc == 0 and f"names: scanned {seeded}, changed 1, already done {seeded - 1}, conflicts 0" in out
    record = StructureRecord.get(siret, consistent_read=True)
    expected = structure_to_record(directory.structure(siret))
    assert (record.name_key, record.name_initial, record.name_sort) == (
        expected.name_key, expected.name_initial, expected.name_sort)  # fmt: skip
    assert record.updated_at == "2026-11-20T10:00:00Z"
    assert [s.siret for s in directory.search("l'atelier", None, 10, None)[0]] == [siret]

    rc, out, _ = run(capsys, "--only", "names")
    assert rc == 0 and f"changed 0, already done {seeded}, conflicts 0" in out


def test_a_structure_keyed_with_a_ligature_is_found_by_its_spelt_out_letters_once_migrated(stage, aws, capsys):
    """Review r54 F4: keys stored before œ æ ß ø ł đ were spelt out keep them until written again."""
    directory = DynamoDirectory()
    siret = "12345678900011"
    directory.put_structure(Structure(siret, "Œuvres Sociales", ("recipient",), updated_at="2026-11-20T10:00:00Z"))
    stale = "œuvres sociales"  # as the fold before 2026-11-28 10:00 left it
    dynamodb().update_item(
        TableName=settings().structure_table, Key={"siret": {"S": siret}},
        UpdateExpression="SET name_key = :k, name_initial = :i, name_sort = :s",
        ExpressionAttributeValues={":k": {"S": stale}, ":i": {"S": "œ"}, ":s": {"S": f"{stale}#{siret}"}},
    )  # fmt: skip
    assert directory.search("oeuvres", None, 10, None)[0] == []

    rc, out, _ = run(capsys, "--only", "names")
    assert rc == 0 and ", changed 1, " in out
    record = StructureRecord.get(siret, consistent_read=True)
    assert (record.name_key, record.name_initial) == ("oeuvres sociales", "o")
    assert [s.siret for s in directory.search("oeuvres", None, 10, None)[0]] == [siret]


def test_every_step_runs_in_order_and_a_second_run_changes_nothing(stage, client, pump, capsys):
    deposited(client, pump, "F-MIG-ALL")
    forget_expires(settings().invoice_table)
    rc, out, _ = run(capsys)
    assert rc == 0
    lines = [line for line in out.splitlines() if "scanned" in line]
    assert [line.split(":")[0] for line in lines] == ["names", "claims", "expires"]
    assert "expires: scanned 2, changed 1, already done 1, conflicts 0" in out
    rc, out, _ = run(capsys)
    assert rc == 0 and all(", changed 0," in line for line in out.splitlines())


def throttling(operation: str) -> ClientError:
    return ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, operation)


def test_throttling_is_retried_and_a_lasting_failure_says_where_it_stopped(stage, client, pump, capsys, monkeypatch):
    invoice_id = deposited(client, pump, "f-mig-thr")
    move_claim(claim_key(invoice_id), "old-key")
    real_get, calls = DynamoInvoiceRepository.get, []

    def get(self, wanted):
        calls.append(wanted)
        if len(calls) <= 2:
            raise throttling("GetItem")
        return real_get(self, wanted)

    monkeypatch.setattr(DynamoInvoiceRepository, "get", get)
    waits = []
    tally = migrate.Migration(sleep=waits.append).claims()
    assert waits == [0.5, 1.0] and (tally.changed, tally.conflicts) == (1, 0)
    assert set(claims()) == {claim_key(invoice_id)}

    move_claim(claim_key(invoice_id), "old-key")
    denied = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}}, "GetItem")
    monkeypatch.setattr(DynamoInvoiceRepository, "get", lambda self, wanted: (_ for _ in ()).throw(denied))
    rc, out, err = run(capsys, "--only", "claims")
    assert rc == 1 and "scanned" not in out
    assert err.startswith("claims: changed 0; failed at claim old-key (An error occurred (AccessDeniedException)")
    assert err.rstrip().endswith("in chorale-dev; the steps after it were not run: run again once fixed")
    assert set(claims()) == {"old-key"}  # nothing half-done


def test_the_stage_s_tables_and_retention(aws):
    real = migrate.stage_environment
    assert real("prod", "eu-west-3") == {
        "AWS_REGION": "eu-west-3",
        "INVOICE_TABLE": "chorale-prod-invoices",
        "NUMBER_TABLE": "chorale-prod-invoice-numbers",
        "FLOW_TABLE": "chorale-prod-flows",
        "STRUCTURE_TABLE": "chorale-prod-structures",
        "SUBSCRIPTION_TABLE": "chorale-prod-subscriptions",
    }
    lambda_client = boto3.client("lambda")
    with pytest.raises(SystemExit, match="no RETENTION_DAYS in chorale-prod-PublishStatusEvents's environment"):
        real("prod", "eu-west-3", lambda_client)
    role = boto3.client("iam").create_role(RoleName="publisher", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lambda_client.create_function(
        FunctionName="chorale-prod-PublishStatusEvents", Runtime="python3.11", Role=role, Handler="app.handler",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18}, Environment={"Variables": {"RETENTION_DAYS": "3650"}},
    )  # fmt: skip
    assert real("prod", "eu-west-3", lambda_client)["RETENTION_DAYS"] == "3650"
