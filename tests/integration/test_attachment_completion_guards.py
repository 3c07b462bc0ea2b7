"""Completing an attachment upload again (review r19): only its uploader gets the recorded attachment, so a computed
or guessed id shows nothing of the other party's, and locking it again never pushes its retention further."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from aws_failures import fail_fixture  # noqa: F401 - fixture
from demo import CHR_KEY, MAIRIE_KEY, auth
from invoices import CHR_SIRET, MAIRIE_SIRET
from lost_write_answers import made_available_fixture  # noqa: F401 - fixture
from test_attachment_upload_lock_after_record import uploaded
from test_attachment_uploads import complete
from test_lifecycle import _reroute, walk
from test_object_lock import lock_of, locked_stage  # noqa: F401 - locked_stage: autouse, a lock-enabled bucket

import chalicelib.adapters.object_store as object_store
from chalicelib.domain.ids import derived_id


def test_completing_the_other_party_s_recorded_attachment_is_a_404(client, made_available):
    invoice_id = made_available()
    headers = auth(MAIRIE_KEY, **{"Content-Type": "application/octet-stream", "Idempotency-Key": "1"})
    mairie = client.http.post(f"/v1/invoices/{invoice_id}/attachments?name=pv-confidentiel-mairie.pdf",
                              headers=headers, body=b"%PDF-1.4\n")  # fmt: skip
    assert mairie.status_code == 201, mairie.body
    walk(client, invoice_id, [(MAIRIE_KEY, 221)])
    moved = _reroute(client, invoice_id, {"recipient_siret": CHR_SIRET, "service_code": None,
                                          "engagement_number": "EJ-9"})  # fmt: skip
    assert moved.status_code == 200, moved.body
    hidden = derived_id("attachment", f"{invoice_id}:{MAIRIE_SIRET}", "1")  # computable from public data
    assert hidden == json.loads(mairie.body)["id"]
    answer = client.http.post(f"/v1/invoices/{invoice_id}/attachments/uploads/{hidden}", headers=auth(CHR_KEY))
    assert answer.status_code == 404 and b"pv-confidentiel" not in answer.body


def test_completing_again_later_keeps_the_retention_date(client, made_available, fail, monkeypatch):
    invoice_id = made_available()
    issued = uploaded(client, invoice_id)
    key = f"attachments/{invoice_id}/{issued['upload_id']}"
    assert complete(client, issued).status_code == 201
    _, first_until = lock_of(key)

    class Later(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.now(tz) + timedelta(days=1000)

    monkeypatch.setattr(object_store, "datetime", Later)
    assert complete(client, issued).status_code == 201  # the uploader completes again, 1,000 days later
    assert lock_of(key)[1] == first_until
