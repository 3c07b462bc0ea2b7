"""Deposit controls after EN 16931: who sends, to whom, with which references; duplicates, atomically."""

from __future__ import annotations

import json
import threading
from urllib.parse import quote

import pytest
from demo import ADMIN_KEY, CHR_KEY, MAIRIE_KEY, SUPPLIER2_KEY, SUPPLIER_KEY, auth
from invoices import CHR_SIRET, MAIRIE_SIRET, SUPPLIER2_SIRET, SUPPLIER_SIRET, ubl_invoice
from processing_support import process_original

from chalicelib.adapters.invoice_repository import DynamoInvoiceRepository
from chalicelib.domain.directory import Structure

XML = {"Content-Type": "application/xml"}
JSON = {"Content-Type": "application/json"}
UNKNOWN_SIRET = "55203253400646"  # Luhn-valid, not in the demo directory


def deposit_and_process(client, pump, body: bytes, key: str = SUPPLIER_KEY) -> dict:
    created = json.loads(client.http.post("/v1/invoices", headers=auth(key, **XML), body=body).body)
    while pump.deliver_sqs_once("validate_invoices"):
        pass
    return json.loads(client.http.get(f"/v1/invoices/{created['id']}", headers=auth(key)).body)


def history(client, invoice_id: str, key: str = SUPPLIER_KEY) -> list[dict]:
    return json.loads(client.http.get(f"/v1/invoices/{invoice_id}/history", headers=auth(key)).body)["history"]


@pytest.mark.parametrize(
    "body, key, reason, term",
    [
        (ubl_invoice(seller=SUPPLIER2_SIRET), SUPPLIER_KEY, "REJ_UNI", "BT-30"),  # issue 4's contract
        (ubl_invoice(buyer=UNKNOWN_SIRET), SUPPLIER_KEY, "REJ_ADR", "BT-47"),
        # a supplier-only structure, not the depositor (else buyer-is-the-supplier refuses it first: r60)
        (
            ubl_invoice(seller=SUPPLIER2_SIRET, buyer=SUPPLIER_SIRET, service_code=None),
            SUPPLIER2_KEY,
            "REJ_ADR",
            "BT-47",
        ),  # fmt: skip
        (ubl_invoice(service_code=None), SUPPLIER_KEY, "REJ_ADR", "BT-10"),
        (ubl_invoice(service_code="NOPE"), SUPPLIER_KEY, "REJ_ADR", "BT-10"),
        (ubl_invoice(service_code="SERV-FERME"), SUPPLIER_KEY, "REJ_ADR", "BT-10"),
        (ubl_invoice(service_code="SERV-ECOLES"), SUPPLIER_KEY, "REJ_CONT_B2G", "BT-13"),
        (ubl_invoice(buyer=CHR_SIRET, service_code=None), SUPPLIER_KEY, "REJ_CONT_B2G", "BT-13"),
        # review finding: a structure with both roles could invoice itself, then approve and pay it alone
        (
            ubl_invoice(seller=SUPPLIER2_SIRET, buyer=SUPPLIER2_SIRET, service_code=None),
            SUPPLIER2_KEY,
            "REJ_ADR",
            "BT-47",
        ),  # fmt: skip
    ],
    ids=[
        "seller-is-not-depositor",
        "unknown-buyer",
        "buyer-not-recipient",
        "service-code-missing",
        "service-code-unknown",
        "service-inactive",
        "service-needs-engagement",
        "structure-needs-engagement",
        "buyer-is-the-supplier",
    ],
)
def test_each_control_rejects_213_with_its_reason_naming_the_business_term(client, pump, body, key, reason, term):
    invoice = deposit_and_process(client, pump, body, key)
    assert invoice["status"]["code"] == 213
    [entry] = history(client, invoice["id"], key)
    assert entry["reason_code"] == reason and term in entry["comment"]
    assert invoice["errors"][0]["severity"] == "fatal" and term in invoice["errors"][0]["message"]
    assert invoice["errors"][0]["location"].startswith("/")


