"""In-memory stand-ins for the ports: the service tests run without AWS."""

from __future__ import annotations

import copy
from collections.abc import Callable

from chalicelib.domain.directory import Structure
from chalicelib.services.errors import ConcurrentUpdate, Conflict, DuplicateNumber
from chalicelib.services.ports import InvoiceQuery, ObjectHead, StoredObject


class FakeInvoices:
    def __init__(self):
        self.records = {}
        self.claims: dict[str, str] = {}

    def get(self, invoice_id):
        found = self.records.get(invoice_id)
        return copy.deepcopy(found) if found else None

    def claim_number(self, claim_number, invoice_id) -> None:
        holder = self.claims.get(claim_number)
        if holder not in (None, invoice_id):
            raise DuplicateNumber(claim_number)
        self.claims[claim_number] = invoice_id

    def save(self, invoice, claim_number=None) -> None:
        if claim_number is not None:  # claimed first, kept if the record write fails: as DynamoInvoiceRepository
            self.claim_number(claim_number, invoice.id)
        stored = self.records.get(invoice.id)
        if (stored.version if stored else None) != invoice.version:  # a version-less save creates
            raise ConcurrentUpdate("changed")
        invoice.version = (invoice.version or 0) + 1
        self.records[invoice.id] = copy.deepcopy(invoice)

    def release_number(self, claim_number, invoice_id) -> bool:
        if self.claims.get(claim_number) != invoice_id:
            return False
        del self.claims[claim_number]
        return True

    def get_many(self, invoice_ids):
        return {i: copy.deepcopy(self.records[i]) for i in invoice_ids if i in self.records}

    def search(self, query: InvoiceQuery):
        raise NotImplementedError


class FakeObjectStore:
    def __init__(self):
        self.objects: dict[str, StoredObject] = {}
        self.retained: list[str] = []  # the keys given the legal retention after their upload
        self.unretained: list[str] = []  # the keys written with retain=False (to be locked later, or not)

    def put(self, key, data, content_type, metadata, *, retain=True) -> None:
        self.objects[key] = StoredObject(data, content_type, dict(metadata))
        if not retain:
            self.unretained.append(key)

    def put_if_absent(self, key, data, content_type, metadata, *, retain=True):
        if key in self.objects:
            return self.head(key)
        self.put(key, data, content_type, metadata, retain=retain)
        return None

    def get(self, key):
        return self.objects.get(key)

    def head(self, key):
        found = self.objects.get(key)
        return ObjectHead(len(found.data), found.content_type, dict(found.metadata)) if found else None

    def get_range(self, key, offset, length) -> bytes:
        return self.objects[key].data[offset : offset + length]

    def copy(self, source_key, key, *, retain=True) -> None:
        self.objects[key] = self.objects[source_key]
        if retain:
            self.retained.append(key)

    def retain(self, key, since=None) -> None:
        self.retained.append(key)

    def delete(self, key) -> None:
        self.objects.pop(key, None)

    def download_url(self, key, filename) -> str:
        return f"https://download.invalid/{key}?name={filename}"


class FakeDirectory:
    def __init__(self, *structures: Structure, keys: dict[str, str] | None = None):
        self.structures = {s.siret: s for s in structures}
        self.keys = dict(keys or {})

    def structure(self, siret):
        return self.structures.get(siret)

    def siret_for_key(self, key_hash, *, consistent=False):
        return self.keys.get(key_hash)


class FakeIdempotency:
    def __init__(self):
        self.results: dict[str, tuple[str, str]] = {}

    def run_once(self, key: str, fingerprint: str, action: Callable[[], str]) -> str:
        if key in self.results:
            first_fingerprint, result = self.results[key]
            if first_fingerprint != fingerprint:
                raise Conflict("other body")
            return result
        result = action()
        self.results[key] = (fingerprint, result)
        return result


class FakePublisher:
    def __init__(self):
        self.published = []

    def publish(self, events) -> None:
        self.published.extend(events)
