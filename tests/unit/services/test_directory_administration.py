"""Directory administration over an in-memory directory: imports update in place, unknown fields are refused."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chalicelib.domain.directory import Service, Structure, hash_api_key, luhn_ok
from chalicelib.services import directory as service
from chalicelib.services.directory import SYSTEM_ADMIN
from chalicelib.services.errors import ConcurrentUpdate, Conflict, PayloadTooLarge, Unprocessable

SIRET_A, SIRET_B = "55203253400646", "73282932000074"
SERVICES = (Service("SERV-TECH", "Services techniques"), Service("SERV-ECOLES", "Écoles", requires_engagement=True))


class MemoryDirectory:
    def __init__(self, *structures: Structure):
        self.records = {s.siret: s for s in structures}
        self.keys: dict[str, str] = {"h-existing": SIRET_A}
        self.writes = 0

    def structure(self, siret):
        return self.records.get(siret)

    def structures(self, sirets):
        return {s: self.records[s] for s in sirets if s in self.records}

    def put_structure(self, structure, *, create_only=False):
        self._store(structure, create_only)
        self.writes += 1  # written

    def _store(self, structure, create_only=False):
        """As DynamoDirectory: written only over the version it was read at."""
        stored = self.records.get(structure.siret)
        if create_only and stored is not None:
            raise Conflict("exists")
        if (stored.version if stored else None) != structure.version:
            raise ConcurrentUpdate("changed")
        self.records[structure.siret] = replace(structure, version=(structure.version or 0) + 1)

    def key_owners(self, key_hashes):
        return {h: self.keys[h] for h in key_hashes if h in self.keys}

    def put_structures(self, structures, api_keys=()):
        self.writes += 1
        self.keys.update({key_hash: siret for key_hash, siret, _ in api_keys})
        changed = []
        for structure in structures:
            try:
                self._store(structure)
            except ConcurrentUpdate:
                changed.append(structure.siret)
        return changed


@pytest.fixture
def directory():
    return MemoryDirectory(
        Structure(SIRET_A, "Mairie A", ("recipient",), requires_service_code=True, services=SERVICES, updated_at="t0")
    )


def many_sirets(count: int) -> list[str]:
    found, n = [], 44306184100000
    while len(found) < count:
        n += 1
        if luhn_ok(str(n)):
            found.append(str(n))
    return found


def test_a_csv_row_updates_an_existing_structure_in_place(directory):
    rows, places = service.structures_from_csv(
        f"siret,name,roles,active\n{SIRET_A},Mairie A renommée,,false\n{SIRET_B},Régie,recipient,\n"
    )
    service.import_structures(SYSTEM_ADMIN, rows, directory=directory, now=lambda: "t1", places=places)
    updated = directory.records[SIRET_A]
    assert updated.name == "Mairie A renommée" and updated.active is False  # carried by the row
    assert updated.services == SERVICES and updated.roles == ("recipient",)  # not carried: kept
    assert updated.requires_service_code is True and updated.updated_at == "t1"
    assert directory.keys["h-existing"] == SIRET_A
    assert directory.records[SIRET_B] == Structure(SIRET_B, "Régie", ("recipient",), updated_at="t1")


def test_a_json_row_replaces_the_fields_it_carries(directory):
    entries = [{"siret": SIRET_A, "services": [{"code": "NEW"}], "api_keys": ["another-key-of-mairie-a"]}]
    [imported] = service.import_structures(SYSTEM_ADMIN, entries, directory=directory, now=lambda: "t1")
    assert imported.name == "Mairie A" and [s.code for s in imported.services] == ["NEW"]
    assert directory.keys == {"h-existing": SIRET_A, hash_api_key("another-key-of-mairie-a"): SIRET_A}


def test_a_new_structure_still_needs_its_name_and_roles(directory):
    rows, places = service.structures_from_csv(f"siret,name,roles\n{SIRET_B},Régie,\n")
    with pytest.raises(Unprocessable, match="line 2: 'roles'"):
        service.import_structures(SYSTEM_ADMIN, rows, directory=directory, places=places)
    assert directory.writes == 0


def test_the_same_siret_twice_is_refused_before_anything_is_written(directory):
    csv = f"siret,name,roles\n{SIRET_B},Régie,recipient\n{SIRET_A},A,recipient\n{SIRET_B},Régie bis,recipient\n"
    with pytest.raises(Unprocessable) as refused:
        rows, places = service.structures_from_csv(csv)
        service.import_structures(SYSTEM_ADMIN, rows, directory=directory, places=places)
    assert SIRET_B in refused.value.detail and "line 2, line 4" in refused.value.detail
    assert refused.value.extra["duplicates"] == [{"siret": SIRET_B, "rows": ["line 2", "line 4"]}]
    assert directory.writes == 0 and SIRET_B not in directory.records


def test_the_same_key_twice_is_refused_without_showing_it(directory):
    entries = [
        {"siret": SIRET_A, "api_keys": ["a-key-given-twice-here"]},
        {"siret": SIRET_B, "name": "B", "roles": ["supplier"], "api_keys": ["a-key-given-twice-here"]},
    ]
    with pytest.raises(Unprocessable) as refused:
        service.import_structures(SYSTEM_ADMIN, entries, directory=directory)
    assert "structures[0], structures[1]" in refused.value.detail
    assert "a-key-given-twice-here" not in refused.value.detail and directory.writes == 0


def test_a_key_of_another_structure_is_refused_before_anything_is_written(directory):
    directory.keys[hash_api_key("the-key-of-mairie-a-0001")] = SIRET_A
    entries = [
        {"siret": SIRET_A, "name": "Mairie A"},
        {"siret": SIRET_B, "name": "Régie", "roles": ["recipient"], "api_keys": ["the-key-of-mairie-a-0001"]},
    ]
    with pytest.raises(Unprocessable, match=r"structures\[1\] \(a key of 55203253400646\)") as refused:
        service.import_structures(SYSTEM_ADMIN, entries, directory=directory)
    assert "the-key-of-mairie-a-0001" not in refused.value.detail
    assert directory.writes == 0 and directory.keys[hash_api_key("the-key-of-mairie-a-0001")] == SIRET_A
    service.import_structures(
        SYSTEM_ADMIN, [{"siret": SIRET_A, "api_keys": ["the-key-of-mairie-a-0001"]}], directory=directory
    )
    assert directory.keys[hash_api_key("the-key-of-mairie-a-0001")] == SIRET_A


def test_imports_are_capped(directory):
    rows = [{"siret": s, "name": "X", "roles": ["supplier"]} for s in many_sirets(service.MAX_IMPORT_ROWS + 1)]
    with pytest.raises(PayloadTooLarge, match="split the file"):
        service.import_structures(SYSTEM_ADMIN, rows, directory=directory)
    service.import_structures(SYSTEM_ADMIN, rows[:-1], directory=directory)
    assert directory.writes == 1 and len(directory.records) == service.MAX_IMPORT_ROWS + 1


@pytest.mark.parametrize("entry", [[], "x", {"name": "no siret"}, {"siret": ""}])
def test_malformed_rows_are_refused_with_their_place(directory, entry):
    with pytest.raises(Unprocessable, match=r"structures\[1\]"):
        service.import_structures(SYSTEM_ADMIN, [{"siret": SIRET_A}, entry], directory=directory)
    assert directory.writes == 0


def test_create_refuses_api_keys_and_unknown_fields(directory):
    body = {"siret": SIRET_B, "name": "B", "roles": ["supplier"]}
    with pytest.raises(Unprocessable, match=r"POST /v1/admin/structures/\{siret\}/api-keys") as refused:
        service.create_structure(SYSTEM_ADMIN, {**body, "api_keys": ["my-own-chosen-key"]}, directory=directory)
    assert "my-own-chosen-key" not in refused.value.detail
    with pytest.raises(Unprocessable, match=r"\['bogus', 'updated_at'\]") as refused:
        service.create_structure(SYSTEM_ADMIN, {**body, "bogus": 1, "updated_at": "x"}, directory=directory)
    assert refused.value.extra["unknown_fields"] == ["bogus", "updated_at"]
    assert directory.writes == 0


def test_update_refuses_unknown_fields(directory):
    with pytest.raises(Unprocessable, match="bogus"):
        service.update_structure(SYSTEM_ADMIN, SIRET_A, {"bogus": 1}, directory=directory)
    with pytest.raises(Unprocessable, match="colour"):
        service.update_structure(SYSTEM_ADMIN, SIRET_A, {"services": [{"code": "S", "colour": 1}]}, directory=directory)
    with pytest.raises(Unprocessable, match="colour"):
        service.put_service(SYSTEM_ADMIN, SIRET_A, "S", {"colour": "red"}, directory=directory)
    assert directory.writes == 0
    assert service.update_structure(SYSTEM_ADMIN, SIRET_A, {"siret": SIRET_A, "active": False}, directory=directory)


def test_an_administrator_is_no_structure(directory):
    from chalicelib.domain.directory import Principal
    from chalicelib.services.authentication import require_active, require_structure
    from chalicelib.services.errors import Forbidden

    assert SYSTEM_ADMIN.is_administrator and not Principal(SIRET_A, "A", ("recipient",)).is_administrator
    for check in (require_structure, lambda p: require_active(p, directory, "Bearer any-key")):
        with pytest.raises(Forbidden, match="administrator key cannot act as a structure"):
            check(SYSTEM_ADMIN)
    mairie = Principal(SIRET_A, "Mairie A", ("recipient",))
    assert require_structure(mairie) == mairie


def test_a_csv_saved_by_a_french_spreadsheet_reads_like_a_comma_separated_one():
    comma = service.structures_from_csv(f'siret,name,roles,active\n{SIRET_B},"Régie, eau",recipient,true\n')
    excel = service.structures_from_csv(f"\ufeffsiret;name;roles;active\r\n{SIRET_B};Régie, eau;recipient;true\r\n")
    assert excel == comma == ([{"siret": SIRET_B, "name": "Régie, eau", "roles": ["recipient"], "active": True}],
                              ["line 2"])  # fmt: skip


# --- concurrent administrators: a change is made again over the other's, never lost ---------------------------


class RacedDirectory(MemoryDirectory):
    """Another request writes `rival` to the structure right after the first read (of `structure` or
    `structures`), `times` times."""

    def __init__(self, *structures, rival, times=1):
        super().__init__(*structures)
        self.rival, self.times = rival, times

    def _race(self):
        if self.times:
            self.times -= 1
            self._store(self.rival(self.records[SIRET_A]))

    def structure(self, siret):
        found = super().structure(siret)
        self._race()
        return found

    def structures(self, sirets):
        found = super().structures(sirets)
        self._race()
        return found


def with_service(code):
    return lambda s: replace(s, services=(*s.services, Service(code, code)), updated_at="rival")


def base():
    return Structure(SIRET_A, "Mairie A", ("recipient",), services=SERVICES, updated_at="t0")


def test_an_update_made_while_another_administrator_adds_a_service_keeps_both():
    directory = RacedDirectory(base(), rival=with_service("RIVAL"))
    updated = service.update_structure(SYSTEM_ADMIN, SIRET_A, {"active": False}, directory=directory, now=lambda: "t1")
    stored = directory.records[SIRET_A]
    assert stored.active is False and updated.active is False
    assert [s.code for s in stored.services] == ["SERV-TECH", "SERV-ECOLES", "RIVAL"]  # the rival's service kept
    assert stored.version == 2  # the rival's write, then ours


def test_two_services_added_at_once_are_both_kept():
    directory = RacedDirectory(base(), rival=with_service("RIVAL"))
    service.put_service(SYSTEM_ADMIN, SIRET_A, "OURS", {"name": "Le nôtre"}, directory=directory, now=lambda: "t1")
    assert [s.code for s in directory.records[SIRET_A].services] == ["SERV-TECH", "SERV-ECOLES", "RIVAL", "OURS"]


def test_an_import_row_whose_structure_changed_meanwhile_is_merged_again_over_the_change():
    directory = RacedDirectory(base(), rival=with_service("RIVAL"))
    rows = [{"siret": SIRET_A, "name": "Mairie A renommée"}, {"siret": SIRET_B, "name": "B", "roles": ["supplier"]}]
    imported = service.import_structures(SYSTEM_ADMIN, rows, directory=directory, now=lambda: "t1")
    stored = directory.records[SIRET_A]
    assert stored.name == "Mairie A renommée" and [s.code for s in stored.services][-1] == "RIVAL"
    assert [s.siret for s in imported] == [SIRET_A, SIRET_B] and imported[0].services == stored.services
    assert directory.records[SIRET_B].name == "B" and directory.records[SIRET_B].version == 1  # written once


def test_a_structure_changed_by_others_at_every_attempt_gets_a_409_and_nothing_of_ours():
    directory = RacedDirectory(base(), rival=with_service("RIVAL"), times=service.WRITE_ATTEMPTS)
    with pytest.raises(ConcurrentUpdate, match="retry in a moment"):
        service.update_structure(SYSTEM_ADMIN, SIRET_A, {"active": False}, directory=directory)
    assert directory.records[SIRET_A].active is True and directory.writes == 0

    directory = RacedDirectory(base(), rival=with_service("RIVAL"), times=service.WRITE_ATTEMPTS)
    rows = [{"siret": SIRET_A, "name": "Renamed"}, {"siret": SIRET_B, "name": "B", "roles": ["supplier"]}]
    with pytest.raises(ConcurrentUpdate, match=r"\['55203253400646'\].*the other rows are imported"):
        service.import_structures(SYSTEM_ADMIN, rows, directory=directory)
    assert directory.records[SIRET_A].name == "Mairie A" and directory.records[SIRET_B].name == "B"


def test_a_service_stored_with_a_control_character_can_still_be_deactivated():
    """Review r29: PUT merged the stored name into the body, so the control-character check (new) refused it as
    sent, and a legacy service could not be deactivated without renaming it. A name sent is still checked."""
    legacy = Structure(SIRET_A, "Mairie A", ("recipient",), services=(Service("ACH", "Achats\tNord"),))
    directory = MemoryDirectory(legacy)
    updated = service.put_service(SYSTEM_ADMIN, SIRET_A, "ACH", {"active": False}, directory=directory)
    assert updated.service("ACH").active is False and updated.service("ACH").name == "Achats\tNord"
    with pytest.raises(Unprocessable, match="control character"):
        service.put_service(SYSTEM_ADMIN, SIRET_A, "ACH", {"name": "Achats\tSud"}, directory=directory)


class SearchableDirectory:
    def __init__(self, structures):
        self.found = structures

    def search(self, query, role, limit, after):
        return self.found[:limit], "cursor-after-the-whole-page"


def test_a_structure_search_page_stops_within_the_byte_budget(monkeypatch):
    """Review r31: a page lists each structure's services (up to 1,000): 20 full structures were ~8 MB, over Lambda's
    6 MB answer (a 502 at that cursor forever). The page stops within PAGE_BYTES, its cursor after its last one."""
    from chalicelib.domain.directory import name_position
    from chalicelib.services.paging import decode_cursor

    monkeypatch.setattr(service, "PAGE_BYTES", 3_000_000)
    structures = [Structure(s, f"Mairie {i}", ("recipient",)) for i, s in enumerate(many_sirets(5))]
    directory = SearchableDirectory(structures)
    found, cursor = service.search_structures({"q": "mairie"}, directory=directory, item_bytes=lambda s: 1_400_000)
    assert found == structures[:2] and decode_cursor(cursor) == name_position(structures[1])
    found, cursor = service.search_structures({"q": "mairie"}, directory=directory, item_bytes=lambda s: 4_000_000)
    assert found == structures[:1] and decode_cursor(cursor) == name_position(structures[0])  # one, even too big
    found, cursor = service.search_structures({"q": "mairie"}, directory=directory, item_bytes=lambda s: 100)
    assert found == structures and decode_cursor(cursor) == "cursor-after-the-whole-page"


def test_a_structure_stored_over_the_services_cap_can_be_trimmed_but_not_grown(monkeypatch):
    """Review r31: 1,100 services (stored before the cap) trimmed to 1,050 was refused; only growing past it is."""
    monkeypatch.setattr(service, "MAX_SERVICES", 3)
    many = tuple(Service(f"S{i}", f"Service {i}") for i in range(5))
    existing = Structure(SIRET_A, "Mairie A", ("recipient",), services=many)
    trimmed = [{"code": s.code, "name": s.name} for s in many[:4]]
    assert len(service.structure_from({"services": trimmed}, "t1", existing).services) == 4
    with pytest.raises(Unprocessable, match="at most 3 services"):
        service.structure_from({"services": [*trimmed, *trimmed[:2], {"code": "S9", "name": "9"}]}, "t1", existing)


@pytest.mark.parametrize("override", ["\u202e", "\u202a", "\u2066", "\u2069"])
def test_a_name_with_a_bidirectional_override_is_refused(override):
    """A right-to-left override makes "Mairie A\u202eNIHCAM" display reversed: a supplier or service name could pass
    for another in every listing. Names are one line of plain text, so these characters are refused."""
    directory = MemoryDirectory(base())
    with pytest.raises(Unprocessable, match=f"bidirectional override \\(U\\+{ord(override):04X}\\)"):
        service.update_structure(SYSTEM_ADMIN, SIRET_A, {"name": f"Mairie A{override}x"}, directory=directory)
    with pytest.raises(Unprocessable, match="bidirectional override"):
        service.put_service(SYSTEM_ADMIN, SIRET_A, "ACH", {"name": f"Achats{override}"}, directory=directory)
    assert directory.records[SIRET_A].name == "Mairie A"
    arabic = "بلدية"  # right-to-left letters themselves are names like any other
    assert service.update_structure(SYSTEM_ADMIN, SIRET_A, {"name": arabic}, directory=directory).name == arabic
    # review r38: with the direction marks Word puts in such text (they reorder nothing, unlike the overrides)
    marked = "\u200fبلدية 2026\u200e\u061c"
    assert service.update_structure(SYSTEM_ADMIN, SIRET_A, {"name": marked}, directory=directory).name == marked


def test_la_poste_head_office_is_created_and_a_bad_la_poste_siret_is_told_its_rule(directory):
    """Review r57 F3: La Poste's head office keeps the Luhn key, its digit sum (26) is no multiple of 5; the other
    La Poste establishments' SIRETs are checked by their digit sum, which the refusal names."""
    created = service.create_structure(
        SYSTEM_ADMIN, {"siret": "35600000000048", "name": "La Poste", "roles": ["recipient"]}, directory=directory
    )
    assert created.siret in directory.records
    with pytest.raises(Unprocessable, match="La Poste's establishments: a digit sum that is a multiple of 5"):
        service.create_structure(
            SYSTEM_ADMIN, {"siret": "35600000000016", "name": "La Poste", "roles": ["recipient"]}, directory=directory
        )


