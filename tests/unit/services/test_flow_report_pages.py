"""A flow report's files come in pages: by `limit`, and before the response would outgrow Lambda's limit."""

from __future__ import annotations

import json

import pytest

from chalicelib.domain.flows import Flow, FlowFile
from chalicelib.domain.invoice import Error
from chalicelib.services import flows as flow_service
from chalicelib.services.errors import InvalidInput


def flow_of(files: list[FlowFile]) -> Flow:
    return Flow("01JDZ8Q6XW0000000000000000", "12345678900011", "t", "t", files=files)


def named(count: int, errors: int = 0, text: int = 10) -> list[FlowFile]:
    error = Error("CHORALE-FLOW-01", "fatal", "é" * text, "l" * text)
    return [FlowFile(flow_service.file_key(i), f"{i}.xml", errors=[error] * errors) for i in range(1, count + 1)]


def all_pages(flow: Flow, limit: str | None = None) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        files, cursor = flow_service.files_page(flow, cursor=cursor, limit=limit)
        pages.append([f.name for f in files])
        if cursor is None:
            return pages


def test_by_default_every_file_on_one_page():
    flow = flow_of(named(1000))
    files, cursor = flow_service.files_page(flow)
    assert len(files) == 1000 and cursor is None


def test_pages_of_limit_files_in_archive_order_without_gap_or_repeat():
    pages = all_pages(flow_of(named(7)), limit="3")
    assert pages == [["1.xml", "2.xml", "3.xml"], ["4.xml", "5.xml", "6.xml"], ["7.xml"]]
    assert all_pages(flow_of(named(6)), limit="3")[-1] == ["4.xml", "5.xml", "6.xml"]  # no empty last page
    assert all_pages(flow_of([])) == [[]]


def test_a_report_of_long_texts_is_cut_into_pages_under_the_response_limit():
    flow = flow_of(named(1000, errors=flow_service.MAX_FILE_ERRORS, text=500))  # the longest a stored file has
    pages = all_pages(flow)
    assert len(pages) > 1
    assert [name for page in pages for name in page] == [f.name for f in flow.files]
    first = flow.files[: len(pages[0])]
    body = json.dumps([{"name": f.name, "errors": [e.as_dict() for e in f.errors]} for f in first])  # \u00e9 each
    assert len(body.encode()) < flow_service.FILES_PAGE_BYTES < 6 * 1024 * 1024


@pytest.mark.parametrize("limit", ["0", "1001", "-1", "ten", ""])
def test_a_limit_out_of_range_is_refused(limit):
    with pytest.raises(InvalidInput, match="'limit' must be an integer from 1 to 1000"):
        flow_service.files_page(flow_of(named(2)), limit=limit)


@pytest.mark.parametrize("cursor", ["%%%", "bm90LWEtZmlsZQ", "4pyT"])
def test_a_cursor_this_api_did_not_return_is_refused(cursor):
    with pytest.raises(InvalidInput, match="'cursor' is not a cursor this API returned"):
        flow_service.files_page(flow_of(named(2)), cursor=cursor)
