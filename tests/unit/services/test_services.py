"""Use cases over in-memory ports: deposit, processing, controls, queries (no AWS)."""

from __future__ import annotations

import pytest
from fakes import FakeDirectory, FakeInvoices, FakeObjectStore
from invoices import MAIRIE_SIRET, SUPPLIER_SIRET, invalid_ubl_invoice, ubl_invoice
from processing_support import process_original

from chalicelib.domain.directory import Principal, Service, Structure
from chalicelib.services import layout
from chalicelib.services.deposit import deposit_invoice
from chalicelib.services.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from chalicelib.services.queries import visible_invoice

SUPPLIER = Principal(SUPPLIER_SIRET, "Atelier", ("supplier",))
RECIPIENT = Principal(MAIRIE_SIRET, "Mairie", ("recipient",))
DIRECTORY = FakeDirectory(
    Structure(SUPPLIER_SIRET, "Atelier", ("supplier",)),
    Structure(MAIRIE_SIRET, "Mairie", ("recipient",), requires_service_code=True,
              services=(Service("SERV-TECH", "Services techniques"),)),
)  # fmt: skip


@pytest.fixture
def ports():
    return FakeInvoices(), FakeObjectStore()


def deposit(ports, body=None, principal=SUPPLIER, content_type="application/xml", **kwargs):
    invoices, originals = ports
    return deposit_invoice(principal, body if body is not None else ubl_invoice(), content_type,
                           invoices=invoices, originals=originals, max_bytes=100_000, **kwargs)  # fmt: skip


def process(ports, invoice_id):
    invoices, originals = ports
    return process_original(
        layout.original_key(invoice_id), invoices=invoices, originals=originals, directory=DIRECTORY
    )


def test_deposit_stores_the_original_and_no_record(ports):
    invoice = deposit(ports)
    stored = ports[1].get(layout.original_key(invoice.id))
    assert stored.data == ubl_invoice() and stored.metadata[layout.META_SUPPLIER] == SUPPLIER_SIRET
    assert invoice.processing == "pending" and invoice.format == "ubl" and invoice.status is None
    assert ports[0].records == {}  # processing writes the record once, with its decision
    assert layout.deposited(invoice.id, ports[1]) == invoice  # until then the original tells what it is


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"principal": RECIPIENT}, Forbidden),
        ({"content_type": "application/json"}, UnsupportedMediaType),
        ({"body": b""}, InvalidInput),
        ({"body": b"<x" * 60_000}, PayloadTooLarge),
        ({"body": b"<Invoice/>"}, InvalidInput),
    ],
)
def test_deposit_refusals_store_nothing(ports, kwargs, error):
    with pytest.raises(error):
        deposit(ports, **kwargs)
    assert ports[1].objects == {} and ports[0].records == {}


def test_idempotent_deposit(ports):
    """The key's record is the original: its id is derived from (supplier, key), and it is written only if absent."""
    new = []  # what the API counts (InvoicesDeposited): a replay is not a new deposit (review finding)
    first = deposit(ports, idempotency_key="k1", on_new=new.append)
    assert deposit(ports, idempotency_key="k1", on_new=new.append).id == first.id
    assert [i.id for i in new] == [first.id]
    with pytest.raises(Conflict):
        deposit(ports, body=ubl_invoice("OTHER"), idempotency_key="k1")
    assert len(ports[1].objects) == 1


def test_processing_decides_once(ports):
    invoice = deposit(ports)
    decided = process(ports, invoice.id)
    assert decided.status.code == 203 and decided.recipient_name == "Mairie"
    again = process(ports, invoice.id)
    assert again.version == decided.version and again.history == decided.history


def test_processing_rejects_en16931_failures_with_findings(ports):
    invoice = process(ports, deposit(ports, body=invalid_ubl_invoice()).id)
    assert invoice.status.code == 213 and invoice.history[-1].reason_code == "REJ_SEMAN"
    assert "BR-CO-16" in {e.rule for e in invoice.errors}


def test_processing_writes_the_record_from_the_original(ports):
    invoice = deposit(ports)
    decided = process(ports, invoice.id)
    assert (
        decided.status.code == 203 and decided.supplier_siret == SUPPLIER_SIRET and decided.supplier_name == "Atelier"
    )