@pytest.mark.parametrize(
    "header, member, value",
    [
        ("siret,name,roles,requires_engagment", "unknown_fields", ["requires_engagment"]),
        ("siret,name,roles,actif,services", "unknown_fields", ["actif", "services"]),
        ("siret,name,roles,active, Active ", "repeated_columns", ["active"]),
    ],
)
def test_a_csv_header_cell_the_import_does_not_know_or_repeats_is_refused(header, member, value):
    """Review r57 F1: an unknown column was dropped without a word (the change it carried lost, and a 200)."""
    with pytest.raises(Unprocessable) as refused:
        service.structures_from_csv(f"{header}\n{SIRET_A},A,recipient,false,true\n")
    assert refused.value.extra[member] == value


def test_a_csv_header_is_read_without_regard_to_case_or_surrounding_spaces():
    rows, _ = service.structures_from_csv(f"SIRET; Name ;ROLES;Active;\n{SIRET_A};A;recipient;non\n")
    assert rows == [{"siret": SIRET_A, "name": "A", "roles": ["recipient"], "active": False}]
    with pytest.raises(Unprocessable, match="column 2 has no name"):
        service.structures_from_csv(f"siret,,name,roles\n{SIRET_A},x,A,recipient\n")


def test_an_unnamed_last_csv_column_is_named_as_unnamed_when_a_row_fills_it():
    """Review r59 F5: it got "4 cells where the header has 3 columns (a separator inside a cell that is not
    quoted?)" where an unnamed middle column gets "has no name". Empty in every row, it stays a trailing separator."""
    with pytest.raises(Unprocessable, match=r"column 4 has no name \(line 3 has data under it\)"):
        service.structures_from_csv(f"siret,name,roles,\n{SIRET_A},A,recipient,\n{SIRET_B},B,supplier,note\n")
    rows, _ = service.structures_from_csv(f"siret,name,roles,,\n{SIRET_A},A,recipient,,\n{SIRET_B},B,supplier\n")
    assert [row["siret"] for row in rows] == [SIRET_A, SIRET_B]
    with pytest.raises(Unprocessable, match="4 cells where the header has 3 columns"):
        service.structures_from_csv(f"siret,name,roles\n{SIRET_A},A,recipient,note\n")


