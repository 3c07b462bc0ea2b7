"""Directory imports and names under malformed input (review r24, findings 2, 3 and 6): files a spreadsheet or a
buggy export writes are read or refused with a 422 naming the line, never a 500 or a silently garbled import."""

from __future__ import annotations

import json

import pytest
from demo import ADMIN_KEY, SUPPLIER_KEY, auth

HEADER = "siret,name,roles,active,requires_service_code,requires_engagement\n"
MAIRIE, CHR, LUMIERE = "21750000100011", "13000123400017", "82345678900010"


def import_csv(client, body: str | bytes):
    body = body.encode() if isinstance(body, str) else body
    return client.http.post("/v1/admin/imports", headers=auth(ADMIN_KEY, **{"Content-Type": "text/csv"}), body=body)


def send_json(client, method: str, path: str, body: object):
    headers = auth(ADMIN_KEY, **{"Content-Type": "application/json"})
    return getattr(client.http, method)(path, headers=headers, body=json.dumps(body))


def name_of(client, siret: str) -> str:
    return json.loads(client.http.get(f"/v1/structures/{siret}", headers=auth(SUPPLIER_KEY)).body)["name"]


def names(client) -> list[str]:
    return [name_of(client, siret) for siret in (MAIRIE, CHR, LUMIERE)]


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"], ids=["LF", "CRLF", "CR (Excel for Mac)"])
def test_csv_lines_may_end_in_lf_crlf_or_cr_alone(client, newline):
    body = HEADER + f"{MAIRIE},Mairie renamed,recipient,true,true,false\n{CHR},CHR renamed,recipient,true,false,true\n"
    response = import_csv(client, body.encode().replace(b"\n", newline))
    assert response.status_code == 200, response.body
    assert json.loads(response.body)["imported"] == 2
    assert names(client)[:2] == ["Mairie renamed", "CHR renamed"]


def test_a_semicolon_csv_with_cr_endings_takes_the_header_separator(client):
    body = (
        b"siret;name;roles;active;requires_service_code;requires_engagement\r"
        + f"{MAIRIE};M, renamed;recipient;true;true;false\r".encode()
    )
    response = import_csv(client, body)
    assert response.status_code == 200, response.body
    assert name_of(client, MAIRIE) == "M, renamed"


def refused(response, line: int) -> dict:
    assert response.status_code == 422, response.body
    problem = json.loads(response.body)
    assert problem["detail"].startswith(f"line {line}: "), problem["detail"]
    return problem


def test_a_cell_over_128_kib_is_a_422_naming_the_line(client):
    before = names(client)
    body = HEADER + f"{CHR},CHR renamed,recipient,true,false,true\n{MAIRIE}," + "x" * 131_073
    response = import_csv(client, body + ",recipient,true,true,false\n")
    assert "field larger than field limit" in refused(response, 3)["detail"]
    assert names(client) == before


def test_an_unterminated_quote_is_a_422_naming_its_line_and_nothing_is_written(client):
    before = names(client)
    body = HEADER + (
        f'{MAIRIE},"Mairie de Saint-Etienne,recipient,true,true,false\n'
        f"{CHR},CHR renamed,recipient,true,false,true\n"
        f"{LUMIERE},Lumiere renamed,supplier|recipient,true,false,false\n"
    )
    refused(import_csv(client, body), 2)
    assert names(client) == before


def test_a_row_with_more_cells_than_the_header_is_refused(client):
    before = names(client)
    body = HEADER + f"{CHR},CHR renamed,recipient,true,false,true\n{MAIRIE},Mairie, Paris,recipient,true,true,false\n"
    assert "7 cells where the header has 6 columns" in refused(import_csv(client, body), 3)["detail"]
    assert names(client) == before


def test_a_row_with_fewer_cells_has_its_last_columns_empty_as_before(client):
    """Some exports drop a row's trailing empty cells: those columns are absent fields, kept as they are."""
    response = import_csv(client, HEADER + f"{MAIRIE},Mairie renamed,recipient\n")
    assert response.status_code == 200, response.body
    assert "Mairie renamed" in names(client)


def test_a_quoted_name_holding_a_line_break_is_refused_at_its_line(client):
    before = names(client)
    body = HEADER + f'{CHR},CHR renamed,recipient,true,false,true\n{MAIRIE},"Mai\nrie",recipient,true,true,false\n'
    assert "U+000A" in refused(import_csv(client, body), 3)["detail"]
    assert names(client) == before


def test_a_quoted_cell_over_several_lines_is_named_by_the_line_it_starts_on(client):
    body = HEADER + f'{MAIRIE},Mairie,"supplier\nrecipient",true,true,false\n{CHR},CHR,recipient,maybe,false,true\n'
    refused(import_csv(client, body), 4)