def test_duplicate_number_is_refused_atomically(ports):
    first = process(ports, deposit(ports).id)
    second = process(ports, deposit(ports).id)
    assert first.status.code == 203 and second.status.code == 213
    assert second.history[-1].reason_code == "DOUBLON"


def test_only_parties_see_an_invoice(ports):
    invoice = process(ports, deposit(ports).id)
    assert visible_invoice(RECIPIENT, invoice.id, invoices=ports[0]).id == invoice.id
    with pytest.raises(NotFound):
        visible_invoice(Principal("13000123400017", "CHR", ("recipient",)), invoice.id, invoices=ports[0])
    with pytest.raises(NotFound):
        visible_invoice(SUPPLIER, "not-an-id", invoices=ports[0])


def test_writes_re_authenticate_behind_a_cached_authorization():
    from dataclasses import replace

    from chalicelib.domain.directory import hash_api_key
    from chalicelib.services.authentication import require_active
    from chalicelib.services.errors import Unauthenticated

    keys = {
        hash_api_key("supplier-key-0123456789"): SUPPLIER_SIRET,
        hash_api_key("mairie-key-0123456789"): MAIRIE_SIRET,
    }
    directory = FakeDirectory(*(DIRECTORY.structure(s) for s in (SUPPLIER_SIRET, MAIRIE_SIRET)), keys=keys)
    assert require_active(SUPPLIER, directory, "Bearer supplier-key-0123456789").siret == SUPPLIER_SIRET
    inactive = FakeDirectory(replace(DIRECTORY.structure(SUPPLIER_SIRET), active=False), keys=keys)
    revoked = FakeDirectory(DIRECTORY.structure(SUPPLIER_SIRET), keys={})
    for directory_now, authorization in (
        (inactive, "Bearer supplier-key-0123456789"),  # deactivated
        (revoked, "Bearer supplier-key-0123456789"),  # key revoked, structure still active
        (directory, "Bearer mairie-key-0123456789"),  # another structure's key than the cached answer's
        (directory, None),
    ):
        with pytest.raises(Unauthenticated):
            require_active(SUPPLIER, directory_now, authorization)


def _changes(count: int, steps: int) -> list:
    """`count` stream changes, each adding `steps` history entries to an invoice."""
    from chalicelib.domain.invoice import HistoryEntry, Invoice

    changes = []
    for n in range(count):
        after = Invoice(id=f"01J{n:023d}", supplier_siret=SUPPLIER_SIRET, supplier_name="S", format="ubl",
                        content_type="application/xml", original_key="k", original_size=1, original_sha256="0",
                        created_at="2026-11-26T00:00:00Z", updated_at="2026-11-26T00:00:00Z")  # fmt: skip
        after.history = [HistoryEntry(200 + s, f"2026-11-26T00:00:0{s}Z", "platform") for s in range(steps)]
        changes.append((None, after))
    return changes


class ChunkPublisher:
    """Records each publish call; fails the calls whose number is in `failing`."""

    def __init__(self, failing=()):
        self.calls, self.failing = [], set(failing)

    def publish(self, events) -> None:
        if len(self.calls) in self.failing:
            self.calls.append(None)
            raise RuntimeError("SNS is down")
        self.calls.append([e.event_id for e in events])


def test_a_stream_batch_is_published_ten_events_per_call_in_order():
    from chalicelib.services.publishing import publish_committed_changes

    publisher = ChunkPublisher()
    published, unpublished = publish_committed_changes(_changes(7, 2), publisher=publisher)
    assert unpublished is None and [len(c) for c in publisher.calls] == [10, 4]
    ids = [e.event_id for e in published]
    assert ids == [i for call in publisher.calls for i in call] and len(set(ids)) == 14
    assert ids[:3] == ["01J" + "0" * 23 + "-0", "01J" + "0" * 23 + "-1", "01J" + "0" * 22 + "1-0"]


def test_a_failed_publication_resumes_at_the_first_change_not_fully_published():
    from chalicelib.services.publishing import publish_committed_changes

    # 3 events per change: the second call (events 10..19) starts inside change 3 (events 9, 10, 11).
    published, unpublished = publish_committed_changes(_changes(9, 3), publisher=ChunkPublisher(failing={1}))
    assert len(published) == 10 and unpublished == 3
    nothing, first = publish_committed_changes(_changes(2, 1), publisher=ChunkPublisher(failing={0}))
    assert nothing == [] and first == 0


