"""The transition table, reasons and statuses as data (no AWS)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from chalicelib.domain import lifecycle
from chalicelib.domain.statuses import STATUSES


def test_the_table_is_the_issue_s_table():
    recipient, supplier = lifecycle.TRANSITIONS["recipient"], lifecycle.TRANSITIONS["supplier"]
    decisions = {205, 206, 207, 208, 210}
    assert recipient[203] == {204, 221} | decisions
    assert recipient[204] == recipient[209] == {221} | decisions
    assert recipient[207] == decisions
    assert recipient[205] == recipient[206] == {210, 211}
    assert supplier == {208: {209}, 205: {212}, 206: {212}, 211: {212}, 203: {220}, 204: {220}}
    assert lifecycle.TERMINAL == {210, 212, 213, 220}
    assert all(not lifecycle.allowed_next(p, t) for p in ("recipient", "supplier") for t in lifecycle.TERMINAL)


def test_reason_lists():
    assert lifecycle.REASONS[208] == {
        "JUSTIF_ABS", "COORD_BANC_ERR", "CMD_ERR", "SIRET_ERR", "CODE_ROUTAGE_ERR", "REF_CT_ABSENT", "REF_ERR",
    }  # fmt: skip
    assert "DOUBLON" in lifecycle.REASONS[210] and "JUSTIF_ABS" not in lifecycle.REASONS[210]
    assert lifecycle.REASON_REQUIRED == {206, 207, 208, 210}
    assert "ROUTAGE_ERR" in lifecycle.REASONS[221]  # the reform's routing-error reason
    assert "ROUTING_ERR" in lifecycle.REASONS[221]  # the spelling first accepted, still accepted


@pytest.mark.parametrize(
    "parties, current, target, reason, comment, attachment, expected",
    [
        (("recipient",), 203, 204, None, None, False, ("recipient", None)),
        (("supplier",), 203, 205, None, None, False, "role"),
        (("recipient",), 205, 204, None, None, False, "transition"),
        (("recipient",), 203, 208, None, None, False, "reason"),
        (("recipient",), 203, 208, "DOUBLON", None, False, "reason"),
        (("recipient",), 203, 204, "JUSTIF_ABS", None, False, "reason"),  # 204 takes no reason
        (("supplier",), 208, 209, None, " ", False, "completion"),
        (("supplier",), 208, 209, None, None, True, ("supplier", None)),
        (("supplier", "recipient"), 203, 220, None, None, False, ("supplier", None)),  # self-billed: either role
        (("supplier",), None, 220, None, None, False, "transition"),  # pending: nothing yet
    ],
)
def test_check_transition(parties, current, target, reason, comment, attachment, expected):
    party, refusal = lifecycle.check_transition(parties, current, target, reason, comment, attachment)
    if isinstance(expected, tuple):
        assert (party, refusal) == expected
    else:
        assert party is None and refusal.kind == expected and refusal.message


def test_refused_transition_lists_the_allowed_ones():
    _, refusal = lifecycle.check_transition(("recipient",), 205, 208, "JUSTIF_ABS", None, False)
    assert refusal.kind == "transition" and refusal.allowed == (210, 211)


@pytest.mark.parametrize("current", [205, 206])
def test_recipient_may_refuse_after_approval_with_a_reason(current):
    """Chorus Pro: SERVICE_FAIT → REJETEE (motif), reference §2.2."""
    assert lifecycle.check_transition(("recipient",), current, 210, "CALCUL_ERR", None, False) == ("recipient", None)
    _, refusal = lifecycle.check_transition(("recipient",), current, 210, None, None, False)
    assert refusal.kind == "reason"


def test_recipient_may_send_a_completed_invoice_back_as_a_routing_error():
    """Chorus Pro: COMPLETEE → A_RECYCLER, reference §2.2."""
    assert lifecycle.check_transition(("recipient",), 209, 221, "CODE_ROUTAGE_ERR", None, False) == ("recipient", None)


def test_every_status_has_a_chorus_pro_name_where_chorus_pro_has_one_and_the_naming_trap_is_kept():
    assert all(s.label for s in STATUSES.values())
    assert {c for c, s in STATUSES.items() if s.chorus_pro is None} == {207, 212, 213}  # reference §5.4
    assert STATUSES[211].chorus_pro == "MISE_EN_PAIEMENT" and STATUSES[208].chorus_pro == "SUSPENDUE"
    names = [s.chorus_pro for s in STATUSES.values() if s.chorus_pro]
    assert names.count("MISE_EN_PAIEMENT") == names.count("SUSPENDUE") == 1  # one reform status per answer
    assert STATUSES[210].chorus_pro == "REJETEE" and STATUSES[213].name == "REJETEE"
    assert STATUSES[221].chorus_pro == "A_RECYCLER" and STATUSES[205].chorus_pro == "SERVICE_FAIT"


@pytest.mark.parametrize(
    "target, amount, limit, refused",
    [
        (212, None, Decimal("120.00"), True),  # the amount received is required (BR-FR-CDV-14)
        (212, Decimal("120.00"), Decimal("120.00"), False),
        (212, Decimal("120.01"), Decimal("120.00"), True),
        (212, Decimal("0"), Decimal("120.00"), True),
        (211, None, Decimal("120.00"), False),  # optional on 211
        (211, Decimal("60.00"), Decimal("120.00"), False),
        (205, Decimal("60.00"), Decimal("120.00"), True),  # no other status takes one
        (212, Decimal("5.00"), None, False),
        # review finding: an invoice whose total is 0 could never reach 212 (an amount had to be > 0 and <= 0)
        (212, Decimal("0"), Decimal("0.00"), False),
        (212, Decimal("-1"), Decimal("0.00"), True),
        (212, Decimal("0"), None, True),
    ],
)
def test_payment_amounts(target, amount, limit, refused):
    refusal = lifecycle.check_amount(target, amount, limit)
    assert (refusal is not None) == refused and (refusal is None or refusal.kind == "amount")


def test_a_zero_amount_refusal_names_the_cap_that_is_not_zero():
    """Review r59 F7: a total of 0 with an amount due of 0.01 was told "0 only for an invoice whose total is 0"."""
    refusal = lifecycle.check_amount(212, Decimal("0"), Decimal("0.00"), amount_due=Decimal("0.01"))
    assert refusal.message == (
        "'amount' must be greater than 0 (0 only when the greater of the invoice's total with VAT and its amount due "
        "is 0, here its amount due (0.01))."
    )
    assert lifecycle.check_amount(212, Decimal("0"), Decimal("0.00"), amount_due=Decimal("0.00")) is None


def test_a_pending_invoice_is_refused_as_still_being_processed():
    _, refusal = lifecycle.check_transition(("supplier",), None, 220, None, None, False)
    assert refusal.kind == "transition" and refusal.allowed == ()
    assert "still being processed" in refusal.message and "None" not in refusal.message