def test_a_service_code_given_twice_is_refused_on_every_path(directory):
    """Review r57 F2: both copies were stored and listed, and routing used the first: a supplier read an active
    service that deposits were refused for. A code padded with spaces is the same code (stored stripped)."""
    twice = [{"code": "SERV-TECH", "active": False}, {"code": " SERV-TECH ", "name": "Services techniques"}]
    with pytest.raises(Unprocessable, match=r"'SERV-TECH' in services\[0\], services\[1\]") as refused:
        service.update_structure(SYSTEM_ADMIN, SIRET_A, {"services": twice}, directory=directory)
    assert refused.value.extra["repeated_service_codes"] == ["SERV-TECH"]
    new = {"siret": SIRET_B, "name": "B", "roles": ["recipient"], "services": [{"code": "A"}, {"code": "A"}]}
    with pytest.raises(Unprocessable, match="may appear once"):
        service.create_structure(SYSTEM_ADMIN, new, directory=directory)
    with pytest.raises(Unprocessable, match=r"^structures\[0\]: A service code may appear once"):
        service.import_structures(SYSTEM_ADMIN, [new], directory=directory)
    with pytest.raises(Unprocessable, match="'services' must be a list"):
        service.update_structure(SYSTEM_ADMIN, SIRET_A, {"services": None}, directory=directory)
    assert directory.writes == 0 and directory.records[SIRET_A].services == SERVICES