class CountingInvoices(FakeInvoices):
    def __init__(self):
        super().__init__()
        self.writes = []

    def save(self, invoice, claim_number=None) -> None:
        super().save(invoice, claim_number)
        self.writes.append("save")  # written (a refused claim writes nothing)


def test_a_missing_record_is_written_once_with_its_decision(ports):
    _, originals = ports
    invoices = CountingInvoices()
    reference = process(ports, deposit(ports).id)
    lost = deposit((invoices, originals), body=ubl_invoice("F-LOST-1"))
    assert invoices.writes == []
    decided = process((invoices, originals), lost.id)
    assert invoices.writes == ["save"] and invoices.records[lost.id].version == 1
    assert [h.code for h in decided.history] == [h.code for h in reference.history]


def test_a_missing_record_with_a_taken_number_is_rejected_as_duplicate(ports):
    invoices, _ = ports
    process(ports, deposit(ports).id)
    second = deposit(ports)
    decided = process(ports, second.id)
    assert decided.status.code == 213 and decided.history[-1].reason_code == "DOUBLON"
    assert invoices.records[second.id].status.code == 213


def _bundle(originals, flow_id: str, bodies: list[bytes]) -> tuple[str, list[str]]:
    """A flow's bundle as the expansion writes it: (its key, the member invoice ids)."""
    import hashlib

    from chalicelib.formats import bundles
    from chalicelib.services.flows import member_invoice_id

    ids = [member_invoice_id(flow_id, n) for n in range(1, len(bodies) + 1)]
    members = [
        bundles.BundleMember(invoice_id, body, {
            layout.META_INVOICE_ID: invoice_id, layout.META_SUPPLIER: SUPPLIER_SIRET, layout.META_FORMAT: "ubl",
            layout.META_SHA256: hashlib.sha256(body).hexdigest(), layout.META_RECEIVED_AT: "2026-11-26T10:00:00Z",
            layout.META_FLOW_ID: flow_id, layout.META_FLOW_FILE: f"file#{n:05d}", layout.META_MEDIA: "application/xml"})
        for n, (invoice_id, body) in enumerate(zip(ids, bodies, strict=True), start=1)
    ]  # fmt: skip
    key = layout.bundle_key(flow_id, 1)
    originals.put(key, bundles.write_bundle(members), bundles.MEDIA_TYPE, {})
    return key, ids


FLOW = "01JDZ8Q6XW0000000000000000"


def test_a_bundle_s_invoices_are_each_decided_once_where_they_lie():
    from chalicelib.services.processing import process_object

    invoices, originals = CountingInvoices(), FakeObjectStore()
    bodies = [ubl_invoice("B-1"), invalid_ubl_invoice("B-2"), ubl_invoice("B-1")]  # the third repeats a number
    key, ids = _bundle(originals, FLOW, bodies)
    processed = process_object(key, invoices=invoices, originals=originals, directory=DIRECTORY)
    decided = processed.invoices
    assert [i.id for i in decided] == ids and invoices.writes == ["save"] * 3
    assert processed.decided_now == decided
    assert [i.status.code for i in decided] == [203, 213, 213]
    assert decided[2].history[-1].reason_code == "DOUBLON"
    data = originals.objects[key].data
    for invoice, body in zip(decided, bodies, strict=True):
        assert invoice.original_key == key and invoice.flow_id == FLOW
        assert data[invoice.original_offset : invoice.original_offset + invoice.original_size] == body
    assert [i.flow_file for i in decided] == ["file#00001", "file#00002", "file#00003"]

    invoices.writes.clear()  # the message again: nothing changes
    again = process_object(key, invoices=invoices, originals=originals, directory=DIRECTORY)
    assert invoices.writes == [] and [i.version for i in again.invoices] == [1, 1, 1]
    assert again.decided_now == []  # metrics count each invoice once


def test_an_invoice_another_delivery_decided_first_is_not_counted_again(ports):
    from chalicelib.services.processing import process_object

    invoices, originals = ports
    invoice = deposit(ports)
    key = layout.original_key(invoice.id)

    class RacedInvoices(FakeInvoices):
        """The other delivery of the message saves its decision while ours validates."""

        def save(self, invoice, claim_number=None):
            if not self.records:
                rival = FakeInvoices()
                process_object(key, invoices=rival, originals=originals, directory=DIRECTORY)
                self.records.update(rival.records)
            super().save(invoice, claim_number)

    raced = RacedInvoices()
    processed = process_object(key, invoices=raced, originals=originals, directory=DIRECTORY)
    assert [i.status.code for i in processed.invoices] == [203] and processed.decided_now == []
    assert raced.records[invoice.id].version == 1  # the rival's decision stands, written once


