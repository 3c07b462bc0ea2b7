"""The structure directory and API keys in DynamoDB."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from pynamodb.exceptions import DeleteError, DoesNotExist, PutError

from ..domain.directory import Service, Structure, name_position, search_key
from ..services.errors import ConcurrentUpdate, Conflict, Unprocessable
from .tables import (
    DYNAMODB_ITEM_BYTES,
    ApiKeyRecord,
    ServiceAttribute,
    StructureRecord,
    is_conditional_failure,
    is_item_too_large,
    item_bytes,
)

WRITERS = 16  # parallel conditional writes of an import (up to 1 000 structures)


def _looks_like_siret(value: object) -> bool:
    """Only 14-digit keys are ever stored (the directory checks SIRETs before writing)."""
    return isinstance(value, str) and len(value) == 14 and value.isascii() and value.isdigit()


def structure_from_record(record: StructureRecord) -> Structure:
    return Structure(
        siret=record.siret,
        name=record.name,
        roles=tuple(record.roles or ()),  # type: ignore[arg-type]
        active=bool(record.active),
        requires_service_code=bool(record.requires_service_code),
        requires_engagement=bool(record.requires_engagement),
        services=tuple(
            Service(s.code, s.name, bool(s.active), bool(s.requires_engagement)) for s in record.services or []
        ),
        updated_at=record.updated_at,
        version=record.version,
    )


def name_initial(name_key: str) -> str:
    return name_key[:1] or "_"


def structure_to_record(structure: Structure) -> StructureRecord:
    key = search_key(structure.name)
    record = StructureRecord(
        structure.siret,
        name=structure.name,
        name_key=key,
        name_initial=name_initial(key),
        name_sort=name_position(structure),
        roles=list(structure.roles),
        active=structure.active,
        requires_service_code=structure.requires_service_code,
        requires_engagement=structure.requires_engagement,
        services=[
            ServiceAttribute(code=s.code, name=s.name, active=s.active, requires_engagement=s.requires_engagement)
            for s in structure.services
        ],
        updated_at=structure.updated_at or "",
    )
    if structure.version is not None:  # a new record has none: its first write makes it 1
        record.version = structure.version
    return record


def _structure_full(sirets: list[str]) -> Unprocessable:
    which = f"Structure {sirets[0]}" if len(sirets) == 1 else f"Structures {', '.join(sirets)}"
    return Unprocessable(
        f"{which} cannot take this change: the record would be over the 400 KB the platform can store for one "
        "structure (its services, with their names and codes). Nothing was written.",
        reason="structure_full",
        sirets=sirets,
    )


class DynamoDirectory:
    def structure(self, siret: str) -> Structure | None:
        if not _looks_like_siret(siret):
            return None  # never stored; and a hostile identifier may be too long for a DynamoDB key (2 KB)
        try:
            return structure_from_record(StructureRecord.get(siret, consistent_read=True))
        except DoesNotExist:
            return None

    def siret_for_key(self, key_hash: str, *, consistent: bool = False) -> str | None:
        try:
            return ApiKeyRecord.get(key_hash, consistent_read=consistent).siret
        except DoesNotExist:
            return None

    def put_structure(self, structure: Structure, *, create_only: bool = False) -> None:
        """Write the structure if its record is still at the version it was read at (a new one: if there is none
        yet); ConcurrentUpdate when another write came first (Conflict, for a create, when it exists). A write
        that landed but whose answer was lost counts as done."""
        record = structure_to_record(structure)
        try:
            record.save(condition=StructureRecord.siret.does_not_exist() if create_only else None)
        except PutError as exc:
            if is_item_too_large(exc):  # refused whole, nothing written: the change is refused, never a 500
                raise _structure_full([structure.siret]) from None
            # botocore retries a write whose answer was lost, and the retry fails its condition on our own item;
            # or every retry timed out after the write landed. Either way the write may be ours: look.
            if self._structure_landed(structure):
                return
            if not is_conditional_failure(exc):
                raise
            if create_only:
                raise Conflict(f"Structure {structure.siret} already exists.") from None
            raise ConcurrentUpdate(f"Structure {structure.siret} was changed by another request.") from None

    @staticmethod
    def _structure_landed(structure: Structure) -> bool:
        """Whether the stored record is this very write: its content (updated_at is this request's) at the version
        the write gave it."""
        try:
            stored = StructureRecord.get(structure.siret, consistent_read=True)
        except Exception:  # noqa: BLE001 - gone, or unreadable: the write's own error is the one to answer
            return False
        written = structure_to_record(structure).serialize()
        written["version"] = {"N": str((structure.version or 0) + 1)}
        return stored.serialize() == written

    def structures(self, sirets: list[str], *, consistent: bool = True) -> dict[str, Structure]:
        """The existing structures among `sirets`, by SIRET (BatchGetItem, 100 keys a request)."""
        sirets = [s for s in sirets if _looks_like_siret(s)]
        if not sirets:
            return {}
        records = StructureRecord.batch_get(sirets, consistent_read=consistent)
        return {r.siret: structure_from_record(r) for r in records}

    def key_owners(self, key_hashes: list[str]) -> dict[str, str]:
        """The SIRET each of the `key_hashes` already authenticates as, for those that exist (BatchGetItem)."""
        if not key_hashes:
            return {}
        return {
            r.key_hash: r.siret for r in ApiKeyRecord.batch_get(list(dict.fromkeys(key_hashes)), consistent_read=True)
        }

    def put_structures(self, structures: list[Structure], api_keys: list[tuple[str, str, str]] = ()) -> list[str]:
        """Write (key hash, siret, created_at) keys, each only if the key is new or already the structure's (a
        conditional PutItem: a key never moves to another structure, even in a race with another write), then the
        structures, each only if still at the version it was read at (as put_structure; parallel PutItems, the
        same write units as a batch, which cannot be conditional). Returns the SIRETs of the structures changed
        by another request since they were read: not written, to be merged again. When a key belongs to another
        structure, the keys this call wrote are deleted again and nothing else is written (Conflict)."""
        # A record DynamoDB would refuse as too large is refused before anything is written: an import is checked
        # whole, not left half written at the first structure over 400 KB.
        oversized = [s.siret for s in structures if item_bytes(structure_to_record(s)) > DYNAMODB_ITEM_BYTES]
        if oversized:
            raise _structure_full(oversized)
        written: list[tuple[str, str]] = []
        for key_hash, siret, created_at in api_keys:
            try:
                self.put_api_key(key_hash, siret, created_at)
            except Conflict:
                for done_hash, done_siret in written:
                    self.delete_api_key(done_hash, done_siret)
                raise
            written.append((key_hash, siret))

        def write(structure: Structure) -> str | None:
            try:
                self.put_structure(structure)
            except ConcurrentUpdate:
                return structure.siret
            return None

        if not structures:
            return []
        with ThreadPoolExecutor(max_workers=min(WRITERS, len(structures))) as pool:
            return [siret for siret in pool.map(write, structures) if siret is not None]

    def search(
        self, name_prefix: str, role: str | None, limit: int, after: str | None
    ) -> tuple[list[Structure], str | None]:
        """Structures whose folded name starts with the folded prefix, by name; `after` is the cursor: the
        `name_sort` of the last structure returned, where the next page starts (exclusively)."""
        prefix = search_key(name_prefix)  # within DynamoDB's key condition limit (domain.directory)
        initial = name_initial(prefix)
        start = None
        if after:
            # The cursor is "<name_key>#<siret>": with the index keys it is the query's exclusive start key.
            siret = after.rpartition("#")[2]
            start = {"siret": {"S": siret}, "name_initial": {"S": initial}, "name_sort": {"S": after}}
        results = StructureRecord.by_name.query(
            initial,
            range_key_condition=StructureRecord.name_sort.startswith(prefix),
            filter_condition=StructureRecord.roles.contains(role) if role else None,
            last_evaluated_key=start,
            limit=limit + 1,  # one more than the page: is there a next page?
            page_size=max(limit + 1, 25),
        )
        found = list(results)
        page = found[:limit]
        return [structure_from_record(r) for r in page], (page[-1].name_sort if len(found) > limit else None)

    def put_api_key(self, key_hash: str, siret: str, created_at: str) -> None:
        """Register a key for `siret` unless it already authenticates as another structure (Conflict then). A
        write that landed but whose answer was lost (every retry timed out) counts as done."""
        try:
            ApiKeyRecord(key_hash, siret=siret, created_at=created_at).save(
                condition=ApiKeyRecord.key_hash.does_not_exist() | (ApiKeyRecord.siret == siret)
            )
        except PutError as exc:
            if is_conditional_failure(exc):
                raise Conflict(
                    "An API key being registered already belongs to another structure; nothing was imported."
                ) from None
            if not self._key_landed(key_hash, siret, created_at):
                raise

    @staticmethod
    def _key_landed(key_hash: str, siret: str, created_at: str) -> bool:
        try:
            stored = ApiKeyRecord.get(key_hash, consistent_read=True)
        except Exception:  # noqa: BLE001 - gone, or unreadable: the write's own error is the one to answer
            return False
        return (stored.siret, stored.created_at) == (siret, created_at)

    def delete_api_key(self, key_hash: str, siret: str) -> None:
        """Delete the key if it is `siret`'s (another structure's, or none: nothing is done)."""
        try:
            ApiKeyRecord(key_hash).delete(condition=ApiKeyRecord.siret == siret)
        except DeleteError as exc:
            if not is_conditional_failure(exc):
                raise  # an outage (a 500): the key still authenticates as the structure its row named, no other
            # else: no longer this structure's key, not ours to remove

    def api_keys(self, siret: str) -> list[tuple[str, str]]:
        """(key hash, created_at) of a structure's keys (services.directory derives the public key id)."""
        return [(r.key_hash, r.created_at) for r in ApiKeyRecord.by_structure.query(siret)]

    def revoke_api_key(self, siret: str, key_hash: str) -> bool:
        try:
            record = ApiKeyRecord.get(key_hash)
        except DoesNotExist:
            return False
        if record.siret != siret:
            return False
        try:
            record.delete()
        except DeleteError:
            if not self._key_gone(key_hash):  # else the delete landed, its answer lost: revoked
                raise
        return True

    @staticmethod
    def _key_gone(key_hash: str) -> bool:
        try:
            ApiKeyRecord.get(key_hash, consistent_read=True)
        except DoesNotExist:
            return True
        except Exception:  # noqa: BLE001 - unreadable: the delete's own error is the one to answer
            return False
        return False