def test_a_change_that_changes_nothing_is_not_written_and_keeps_updated_at(directory):
    """Review r57 F4: PATCH {} and PUT …/services/X {} moved updated_at and the version, so updated_at could not say
    when a structure last changed."""
    stored = directory.records[SIRET_A]
    same = [{"siret": SIRET_A}, {"name": "Mairie A", "active": True}, {}]
    for body in same:
        assert service.update_structure(SYSTEM_ADMIN, SIRET_A, body, directory=directory, now=lambda: "t1") == stored
    assert service.put_service(SYSTEM_ADMIN, SIRET_A, "SERV-TECH", {}, directory=directory, now=lambda: "t1") == stored
    assert directory.writes == 0 and directory.records[SIRET_A].updated_at == "t0"
    assert directory.records[SIRET_A].version == stored.version
    # a change is written, the service kept in its place
    changed = service.put_service(SYSTEM_ADMIN, SIRET_A, "SERV-TECH", {"active": False}, directory=directory,
                                  now=lambda: "t1")  # fmt: skip
    assert [s.code for s in changed.services] == ["SERV-TECH", "SERV-ECOLES"] and changed.updated_at == "t1"
    assert directory.writes == 1


def test_a_put_service_merges_copies_of_its_code_stored_before_into_one_in_the_first_place():
    twice = (Service("A", "First", active=False), Service("B", "B"), Service("A", "Second"))
    directory = MemoryDirectory(Structure(SIRET_A, "Mairie A", ("recipient",), services=twice))
    updated = service.put_service(SYSTEM_ADMIN, SIRET_A, "A", {"active": True}, directory=directory)
    assert updated.services == (Service("A", "First"), Service("B", "B"))


