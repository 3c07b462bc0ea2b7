"""Two attempts with one Idempotency-Key running at once (the Powertools guard bypassed, e.g. its record expired
mid-flight): the one whose save certainly failed must not delete the shared file the other one records (review r19)."""

from __future__ import annotations

import pytest
from test_attachment_keyed_service import add, ports_fixture  # noqa: F401 - fixture

from chalicelib.services.errors import ConcurrentUpdate


def test_a_losing_twin_leaves_the_file_the_winner_records(ports):
    invoices, originals, invoice_id = ports
    stale = invoices.get(invoice_id)  # the twin read the invoice before an unrelated change moved its version
    invoices.save(invoices.get(invoice_id))
    real_put, real_get = originals.put_if_absent, invoices.get
    twin_ran = []

    def put_if_absent(key, *args, **kw):
        found = real_put(key, *args, **kw)
        if not twin_ran:  # the first attempt has just written the file: the twin runs to its end now
            twin_ran.append(True)
            reads = iter([stale])
            invoices.get = lambda i: next(reads, None) or real_get(i)
            with pytest.raises(ConcurrentUpdate):
                add(ports)  # same key, same file, stale invoice: its save fails
            invoices.get = real_get
        return found

    originals.put_if_absent = put_if_absent
    _invoice, attachment = add(ports)
    assert [a.id for a in invoices.get(invoice_id).attachments] == [attachment.id]
    assert attachment.key in originals.objects  # the recorded attachment's file is there
