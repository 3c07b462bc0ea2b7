"""Review r32's rules as pure functions: a comment's characters, a negative total's payments, a 207 repeated, an
invoice dated after its deposit (the deposit time is given: no test depends on the day it runs)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from chalicelib.domain import lifecycle
from chalicelib.domain.invoice import BIDI_CONTROLS, BIDI_OVERRIDES, HistoryEntry, InvoiceSummary, hidden_control
from chalicelib.services import controls


@pytest.mark.parametrize("character", sorted(BIDI_OVERRIDES) + ["\x00", "\x07", "\x7f", "\x85"])
def test_a_control_or_bidirectional_override_is_found(character):
    assert hidden_control(f"ok{character}ko") == character


def test_line_breaks_tabs_and_visible_text_are_plain_text():
    assert hidden_control("Ligne 1\n\tLigne 2 \u00e9\u200b") is None
    # review r38: Windows line breaks (browsers' text boxes, Outlook) and CR alone are line breaks too
    assert hidden_control("Ligne 1\r\nLigne 2\rLigne 3") is None


def test_the_direction_marks_of_arabic_and_hebrew_text_are_plain_text():
    """Review r38: Word and Outlook put LRM/RLM and the Arabic letter mark in right-to-left text on their own; they
    set the direction of neutral characters and reorder nothing else, unlike the overrides."""
    assert hidden_control("\u0645\u0631\u062d\u0628\u0627\u061c 2026\u200f / \u05e9\u05dc\u05d5\u05dd\u200e") is None


def test_the_bidi_sets_are_unicode_s_bidi_control_property_and_its_overrides():
    assert BIDI_CONTROLS - BIDI_OVERRIDES == frozenset("\u061c\u200e\u200f")
    assert BIDI_CONTROLS == frozenset("\u061c\u200e\u200f") | frozenset(map(chr, range(0x202A, 0x202F))) | frozenset(
        map(chr, range(0x2066, 0x206A))
    )


@pytest.mark.parametrize("comment", ["\u200b", " \u2060 ", "\u3164", "", None])
def test_a_completion_needs_a_visible_comment_or_a_new_attachment(comment):
    party, refusal = lifecycle.check_transition(("supplier",), 208, 209, None, comment, False)
    assert party is None and refusal.kind == "completion"
    assert lifecycle.check_transition(("supplier",), 208, 209, None, comment, True) == ("supplier", None)


@pytest.mark.parametrize(
    "amount, refused",
    [("120.00", False), ("0.01", False), ("120.01", True), ("0", True)],
)
def test_a_negative_total_s_payment_is_at_most_its_magnitude(amount, refused):
    assert (lifecycle.check_amount(212, Decimal(amount), Decimal("-120.00")) is not None) is refused


def test_a_positive_total_s_cap_and_a_zero_total_are_unchanged():
    assert lifecycle.check_amount(212, Decimal("120.01"), Decimal("120.00")).message == (
        "'amount' 120.01 is more than the invoice's total with VAT (120.00)."
    )
    assert lifecycle.check_amount(212, Decimal("0"), Decimal("0")) is None
    assert lifecycle.check_amount(212, Decimal("0"), None) is not None


def test_only_the_same_207_repeats_the_current_entry():
    current = HistoryEntry(207, "2026-11-27T10:00:00Z", "recipient", "NON_CONFORME", "écart")
    assert lifecycle.repeats(current, 207, "NON_CONFORME", "écart")
    assert not lifecycle.repeats(current, 207, "NON_CONFORME", "autre écart")
    assert not lifecycle.repeats(current, 207, "CALCUL_ERR", "écart")
    assert not lifecycle.repeats(HistoryEntry(205, "2026-11-27T10:00:00Z", "recipient"), 205, None, None)


@pytest.mark.parametrize(
    "issued, deposited_at, rejected",
    [
        ("2026-11-29", "2026-11-28T23:59:59.999Z", False),  # a day ahead (a supplier east of UTC): accepted
        ("2026-11-28", "2026-11-28T00:00:00.000Z", False),
        ("2025-01-05", "2026-11-28T10:00:00.000Z", False),
        ("2026-11-30", "2026-11-28T23:59:59.999Z", True),
        ("2099-12-31", "2026-11-28T10:00:00.000Z", True),
    ],
)
def test_an_invoice_dated_after_its_deposit_plus_a_day_fails_the_controls(issued, deposited_at, rejected):
    failure = controls.issue_date_failure(InvoiceSummary(issue_date=date.fromisoformat(issued)), issued, deposited_at)
    if not rejected:
        assert failure is None
        return
    assert (failure.reason_code, failure.rule, failure.business_term) == (
        "REJ_SEMAN",
        "CHORALE-ISSUE-DATE-FUTURE",
        "BT-2",
    )
    assert failure.message == (
        f"BT-2 Invoice issue date {issued} is after the deposit date ({deposited_at[:10]}): an invoice cannot be "
        "dated after its deposit."
    )


@pytest.mark.parametrize(
    "amount, total, amount_due, refused",
    [
        ("120.01", "120.00", "120.01", False),  # a rounding amount (BT-114) raises the amount due over the total
        ("120.02", "120.00", "120.01", True),
        ("120.01", "-120.00", "-120.01", False),  # the same on a negative total: its magnitude
        ("120.00", "120.00", "0.00", False),  # fully prepaid (BT-113): still declared received for its total
        ("0", "120.00", "0.00", True),
        ("0.01", "0.00", "0.01", False),  # a zero total rounded up is paid its rounding
        ("0", "0.00", "0.01", True),
    ],
)
def test_a_payment_is_capped_by_the_greater_of_the_total_and_the_amount_due(amount, total, amount_due, refused):
    refusal = lifecycle.check_amount(212, Decimal(amount), Decimal(total), Decimal(amount_due))
    assert (refusal is not None) is refused
