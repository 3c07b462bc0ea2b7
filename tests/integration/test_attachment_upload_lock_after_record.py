"""On a stage that locks its legal records, a presigned attachment upload is copied to its attachment key unlocked
and locked once its record is written, as an attachment sent in the body is (test_attachment_lock_after_record.py):
a completion whose save fails leaves no locked version, kept and billed for the whole retention."""

from __future__ import annotations

import json
import logging

from aws_failures import fail_fixture  # noqa: F401 (fixture)
from lost_write_answers import invoice_writes_fixture, made_available_fixture  # noqa: F401 (fixtures)
from test_attachment_lock_after_record import locked_versions
from test_attachment_uploads import complete, pdf, send, ticket
from test_lost_write_answers import recorded_attachments
from test_object_lock import assert_locked, lock_of, locked_stage  # noqa: F401 - locked_stage: autouse, a lock-enabled bucket


def uploaded(client, invoice_id: str) -> dict:
    issued = ticket(client, invoice_id)
    send(issued, pdf(10_000))
    return issued


def test_a_throttled_completion_leaves_no_locked_version(client, made_available, invoice_writes):
    invoice_id = made_available()
    issued = uploaded(client, invoice_id)
    invoice_writes.throttled()
    refused = complete(client, issued)
    assert refused.status_code >= 500, refused.body
    assert recorded_attachments(client, invoice_id) == []
    assert locked_versions(invoice_id) == []  # the unrecorded copy is free to go
    again = complete(client, issued)  # the upload is still there: completing again records and locks it
    assert again.status_code == 201, again.body
    assert recorded_attachments(client, invoice_id) == [issued["upload_id"]]
    assert_locked(f"attachments/{invoice_id}/{issued['upload_id']}")


def test_a_completed_upload_is_locked(client, made_available):
    invoice_id = made_available()
    issued = uploaded(client, invoice_id)
    done = complete(client, issued)
    assert done.status_code == 201, done.body
    assert json.loads(done.body)["id"] == issued["upload_id"]
    assert_locked(f"attachments/{invoice_id}/{issued['upload_id']}")


def test_a_completion_costs_one_put_object_retention(client, made_available, fail):
    invoice_id = made_available()
    issued = uploaded(client, invoice_id)
    calls = []
    fail["PutObjectRetention"] = lambda params: calls.append(params["Key"])
    assert complete(client, issued).status_code == 201
    assert calls == [f"attachments/{invoice_id}/{issued['upload_id']}"]


def test_a_completion_whose_answer_was_lost_is_locked_once(client, made_available, invoice_writes, fail):
    """botocore resends the save that landed; the resend fails the version check, the re-read holds the record."""
    invoice_id = made_available()
    issued = uploaded(client, invoice_id)
    calls = []
    fail["PutObjectRetention"] = lambda params: calls.append(params["Key"])
    invoice_writes.committed_then_resent()
    done = complete(client, issued)
    assert done.status_code == 201, done.body
    key = f"attachments/{invoice_id}/{issued['upload_id']}"
    assert calls == [key]
    assert_locked(key)


def test_a_completion_whose_every_answer_was_lost_is_201_and_locked(client, made_available, invoice_writes, fail):
    """The save landed, botocore saw only timeouts: the re-read holds the record, which is locked before the 201."""
    invoice_id = made_available()
    issued = uploaded(client, invoice_id)
    calls = []
    fail["PutObjectRetention"] = lambda params: calls.append(params["Key"])
    invoice_writes.committed_then_timed_out()
    done = complete(client, issued)
    assert done.status_code == 201 and json.loads(done.body)["id"] == issued["upload_id"], done.body
    key = f"attachments/{invoice_id}/{issued['upload_id']}"
    assert recorded_attachments(client, invoice_id) == [issued["upload_id"]]
    assert calls == [key]
    assert_locked(key)


def test_completing_again_after_the_record_landed_unlocked_locks_it(client, made_available, invoice_writes):
    """The first completion's record landed, its answer was lost and so was the re-read (a 5xx): it never reached
    the lock."""
    invoice_id = made_available()
    issued = uploaded(client, invoice_id)
    invoice_writes.committed_then_timed_out_and_unreadable()
    assert complete(client, issued).status_code >= 500
    key = f"attachments/{invoice_id}/{issued['upload_id']}"
    assert recorded_attachments(client, invoice_id) == [issued["upload_id"]]
    assert lock_of(key) == (None, None)
    again = complete(client, issued)
    assert again.status_code == 201 and json.loads(again.body)["id"] == issued["upload_id"], again.body
    assert_locked(key)


def test_a_completion_whose_lock_fails_is_201_and_logged_for_an_operator(client, made_available, fail, caplog):
    invoice_id = made_available()
    issued = uploaded(client, invoice_id)
    fail["PutObjectRetention"] = "InternalError"
    with caplog.at_level(logging.ERROR, logger="chalicelib.services.lifecycle"):
        done = complete(client, issued)
    assert done.status_code == 201, done.body
    key = f"attachments/{invoice_id}/{issued['upload_id']}"
    assert recorded_attachments(client, invoice_id) == [issued["upload_id"]]
    assert lock_of(key) == (None, None)
    assert [r.levelno for r in caplog.records if key in r.getMessage()] == [logging.ERROR]