def test_giving_up_on_a_bundle_flags_only_its_undecided_invoices():
    from chalicelib.services.processing import mark_failed

    invoices, originals = FakeInvoices(), FakeObjectStore()
    key, ids = _bundle(originals, FLOW, [ubl_invoice("B-3"), ubl_invoice("B-4")])
    failed = mark_failed(key, invoices=invoices, originals=originals, directory=DIRECTORY)
    assert [i.id for i in failed] == ids and {invoices.records[i].processing for i in ids} == {"failed"}
    assert mark_failed(key, invoices=invoices, originals=originals, directory=DIRECTORY) == []


def test_a_bundled_original_is_downloaded_from_its_own_copy():
    from chalicelib.services.processing import process_object
    from chalicelib.services.queries import original_download_url

    invoices, originals = FakeInvoices(), FakeObjectStore()
    body = ubl_invoice("B-5")
    key, [invoice_id] = _bundle(originals, FLOW, [body])
    process_object(key, invoices=invoices, originals=originals, directory=DIRECTORY)
    url = original_download_url(SUPPLIER, invoice_id, invoices=invoices, originals=originals)
    assert url.startswith(f"https://download.invalid/{layout.download_key(invoice_id)}?")
    assert originals.objects[layout.download_key(invoice_id)].data == body


def test_a_flow_file_reports_its_invoice_s_first_decision():
    from chalicelib.domain.flows import FlowFile
    from chalicelib.domain.invoice import HistoryEntry
    from chalicelib.services.flows import file_outcome

    invoices, originals = FakeInvoices(), FakeObjectStore()
    ports_ = (invoices, originals)
    accepted = process(ports_, deposit(ports_).id)
    accepted.history.append(HistoryEntry(205, "2026-12-01T00:00:00Z", "recipient"))  # approved later
    rejected = process(ports_, deposit(ports_, body=invalid_ubl_invoice("F-BAD-1")).id)
    pending = deposit(ports_, body=ubl_invoice("F-PEND-1"))
    failed = deposit(ports_, body=ubl_invoice("F-FAIL-1"))
    failed.fail("2099-11-26T12:00:00Z")  # after its deposit, on the real clock

    files = {name: FlowFile(f"file#{n}", name, "x") for n, name in enumerate(("a", "r", "p", "f", "missing"))}
    for name, invoice in (("a", accepted), ("r", rejected), ("p", pending), ("f", failed), ("missing", None)):
        file_outcome(files[name], invoice)
    assert (files["a"].outcome, files["a"].status_code, files["a"].errors) == ("accepted", 203, [])
    assert files["a"].decided_at == accepted.history[1].at  # not the later approval
    assert (files["r"].outcome, files["r"].status_code) == ("rejected", 213)
    assert files["r"].errors and {e.severity for e in files["r"].errors} == {"fatal"}
    assert files["p"].outcome == files["missing"].outcome == "pending"
    assert files["f"].outcome == "rejected" and files["f"].decided_at == "2099-11-26T12:00:00Z"


def test_a_bundle_reads_each_structure_of_the_directory_once():
    from chalicelib.services.processing import process_object

    class CountingDirectory(FakeDirectory):
        def __init__(self):
            super().__init__(*DIRECTORY.structures.values())
            self.lookups = []

        def structure(self, siret):
            self.lookups.append(siret)
            return super().structure(siret)

    invoices, originals, directory = FakeInvoices(), FakeObjectStore(), CountingDirectory()
    key, _ = _bundle(originals, FLOW, [ubl_invoice(f"B-D-{n}") for n in range(4)])
    decided = process_object(key, invoices=invoices, originals=originals, directory=directory).invoices
    assert [i.status.code for i in decided] == [203] * 4
    assert sorted(directory.lookups) == sorted(set(directory.lookups)) and MAIRIE_SIRET in directory.lookups


