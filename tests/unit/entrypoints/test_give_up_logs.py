"""Giving up on a bundle whose invoices could only partly be flagged failed logs the ids left pending, and the
"giving up" line names those that were flagged (review r17 F4: both lines said `invoice_ids: []`)."""

from __future__ import annotations

from types import SimpleNamespace

from chalicelib.entrypoints import events
from chalicelib.services import layout
from chalicelib.services.processing import NotMarkedFailed

FLOW = "01M8EVD1JPNFWSRTHT18MEB5Y2"
MARKED, PENDING = "01M8EVD1JPNFWSRTHT18MEB5Y3", "01M8EVD1JPNFWSRTHT18MEB5Y4"


def test_a_partial_give_up_logs_the_pending_and_the_flagged_ids(monkeypatch):
    key = layout.bundle_key(FLOW, 1)
    flagged = [SimpleNamespace(id=MARKED)]

    def mark_failed(key, **ports):
        raise NotMarkedFailed(f"1 invoice(s) of {key} could not be marked failed: {[PENDING]}", flagged, [PENDING])

    logged, done = [], []
    monkeypatch.setattr(events, "mark_failed", mark_failed)
    monkeypatch.setattr(events, "_object_done", lambda key, invoices, **kw: done.append([i.id for i in invoices]))
    monkeypatch.setattr(events.logger, "exception", lambda msg, *a, **k: logged.append((msg % a, k["extra"])))
    try:
        raise RuntimeError("the cause")
    except RuntimeError:
        events._give_up(key, {})
    assert [extra["invoice_ids"] for _, extra in logged] == [[PENDING], [MARKED]]
    assert logged[0][0].startswith("could not mark the invoices of") and logged[1][0].startswith("giving up on")
    assert done == [[MARKED]]  # the flow is told about those flagged