@pytest.mark.parametrize("name", ["A\u0000B", "Mairie\u001b[31mX", "Mai\r\nrie", "Tab\there", "DEL\u007f", "C1\u0085x"])
def test_names_with_control_characters_are_refused_everywhere(client, name):
    before = names(client)
    new = {"siret": "13002526500013", "name": name, "roles": ["recipient"]}
    assert send_json(client, "post", "/v1/admin/structures", new).status_code == 422
    assert send_json(client, "patch", f"/v1/admin/structures/{MAIRIE}", {"name": name}).status_code == 422
    response = send_json(client, "put", f"/v1/admin/structures/{MAIRIE}/services/SERV-Z", {"name": name})
    assert response.status_code == 422
    response = send_json(client, "post", "/v1/admin/imports", {"structures": [{"siret": MAIRIE, "name": name}]})
    assert response.status_code == 422 and json.loads(response.body)["detail"].startswith("structures[0]: ")
    csv_name = '"' + name.replace('"', '""') + '"'
    refused(import_csv(client, HEADER + f"{MAIRIE},{csv_name},recipient,true,true,false\n"), 2)
    assert names(client) == before
    assert client.http.get("/v1/structures/13002526500013", headers=auth(SUPPLIER_KEY)).status_code == 404


def test_a_structure_with_a_stored_control_character_can_still_be_deactivated(client, aws):
    from dataclasses import replace

    from chalicelib.entrypoints import dependencies as deps

    directory = deps.directory()
    directory.put_structure(replace(directory.structure(MAIRIE), name="Old\u0007name"))
    response = send_json(client, "patch", f"/v1/admin/structures/{MAIRIE}", {"active": False})
    assert response.status_code == 200, response.body


def test_accented_and_non_latin_names_are_still_accepted(client):
    for name in ("Mairie de Saint-Étienne", "Bureau d'Études « Lumière »", "東京都庁", "\U0001f3ed Usine"):
        response = send_json(client, "patch", f"/v1/admin/structures/{MAIRIE}", {"name": name})
        assert response.status_code == 200, response.body
        assert name_of(client, MAIRIE) == name


def test_a_json_import_refuses_unknown_top_level_fields(client):
    response = send_json(client, "post", "/v1/admin/imports", {"structures": [{"siret": MAIRIE, "name": "M"}], "x": 1})
    assert response.status_code == 422
    assert json.loads(response.body)["unknown_fields"] == ["x"]
    assert name_of(client, MAIRIE) != "M"


def test_a_trailing_separator_is_ignored_as_before(client):
    """Review r29: `…,recipient,true,true,false,` (an empty cell past the header's columns) used to import, and the
    stricter reading refused the whole file."""
    response = import_csv(client, HEADER + f"{MAIRIE},Mairie trailing,recipient,true,true,false,\n")
    assert response.status_code == 200, response.body
    assert "Mairie trailing" in names(client)


def flags_of(client, siret: str) -> tuple[bool, bool, bool]:
    structure = json.loads(client.http.get(f"/v1/structures/{siret}", headers=auth(SUPPLIER_KEY)).body)
    return structure["active"], structure["requires_service_code"], structure["requires_engagement"]


def test_french_excel_booleans_are_read_in_any_case(client):
    """Review r35: French Excel writes VRAI/FAUX in a `;`-separated file; oui/non are read too."""
    body = (
        "\ufeffsiret;name;roles;active;requires_service_code;requires_engagement\r\n"
        f"{MAIRIE};Mairie;recipient;VRAI;Faux;oui\r\n{CHR};CHR;recipient;vrai;OUI;NON\r\n"
    )
    response = import_csv(client, body)
    assert response.status_code == 200, response.body
    assert flags_of(client, MAIRIE) == (True, False, True)
    assert flags_of(client, CHR) == (True, True, False)


def test_a_boolean_spelled_otherwise_is_a_422_listing_the_spellings_accepted(client):
    detail = refused(import_csv(client, HEADER + f"{MAIRIE},Mairie,recipient,si,true,false\n"), 2)["detail"]
    assert detail == (
        "line 2: 'active' must be true or false, spelled true, 1, yes, vrai, oui or false, 0, no, faux, non (any case)."
    )


def test_a_csv_column_the_import_does_not_know_is_a_422_naming_it_and_nothing_is_written(client):
    """Review r57 F1: a misspelt `requires_engagment` column was dropped and the import answered 200, the flag
    never applied; it is refused as a JSON row's unknown field is."""
    response = import_csv(client, f"siret,name,roles,requires_engagment\n{MAIRIE},Mairie misspelt,recipient,true\n")
    assert response.status_code == 422, response.body
    assert json.loads(response.body)["unknown_fields"] == ["requires_engagment"]
    assert "Mairie misspelt" not in names(client)


def test_csv_headers_are_matched_without_regard_to_case_or_surrounding_spaces(client):
    """Review r57 F1: a spreadsheet's `Active` column deactivates, as `active` does."""
    response = import_csv(client, f"SIRET; Name ;Roles;Active\n{MAIRIE};Mairie;recipient;non\n")
    assert response.status_code == 200, response.body
    assert flags_of(client, MAIRIE)[0] is False


def test_a_json_import_row_carrying_the_csv_reader_s_line_field_is_refused(client):
    """Review r57 F6: `_line` (the CSV reader's own) was dropped from a JSON row, and named the row in errors."""
    response = send_json(client, "post", "/v1/admin/imports", {"structures": [{"siret": MAIRIE, "_line": 9999}]})
    assert response.status_code == 422, response.body
    problem = json.loads(response.body)
    assert problem["unknown_fields"] == ["_line"] and problem["detail"].startswith("structures[0]: ")