def test_one_failing_invoice_does_not_hold_back_its_bundle():
    from chalicelib.services.processing import BundleIncomplete, mark_failed, process_object
    from chalicelib.validation import validate as real_validate

    invoices, originals = FakeInvoices(), FakeObjectStore()
    key, ids = _bundle(originals, FLOW, [ubl_invoice("B-P-1"), ubl_invoice("B-P-POISON"), ubl_invoice("B-P-3")])

    def validate(xml: bytes):
        if b"B-P-POISON" in xml:
            raise MemoryError("a poison invoice")
        return real_validate(xml)

    with pytest.raises(BundleIncomplete) as incomplete:
        process_object(key, invoices=invoices, originals=originals, directory=DIRECTORY, validate=validate)
    assert [i.id for i in incomplete.value.processed.decided_now] == [ids[0], ids[2]]  # counted by this attempt
    assert invoices.records[ids[0]].status.code == invoices.records[ids[2]].status.code == 203
    assert ids[1] not in invoices.records
    failed = mark_failed(key, invoices=invoices, originals=originals, directory=DIRECTORY)  # the last attempt
    assert [i.id for i in failed] == [ids[1]] and invoices.records[ids[1]].processing == "failed"

    redriven = process_object(key, invoices=invoices, originals=originals, directory=DIRECTORY)  # after the fix
    assert [i.id for i in redriven.decided_now] == [ids[1]]  # decided over its failed record; the others stand
    assert [invoices.records[i].status.code for i in ids] == [203, 203, 203]
    assert [invoices.records[i].version for i in ids] == [1, 2, 1]


def test_a_first_delivery_reads_no_record_and_a_redelivery_changes_nothing():
    """Records are written once, with their decision: a first delivery saves with a conditional create instead of
    reading each invoice's record first (a consistent read per invoice)."""
    from chalicelib.services.processing import process_object

    class ReadCountingInvoices(CountingInvoices):
        reads = 0

        def get(self, invoice_id):
            self.reads += 1
            return super().get(invoice_id)

    invoices, originals = ReadCountingInvoices(), FakeObjectStore()
    key, ids = _bundle(originals, FLOW, [ubl_invoice("B-R-1"), invalid_ubl_invoice("B-R-2"), ubl_invoice("B-R-1")])
    first = process_object(key, invoices=invoices, originals=originals, directory=DIRECTORY)
    assert invoices.reads == 0 and invoices.writes == ["save"] * 3 and len(first.decided_now) == 3
    records = {i: invoices.records[i] for i in ids}

    again = process_object(key, invoices=invoices, originals=originals, directory=DIRECTORY)
    assert invoices.writes == ["save"] * 3 and again.decided_now == [] and invoices.records == records
    assert [i.status.code for i in again.invoices] == [203, 213, 213]
    assert invoices.reads == 3  # only where the create met the earlier decision

    def no_validation(xml):
        raise AssertionError("a decided invoice validated again")

    looked = process_object(
        key, invoices=invoices, originals=originals, directory=DIRECTORY, validate=no_validation, look_first=True
    )  # fmt: skip  (a redelivered message: records read first)
    assert [i.id for i in looked.invoices] == ids and looked.decided_now == [] and invoices.reads == 6


def test_a_bundled_original_is_copied_out_once_and_an_archived_bundle_is_a_clear_conflict():
    from chalicelib.services.errors import Archived
    from chalicelib.services.processing import process_object
    from chalicelib.services.queries import original_download_url

    class CountingOriginals(FakeObjectStore):
        puts = 0

        def put(self, key, data, content_type, metadata) -> None:
            self.puts += 1
            super().put(key, data, content_type, metadata)

    invoices, originals = FakeInvoices(), CountingOriginals()
    key, [first, second] = _bundle(originals, FLOW, [ubl_invoice("B-6"), ubl_invoice("B-7")])
    process_object(key, invoices=invoices, originals=originals, directory=DIRECTORY)
    before = originals.puts
    original_download_url(SUPPLIER, first, invoices=invoices, originals=originals)
    original_download_url(SUPPLIER, first, invoices=invoices, originals=originals)
    assert originals.puts == before + 1  # the second download reuses the copy

    def archived(*args):
        raise Archived("in the deep archive")

    originals.get_range = archived
    with pytest.raises(Archived):
        original_download_url(SUPPLIER, second, invoices=invoices, originals=originals)