def test_a_reimported_file_writes_only_the_rows_it_changes(directory):
    """Review r57 F4: re-importing the same CSV rewrote every row (a write unit each, updated_at and version moved)."""
    csv = f"siret,name,roles\n{SIRET_A},Mairie A,recipient\n{SIRET_B},Régie,recipient\n"
    service.import_structures(SYSTEM_ADMIN, service.structures_from_csv(csv)[0], directory=directory, now=lambda: "t1")
    first = dict(directory.records)
    assert first[SIRET_A].updated_at == "t0" and first[SIRET_B].updated_at == "t1"  # A's row changed nothing
    again = service.import_structures(
        SYSTEM_ADMIN, service.structures_from_csv(csv.replace("Régie", "Régie des eaux"))[0], directory=directory,
        now=lambda: "t2",
    )  # fmt: skip
    assert [s.siret for s in again] == [SIRET_A, SIRET_B]  # every row answered, written or not
    assert directory.records[SIRET_A] is first[SIRET_A]  # not written again
    assert directory.records[SIRET_B].updated_at == "t2" and directory.records[SIRET_B].version == 2


@pytest.mark.parametrize(
    "entry, refusal",
    [
        ({"siret": SIRET_A, "_line": 9999}, r"structures\[0\]: Unknown or read-only fields \['_line'\]"),
        ({"siret": "123", "_line": "row X"}, r"^structures\[0\]: 'siret' '123' is not a valid SIRET"),
        ({"siret": SIRET_A, "api_keys": None}, r"structures\[0\]: 'api_keys' must be a list"),
        ({"siret": int(SIRET_A)}, r"structures\[0\]: 'siret' must be a string"),
    ],
)
def test_a_json_import_row_is_held_to_the_documented_shape(directory, entry, refusal):
    """Review r57 F6: `_line` (the CSV reader's) was taken from a JSON row and named it in errors, `api_keys: null`
    and a SIRET sent as a number (a leading zero lost) were accepted."""
    with pytest.raises(Unprocessable, match=refusal):
        service.import_structures(SYSTEM_ADMIN, [entry], directory=directory)
    assert directory.writes == 0


def test_a_siret_sent_as_a_number_is_refused_on_create(directory):
    body = {"siret": int(SIRET_B), "name": "B", "roles": ["supplier"]}
    with pytest.raises(Unprocessable, match="leading zero"):
        service.create_structure(SYSTEM_ADMIN, body, directory=directory)


def test_re_importing_a_structure_s_own_key_does_not_register_it_again():
    """A re-import of an export (its keys included) keeps each key's created_at (GET
    /v1/admin/structures/{siret}/keys) and never hands a registered key to put_structures, whose rollback on a
    later key's conflict would delete it."""
    directory = MemoryDirectory(Structure(SIRET_A, "Mairie A", ("recipient",), updated_at="t0"))
    directory.keys = {hash_api_key("the-key-of-mairie-a-0001"): SIRET_A}
    handed = []
    put = directory.put_structures
    directory.put_structures = lambda structures, api_keys=(): handed.extend(api_keys) or put(structures, api_keys)
    service.import_structures(service.SYSTEM_ADMIN, [{"siret": SIRET_A, "name": "Mairie A2",
                                                      "api_keys": ["the-key-of-mairie-a-0001"]}],
                              directory=directory, now=lambda: "t9")
    assert handed == []