@pytest.mark.parametrize(
    "body",
    [
        ubl_invoice(service_code="SERV-TECH"),
        ubl_invoice(service_code="SERV-ECOLES", engagement="EJ-2026-77"),
        ubl_invoice(buyer=CHR_SIRET, service_code=None, engagement="EJ-CHR-1"),
    ],
    ids=["service", "service-with-engagement", "structure-with-engagement"],
)
def test_invoices_that_pass_every_control_reach_203(client, pump, body):
    assert deposit_and_process(client, pump, body)["status"]["code"] == 203


def test_deactivated_recipient_takes_effect_for_the_next_deposit(client, pump):
    assert deposit_and_process(client, pump, ubl_invoice("F-BEFORE"))["status"]["code"] == 203
    response = client.http.patch(
        f"/v1/admin/structures/{MAIRIE_SIRET}",
        headers=auth(ADMIN_KEY, **{"Content-Type": "application/json"}),
        body=json.dumps({"active": False}),
    )
    assert response.status_code == 200 and json.loads(response.body)["active"] is False
    after = deposit_and_process(client, pump, ubl_invoice("F-AFTER"))
    assert after["status"]["code"] == 213 and "inactive" in after["errors"][0]["message"]


def test_same_number_same_year_is_a_duplicate_but_not_after_a_rejection(client, pump):
    first = deposit_and_process(client, pump, ubl_invoice("F-DUP-1"))
    assert first["status"]["code"] == 203
    again = deposit_and_process(client, pump, ubl_invoice("F-DUP-1", quantity="3"))
    assert again["status"]["code"] == 213
    assert history(client, again["id"])[0]["reason_code"] == "DOUBLON"
    year_before = deposit_and_process(client, pump, ubl_invoice("F-DUP-1", issue_date="2025-01-05"))
    assert year_before["status"]["code"] == 203
    other_supplier = deposit_and_process(client, pump, ubl_invoice("F-DUP-1", seller=SUPPLIER2_SIRET), SUPPLIER2_KEY)
    assert other_supplier["status"]["code"] == 203
    rejected = deposit_and_process(client, pump, ubl_invoice("F-DUP-2", service_code=None))
    assert rejected["status"]["code"] == 213  # a rejected invoice holds no number
    assert deposit_and_process(client, pump, ubl_invoice("F-DUP-2"))["status"]["code"] == 203


