"""An invoice's updated_at and history never go back, whatever the clock of the Lambda making a change: a change
timed at or before the previous one is recorded 1 ms after it (a listing's order and a poller's "newest updated_at
per invoice" rely on it)."""

from __future__ import annotations

from test_invoice_and_events import SUMMARY, pending

from chalicelib.domain.invoice import Attachment

T0 = "2026-11-26T10:00:00.000Z"


def test_a_change_on_a_clock_behind_is_recorded_just_after_the_previous_one():
    invoice = pending()
    invoice.accept(SUMMARY, "Mairie", [], "2026-11-26T10:00:10.000Z")
    invoice.set_status(204, "recipient", None, None, "2026-11-26T10:00:09.960Z")  # a clock 40 ms behind
    assert invoice.updated_at == "2026-11-26T10:00:10.001Z"
    assert [h.at for h in invoice.history] == ["2026-11-26T10:00:10.000Z"] * 2 + ["2026-11-26T10:00:10.001Z"]
    invoice.set_status(205, "recipient", None, None, "2026-11-26T10:00:10.001Z")  # the same millisecond
    assert invoice.updated_at == invoice.history[-1].at == "2026-11-26T10:00:10.002Z"
    invoice.set_status(207, "recipient", None, None, "2026-11-26T10:00:11.000Z")  # a clock ahead: kept as it is
    assert invoice.updated_at == invoice.history[-1].at == "2026-11-26T10:00:11.000Z"


def test_every_kind_of_change_moves_updated_at_forward():
    rejected = pending()
    rejected.reject(SUMMARY, None, [], "R", "refused", "2026-11-26T09:59:59.000Z")  # before the deposit
    assert rejected.updated_at == rejected.history[-1].at == "2026-11-26T10:00:00.001Z"

    failed = pending()
    failed.fail(T0)
    assert failed.updated_at == "2026-11-26T10:00:00.001Z"

    accepted = pending()
    accepted.accept(SUMMARY, "Mairie", [], "2026-11-26T10:00:05.000Z")
    accepted.attach(Attachment("a", "a.pdf", "application/pdf", 1, "k", "supplier", "2026-11-26T10:00:04.000Z"))
    assert accepted.updated_at == "2026-11-26T10:00:05.001Z"


def test_a_change_after_the_previous_keeps_its_own_time():
    invoice = pending()
    invoice.accept(SUMMARY, "Mairie", [], "2026-11-26T10:00:01.000Z")
    assert invoice.updated_at == invoice.history[-1].at == "2026-11-26T10:00:01.000Z"