def test_a_very_long_invoice_number_is_claimed_by_its_hash_within_a_key_s_limit():
    from datetime import date

    from chalicelib.domain.invoice import InvoiceSummary
    from chalicelib.services.controls import number_claim_key

    def key(number: str) -> str:
        return number_claim_key(InvoiceSummary(number=number, issue_date=date(2026, 11, 20)), SUPPLIER_SIRET)

    assert key(" F-2026-001 ") == f"{SUPPLIER_SIRET}#2026#F-2026-001"  # as before: existing claims still match
    long_a, long_b = "9" * 3000, "9" * 2999 + "8"
    assert len(key(long_a).encode()) < 2048 and key(long_a).startswith(f"{SUPPLIER_SIRET}#2026#sha256:")
    assert key(long_a) == key(f"  {long_a}\n") and key(long_a) != key(long_b)  # still one claim per number
    # the threshold is in UTF-8 bytes, as the key's size: a number BT-1's 200 characters allow, of 3-byte characters
    assert key("€" * 85) == f"{SUPPLIER_SIRET}#2026#{'€' * 85}"  # 255 bytes: kept as it is
    assert key("€" * 86).startswith(f"{SUPPLIER_SIRET}#2026#sha256:")  # 258 bytes


def test_a_failed_publication_is_logged_once_with_its_traceback(caplog):
    import logging

    from chalicelib.services.publishing import publish_committed_changes

    with caplog.at_level(logging.INFO, logger="chalicelib.services.publishing"):
        published, unpublished = publish_committed_changes(_changes(9, 3), publisher=ChunkPublisher(failing={1}))
    assert len(published) == 10 and unpublished == 3  # the retry position is unchanged
    [record] = [r for r in caplog.records if r.name == "chalicelib.services.publishing"]
    assert record.levelno == logging.ERROR and "resuming at change 3" in record.getMessage()
    assert record.exc_info and isinstance(record.exc_info[1], RuntimeError)
    assert "SNS is down" in caplog.text and "Traceback" in caplog.text


class _CountingDirectory(FakeDirectory):
    def __init__(self, *structures):
        super().__init__(*structures)
        self.lookups = []

    def structure(self, siret):
        self.lookups.append(siret)
        return super().structure(siret)


def _without_supplier(**changes) -> _CountingDirectory:
    from dataclasses import replace

    return _CountingDirectory(
        replace(DIRECTORY.structure(SUPPLIER_SIRET), **changes), DIRECTORY.structure(MAIRIE_SIRET)
    )


@pytest.mark.parametrize(
    "changes, why", [({"active": False}, "was deactivated"), ({"roles": ("recipient",)}, "no longer has the supplier")]
)
def test_a_flow_s_invoices_of_a_depositor_no_longer_an_active_supplier_are_rejected(changes, why):
    """A ticket or a POST taken before the deactivation: the invoices are 213 REJ_COH, one supplier read a bundle."""
    from chalicelib.services.processing import process_object

    invoices, originals, directory = FakeInvoices(), FakeObjectStore(), _without_supplier(**changes)
    key, _ = _bundle(originals, FLOW, [ubl_invoice(f"B-X-{n}") for n in range(3)])
    decided = process_object(key, invoices=invoices, originals=originals, directory=directory).invoices
    assert [i.status.code for i in decided] == [213] * 3
    assert {i.history[-1].reason_code for i in decided} == {"REJ_COH"}
    assert all(why in i.history[-1].comment and i.errors[0].rule == "CHORALE-DEPOSITOR" for i in decided)
    assert directory.lookups.count(SUPPLIER_SIRET) == 1


def test_a_flow_original_alone_checks_its_depositor_with_the_read_it_already_does(ports):
    import hashlib

    invoices, originals = ports
    directory, body, invoice_id = _without_supplier(active=False), ubl_invoice("ALONE-1"), FLOW
    originals.put(layout.original_key(invoice_id), body, "application/xml", {
        layout.META_INVOICE_ID: invoice_id, layout.META_SUPPLIER: SUPPLIER_SIRET, layout.META_FORMAT: "ubl",
        layout.META_SHA256: hashlib.sha256(body).hexdigest(), layout.META_RECEIVED_AT: "2026-11-26T10:00:00Z",
        layout.META_FLOW_ID: FLOW, layout.META_FLOW_FILE: "file#00001"})  # fmt: skip
    invoice = process_original(layout.original_key(invoice_id), invoices=invoices, originals=originals,
                               directory=directory)  # fmt: skip
    assert invoice.status.code == 213 and invoice.history[-1].reason_code == "REJ_COH"
    assert directory.lookups.count(SUPPLIER_SIRET) == 1  # the supplier's name and its check share one read