def test_of_two_concurrent_deposits_of_one_number_exactly_one_survives(client, pump, aws):
    ids = [
        json.loads(client.http.post("/v1/invoices", headers=auth(SUPPLIER_KEY, **XML), body=body).body)["id"]
        for body in (ubl_invoice("F-RACE"), ubl_invoice("F-RACE", quantity="5"))
    ]
    from chalicelib.entrypoints import dependencies as deps
    from chalicelib.services import layout

    barrier = threading.Barrier(2)
    real_claim = DynamoInvoiceRepository.claim_number

    def synchronized_claim(claim_number, invoice_id):
        barrier.wait(timeout=10)  # both workers reach the atomic claim at the same moment
        return real_claim(claim_number, invoice_id)

    DynamoInvoiceRepository.claim_number = staticmethod(synchronized_claim)
    try:
        threads = [
            threading.Thread(
                target=process_original,
                args=(layout.original_key(invoice_id),),
                kwargs={"invoices": deps.invoices(), "originals": deps.originals(), "directory": deps.directory()},
            )
            for invoice_id in ids
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        DynamoInvoiceRepository.claim_number = staticmethod(real_claim)
    codes = sorted(DynamoInvoiceRepository().get(i).status.code for i in ids)
    assert codes == [203, 213]
    loser = next(i for i in ids if DynamoInvoiceRepository().get(i).status.code == 213)
    assert DynamoInvoiceRepository().get(loser).history[-1].reason_code == "DOUBLON"


def test_a_recipient_key_cannot_deposit_even_naming_itself_as_seller(client, pump):
    response = client.http.post("/v1/invoices", headers=auth(CHR_KEY, **XML), body=ubl_invoice(seller=CHR_SIRET))
    assert response.status_code == 403


def test_a_buyer_identifier_too_long_for_a_directory_key_is_an_unknown_recipient_not_a_crash(client, pump,
                                                                                            monkeypatch):  # fmt: skip
    """A hostile BT-46/BT-47 of 3,000 digits is over DynamoDB's 2 KB key limit (a ValidationException there: the
    invoice would fail processing until the DLQ). Moto does not enforce it, so the directory is made to refuse
    any look-up that is not a SIRET's shape, as DynamoDB would for this one."""
    from chalicelib.adapters.tables import StructureRecord

    real_get, real_batch_get = StructureRecord.get, StructureRecord.batch_get

    def checked(real):
        def look_up(keys, *args, **kwargs):
            for key in keys if isinstance(keys, list) else [keys]:
                assert len(key.encode()) <= 2048, "DynamoDB: hash key over 2048 bytes"
            return real(keys, *args, **kwargs)

        return look_up

    monkeypatch.setattr(StructureRecord, "get", checked(real_get))
    monkeypatch.setattr(StructureRecord, "batch_get", checked(real_batch_get))
    invoice = deposit_and_process(client, pump, ubl_invoice("F-LONG-BUYER", buyer="1" * 3000))
    assert invoice["processing"] == "done" and invoice["status"]["code"] == 213
    assert history(client, invoice["id"])[-1]["reason_code"] == "REJ_ADR"  # not in the directory
    assert client.http.get("/v1/structures/" + "1" * 3000, headers=auth(SUPPLIER_KEY)).status_code == 404


def test_name_keys_and_searches_stay_within_dynamodb_s_key_limits(client, monkeypatch):
    """DynamoDB refuses a sort-key condition or a sort key over 1,024 bytes (a 500 there; moto does not enforce
    it). A name whose folded form is longer (NFKD expands U+FDFA to 33 letters) is stored cut, and found."""
    from chalicelib.adapters.tables import StructureRecord

    real_query = StructureRecord.by_name.query

    def checked(initial, range_key_condition=None, **kwargs):
        assert len(str(range_key_condition).encode()) < 1200, "DynamoDB: sort key condition over 1,024 bytes"
        return real_query(initial, range_key_condition=range_key_condition, **kwargs)

    monkeypatch.setattr(StructureRecord.by_name, "query", checked)
    found = client.http.get("/v1/structures?q=" + "mairie" * 400, headers=auth(SUPPLIER_KEY))
    assert found.status_code == 200 and json.loads(found.body)["items"] == []
    normal = json.loads(client.http.get("/v1/structures?q=mairie", headers=auth(SUPPLIER_KEY)).body)
    assert [s["siret"] for s in normal["items"]] == [MAIRIE_SIRET]

    from chalicelib.adapters.directory import structure_to_record

    expanded = structure_to_record(Structure("21750000100029", "\ufdfa" * 200, roles=("recipient",)))
    assert len(expanded.name_sort.encode()) <= 1024  # a structure with such a name can be stored
    expanded.save()
    whole = client.http.get("/v1/structures?q=" + quote("\ufdfa" * 200), headers=auth(SUPPLIER_KEY))
    assert [s["siret"] for s in json.loads(whole.body)["items"]] == ["21750000100029"]


def test_a_structure_that_declares_services_refuses_an_unknown_service_code(client, pump):
    """Reference §3 #8: the service code must exist and be active, even where none is required."""
    url = f"/v1/admin/structures/{CHR_SIRET}/services/SERV-URGENCES"
    declared = client.http.put(url, headers=auth(ADMIN_KEY, **JSON), body=json.dumps({"name": "Urgences"}))
    assert declared.status_code == 200, declared.body
    unknown = deposit_and_process(client, pump, ubl_invoice("SVC-1", buyer=CHR_SIRET, service_code="NO-SUCH",
                                                            engagement="EJ-1"))  # fmt: skip
    assert unknown["status"]["code"] == 213
    [entry] = history(client, unknown["id"])
    assert entry["reason_code"] == "REJ_ADR" and "'NO-SUCH' is an unknown service" in entry["comment"]
    known = deposit_and_process(client, pump, ubl_invoice("SVC-2", buyer=CHR_SIRET, service_code="SERV-URGENCES",
                                                          engagement="EJ-1"))  # fmt: skip
    assert known["status"]["code"] == 203
    bare = ubl_invoice("SVC-3", buyer=CHR_SIRET, service_code=None, engagement="EJ-1")
    none = deposit_and_process(client, pump, bare)
    assert none["status"]["code"] == 203  # the CHR does not require a service code


def test_a_structure_without_declared_services_takes_any_buyer_reference(client, pump):
    """In B2B, BT-10 is a free buyer reference: a structure that declares no services accepts any."""
    invoice = deposit_and_process(client, pump, ubl_invoice("SVC-4", buyer=CHR_SIRET, service_code="REF-LIBRE-42",
                                                            engagement="EJ-1"))  # fmt: skip
    assert invoice["status"]["code"] == 203 and invoice["recipient"]["service_code"] == "REF-LIBRE-42"


def test_a_450_kb_invoice_number_is_a_213_naming_bt_1_not_a_poison_message(client, pump):
    """Review r1 §1: stored as sent, a 450 KB BT-1 took the record over DynamoDB's 400 KB (3 receives, DLQ, no 213)."""
    invoice = deposit_and_process(client, pump, ubl_invoice("9" * 450_000))
    assert invoice["processing"] == "done" and invoice["status"]["code"] == 213
    assert invoice["errors"][0]["rule"] == "CHORALE-LENGTH" and "450000 characters" in invoice["errors"][0]["message"]
    assert len(invoice["number"]) == 200
    download = client.http.get(f"/v1/invoices/{invoice['id']}/file", headers=auth(SUPPLIER_KEY))
    assert download.status_code == 302 and len(download.headers["Location"]) < 2000
    assert f"{invoice['id']}.xml" in download.headers["Location"]


def test_an_impossible_issue_date_is_refused_at_deposit_in_json_and_at_processing_in_xml(client, pump):
    from structured_invoices import json_invoice

    document = json_invoice("J-FEB30")
    document["issue_date"] = "2026-02-30"
    refused = client.http.post("/v1/invoices", headers=auth(SUPPLIER_KEY, **JSON), body=json.dumps(document))
    assert refused.status_code == 422 and refused.headers["Content-Type"] == "application/problem+json"
    assert json.loads(refused.body)["errors"][0]["pointer"] == "/issue_date"
    for _ in range(2):  # twice: never a 203 without a number claim
        invoice = deposit_and_process(client, pump, ubl_invoice("F-FEB30", issue_date="2026-02-30"))
        assert invoice["status"]["code"] == 213 and invoice["errors"][0]["rule"] == "CHORALE-ISSUE-DATE"


@pytest.mark.parametrize("number", [" ", "\u00a0", "\u200b", "\u2060\ufeff"], ids=["space", "nbsp", "zwsp", "wj-bom"])
def test_a_ubl_number_with_no_visible_character_is_refused_every_time_it_is_sent(client, pump, number):
    """Review r28 §1, §3: EN 16931's BR-02 takes `<cbc:ID> </cbc:ID>`; it was 203 with no number and no claim, so
    each re-send was accepted again."""
    for _ in range(2):
        invoice = deposit_and_process(client, pump, ubl_invoice(number))
        assert invoice["status"]["code"] == 213
        [error] = [e for e in invoice["errors"] if e["rule"] == "CHORALE-NUMBER"]
        assert error["message"].startswith("BT-1 Invoice number") and error["location"].endswith("cbc:ID")
        [entry] = history(client, invoice["id"])
        assert entry["reason_code"] == "REJ_SEMAN" and "BT-1" in entry["comment"]


WINDOWS_1252_HINT = (
    "; in a document declared ISO-8859-1, U+0080 to U+009F usually mean it is written in windows-1252: declare "
    'encoding="windows-1252".'
)


def declared(encoding: str, xml: bytes, written_in: str = "cp1252") -> bytes:
    """A UTF-8 test document declared `encoding` but written in `written_in`, as many ERPs export."""
    return xml.decode().replace('encoding="UTF-8"', f'encoding="{encoding}"', 1).encode(written_in)


@pytest.mark.parametrize("encoding", ["ISO-8859-1", "latin1"])
def test_a_windows_1252_number_declared_iso_8859_1_is_refused_with_a_hint_at_its_encoding(client, pump, encoding):
    """Review r54 F6: the ’ (byte 0x92) of a windows-1252 export is read, as XML says, as U+0092; the message said
    only "a control or bidirectional override character", which the supplier could not act on."""
    invoice = deposit_and_process(client, pump, declared(encoding, ubl_invoice("FAC’2026-1")))
    assert invoice["status"]["code"] == 213 and invoice["number"] == "FAC\x922026-1"  # read as declared
    [error] = [e for e in invoice["errors"] if e["rule"] == "CHORALE-NUMBER"]
    assert error["message"] == (
        "BT-1 Invoice number holds U+0092, a control or bidirectional override character: it would not display as "
        "it reads" + WINDOWS_1252_HINT
    )
    blank = deposit_and_process(client, pump, declared(encoding, ubl_invoice("“”")))
    assert [e["message"] for e in blank["errors"] if e["rule"] == "CHORALE-NUMBER"] == [
        "BT-1 Invoice number has no visible character (only U+0093, U+0094)" + WINDOWS_1252_HINT
    ]


@pytest.mark.parametrize(
    "encoding, hint",
    [
        ("UTF-8", ""),  # U+0092 written as such: no code page to blame
        ("ISO-8859-15", WINDOWS_1252_HINT.replace("ISO-8859-1", "ISO-8859-15")),
        ("ISO-8859-2", "; in a document declared ISO-8859-2, U+0080 to U+009F usually mean it is written in a Windows "
                       'code page: send it in UTF-8, or declare encoding="windows-1252" if it is that one.'),
    ],
)  # fmt: skip
def test_a_c1_number_gets_the_code_page_hint_in_a_document_declared_in_any_iso_8859_part(client, pump, encoding, hint):
    """Review r59 F6: only ISO-8859-1 got the hint; ISO-8859-15 (French, for €) and every other part also read 0x80
    to 0x9F as C1 controls."""
    invoice = deposit_and_process(client, pump, declared(encoding, ubl_invoice("FAC\x922026-1"), encoding))
    [error] = [e for e in invoice["errors"] if e["rule"] == "CHORALE-NUMBER"]
    assert error["message"].endswith("it would not display as it reads" + (hint or "."))


def test_a_number_re_sent_with_an_invisible_character_is_a_duplicate_kept_as_sent(client, pump):
    """Review r29 §1: 'F-X' and 'F-X\u200b' look the same on screen; both were 203, so the payer could pay twice."""
    first = deposit_and_process(client, pump, ubl_invoice("F-X"))
    assert first["status"]["code"] == 203
    again = deposit_and_process(client, pump, ubl_invoice("F-X\u200b"))
    assert again["status"]["code"] == 213 and again["number"] == "F-X\u200b"
    assert history(client, again["id"])[0]["reason_code"] == "DOUBLON"
    assert deposit_and_process(client, pump, ubl_invoice("\u2060F-X"))["status"]["code"] == 213


def test_a_number_of_a_hangul_filler_is_refused(client, pump):
    """Review r29 §7: U+3164 is a letter (Lo) that shows nothing; it was 203 and claimed."""
    invoice = deposit_and_process(client, pump, ubl_invoice("\u3164"))
    assert invoice["status"]["code"] == 213 and invoice["errors"][0]["rule"] == "CHORALE-NUMBER"


@pytest.mark.parametrize("engagement", ["\u200b", "\ufeff", "\u2060", "\u00a0\u200b"], ids=["zwsp", "bom", "wj", "mix"])
def test_a_required_engagement_of_invisible_characters_is_rej_cont_b2g_and_kept_as_sent(client, pump, engagement):
    """Review r28 §3: str.strip() keeps U+200B, U+2060 and U+FEFF, so such a BT-13 passed as present."""
    invoice = deposit_and_process(client, pump, ubl_invoice("F-EJ-BLANK", buyer=CHR_SIRET, service_code=None,
                                                            engagement=engagement))  # fmt: skip
    assert invoice["status"]["code"] == 213 and invoice["engagement_number"] == engagement.strip()
    assert history(client, invoice["id"])[0]["reason_code"] == "REJ_CONT_B2G"


def test_a_required_service_code_of_invisible_characters_is_missing(client, pump):
    invoice = deposit_and_process(client, pump, ubl_invoice("F-SC-BLANK", service_code="\u200b"))
    assert invoice["status"]["code"] == 213 and "is required" in invoice["errors"][0]["message"]


@pytest.mark.parametrize("field", ["service_code", "engagement_number"])
def test_a_reroute_body_reference_of_invisible_characters_is_a_422(client, pump, field):
    invoice = deposit_and_process(client, pump, ubl_invoice(f"F-RR-{field}"))
    url = f"/v1/invoices/{invoice['id']}/status"
    assert client.http.post(url, headers=auth(MAIRIE_KEY, **JSON), body=json.dumps({"code": 221})).status_code == 200
    url = f"/v1/invoices/{invoice['id']}/reroute"
    refused = client.http.post(url, headers=auth(SUPPLIER_KEY, **JSON), body=json.dumps({field: "\u200b\ufeff"}))
    detail = json.loads(refused.body)["detail"]
    assert refused.status_code == 422 and field in detail and "visible character" in detail
    current = json.loads(client.http.get(f"/v1/invoices/{invoice['id']}", headers=auth(SUPPLIER_KEY)).body)
    assert current["status"]["code"] == 221


def test_a_ubl_with_two_amounts_due_is_213_cardinality_and_with_one_203(client, pump):
    """Review r48 finding 4: EN 16931's schematron takes two cbc:PayableAmount; the record kept the first."""
    payable = '<cbc:PayableAmount currencyID="EUR">120.00</cbc:PayableAmount>'
    single = ubl_invoice("F-CARD-1").decode()
    assert single.count(payable) == 1
    twice = ubl_invoice("F-CARD-2").decode().replace(payable, payable + payable.replace("120.00", "1.20"))
    invoice = deposit_and_process(client, pump, twice.encode())
    assert invoice["status"]["code"] == 213
    [error] = [e for e in invoice["errors"] if e["severity"] == "fatal"]
    assert error["rule"] == "CHORALE-CARDINALITY" and error["message"].startswith("BT-115 Amount due for payment")
    assert error["location"] == "/ubl:Invoice/cac:LegalMonetaryTotal/cbc:PayableAmount[2]"
    assert history(client, invoice["id"])[0]["reason_code"] == "REJ_SEMAN"
    assert deposit_and_process(client, pump, single.encode())["status"]["code"] == 203


def test_a_json_invoice_with_two_buyer_identifiers_is_a_422_at_deposit(client):
    """Review r48 finding 5: it was taken (202), then its UBL rendition failed UBL-SR-16 (213)."""
    from structured_invoices import json_invoice

    document = json_invoice("J-TWO-BUYER-IDS")
    document["buyer"]["identifiers"] = [{"id": MAIRIE_SIRET, "scheme": "0009"}, {"id": "B-2", "scheme": "0088"}]
    refused = client.http.post("/v1/invoices", headers=auth(SUPPLIER_KEY, **JSON), body=json.dumps(document))
    assert refused.status_code == 422 and refused.headers["Content-Type"] == "application/problem+json"
    assert [e["pointer"] for e in json.loads(refused.body)["errors"]] == ["/buyer/identifiers"]