def test_a_direct_deposit_costs_no_supplier_read_when_processed(ports):
    """Its route checked the depositor (require_active) a moment before: processing does not read it again."""
    invoices, originals = ports
    directory = _CountingDirectory(*DIRECTORY.structures.values())
    invoice = deposit(ports)
    decided = process_original(layout.original_key(invoice.id), invoices=invoices, originals=originals,
                               directory=directory)  # fmt: skip
    assert decided.status.code == 203 and SUPPLIER_SIRET not in directory.lookups


def test_status_changes_and_reroutes_check_their_own_fields(ports):
    """Both lifecycle use cases refuse unknown fields themselves (422 unknown_fields), whatever calls them, and
    change nothing; the status change applies once its body is clean."""
    from chalicelib.services import lifecycle
    from chalicelib.services.errors import Unprocessable

    invoice = process(ports, deposit(ports).id)
    assert invoice.status.code == 203
    invoices = ports[0]
    for use_case, body in (
        (lambda b: lifecycle.change_status(RECIPIENT, invoice.id, b, invoices=invoices), {"code": 204, "montant": 1}),
        (lambda b: lifecycle.reroute(SUPPLIER, invoice.id, b, invoices=invoices, directory=DIRECTORY), {"bogus": 1}),
    ):
        with pytest.raises(Unprocessable) as refused:
            use_case(body)
        assert refused.value.extra["unknown_fields"] == [k for k in body if k not in ("code",)]
    assert invoices.get(invoice.id).history == invoice.history
    changed = lifecycle.change_status(RECIPIENT, invoice.id, {"code": 204, "comment": None}, invoices=invoices)
    assert changed.status.code == 204 and invoices.get(invoice.id).status.code == 204


def test_processing_counts_the_findings_the_validation_did_not_list(ports):
    from chalicelib.validation import validate
    from chalicelib.validation.findings import MAX_FINDINGS_PER_RULE

    lines = b"<cac:InvoiceLine/>" * (MAX_FINDINGS_PER_RULE + 10)
    body = ubl_invoice().replace(b"</Invoice>", lines + b"</Invoice>")
    report = validate(body)
    assert report.omitted >= 10 * 5  # every empty line fails the same rules, each past its quota
    invoice = process(ports, deposit(ports, body=body).id)
    assert invoice.status.code == 213 and len(invoice.errors) == 100
    assert invoice.errors_truncated == len(report.findings) + report.omitted - 100


def test_an_unreadable_original_is_rejected_with_the_reader_s_detail(ports):
    from chalicelib.validation.engine import ValidationReport

    invoices, originals = ports
    invoice_id = deposit(ports).id
    unreadable = ValidationReport(error={"code": "too-many-nodes", "detail": "Over the node limit."})
    decided = process_original(
        layout.original_key(invoice_id), invoices=invoices, originals=originals, directory=DIRECTORY,
        validate=lambda data: unreadable,
    )  # fmt: skip
    assert decided.status.code == 213 and decided.history[-1].comment == "Over the node limit."


def test_an_invoice_whose_processing_failed_says_so_instead_of_wait_until_done(ports):
    """Review finding: a `processing: failed` invoice was told to wait until done (it never will be), and took
    attachments."""
    from chalicelib.services import lifecycle
    from chalicelib.services.errors import Conflict
    from chalicelib.services.processing import mark_failed

    invoices, originals = ports
    invoice = deposit(ports)
    [failed] = mark_failed(layout.original_key(invoice.id), invoices=invoices, originals=originals, directory=DIRECTORY)
    assert failed.processing == "failed"
    with pytest.raises(Conflict) as refused:
        lifecycle.change_status(SUPPLIER, invoice.id, {"code": 221}, invoices=invoices)
    assert refused.value.extra["reason"] == "processing_failed" and "operators" in refused.value.detail
    with pytest.raises(Conflict) as refused:
        lifecycle.add_attachment(SUPPLIER, invoice.id, "annexe.pdf", b"%PDF-1.7\n", invoices=invoices,
                                 originals=originals, max_bytes=1000, upload_route="/uploads")  # fmt: skip
    assert refused.value.extra["reason"] == "processing_failed"
