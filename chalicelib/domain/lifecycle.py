"""Who may move an invoice from which status to which, and with what reason: the transition table as data."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from .invoice import HistoryEntry, has_visible_character

Party = Literal["supplier", "recipient"]

_DECISIONS = frozenset({205, 206, 207, 208, 210})

# (party, from status) → statuses that party may set next. Documented in README ("Lifecycle").
TRANSITIONS: dict[Party, dict[int, frozenset[int]]] = {
    "recipient": {
        203: frozenset({204, 221}) | _DECISIONS,
        204: frozenset({221}) | _DECISIONS,
        207: _DECISIONS,
        209: frozenset({221}) | _DECISIONS,  # Chorus Pro: COMPLETEE → A_RECYCLER (reference §2.2)
        205: frozenset({210, 211}),  # Chorus Pro: SERVICE_FAIT → REJETEE (the refusal needs its reason)
        206: frozenset({210, 211}),
    },
    "supplier": {
        208: frozenset({209}),
        205: frozenset({212}),
        206: frozenset({212}),
        211: frozenset({212}),
        # 220 before any decision. Not from 200: the platform writes 200 and 203 together, 200 is never current.
        203: frozenset({220}),
        204: frozenset({220}),
    },
}

TERMINAL = frozenset({210, 212, 213, 220})
ROUTING_ERROR = 221
COMPLETED = 209
SUSPENDED = 208

# Re-routing (the supplier's POST .../reroute, Chorus Pro's `recycler`): from 221, and from a status before any
# approval when the recipient structure is no longer active in the directory. Such a recipient cannot set 221 (its
# keys get 401), so without this the supplier could only cancel (220) and lose the number. A structure whose service
# is inactive still can: its invoices are not taken from it.
REROUTABLE = frozenset({ROUTING_ERROR})
REROUTABLE_FROM_INACTIVE_RECIPIENT = frozenset({203, 204, 207, 208, 209})
# The reason of the 221 the platform writes before such a re-route: the routing data are outdated.
INACTIVE_RECIPIENT_REASON = "ROUTAGE_ERR"

# Reform reason codes (BR-FR-CDV-CL-09 allow-lists). 206 and 207 have no list of their own in the
# reform's lists we hold: they accept the refusal and suspension reasons (see README).
_REFUSAL = (
    "TX_TVA_ERR", "MONTANTTOTAL_ERR", "CALCUL_ERR", "NON_CONFORME", "DOUBLON", "DEST_ERR", "TRANSAC_INC",
    "EMMET_INC", "CONTRAT_TERM", "DOUBLE_FACT", "CMD_ERR", "ADR_ERR", "REF_CT_ABSENT",
)  # fmt: skip
_SUSPENSION = ("JUSTIF_ABS", "COORD_BANC_ERR", "CMD_ERR", "SIRET_ERR", "CODE_ROUTAGE_ERR", "REF_CT_ABSENT", "REF_ERR")
REASONS: dict[int, frozenset[str]] = {
    206: frozenset(_REFUSAL + _SUSPENSION),
    207: frozenset(_REFUSAL + _SUSPENSION),
    208: frozenset(_SUSPENSION),
    210: frozenset(_REFUSAL),
    213: frozenset(
        (
            "MONTANTTOTAL_ERR",
            "CALCUL_ERR",
            "DOUBLON",
            "ADR_ERR",
            "REJ_SEMAN",
            "REJ_UNI",
            "REJ_COH",
            "REJ_ADR",
            "REJ_CONT_B2G",
            "REJ_REF_PJ",
            "REJ_ASS_PJ",
        )
    ),  # fmt: skip
    # ROUTAGE_ERR: the routing data used is wrong or outdated (the reform's reason list); ROUTING_ERR, the spelling
    # of reference §5.5 this platform first accepted, stays accepted.
    221: frozenset(
        (
            "ROUTAGE_ERR",
            "ROUTING_ERR",
            "CODE_ROUTAGE_ERR",
            "SIRET_ERR",
            "CMD_ERR",
            "REF_CT_ABSENT",
            "DEST_ERR",
            "REF_ERR",
        )
    ),  # fmt: skip
}
REASON_REQUIRED = frozenset({206, 207, 208, 210})
# A payment's amount (BR-FR-CDV-14: a paid status carries the amount received): required on 212, optional on 211.
AMOUNT_REQUIRED = frozenset({212})
AMOUNT_ALLOWED = frozenset({211, 212})


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a requested status change cannot happen. `kind`: role | transition | reason | completion | amount."""

    kind: Literal["role", "transition", "reason", "completion", "amount"]
    message: str
    allowed: tuple[int, ...] = ()


def allowed_next(party: Party, current: int | None) -> tuple[int, ...]:
    if current is None or current in TERMINAL:
        return ()
    return tuple(sorted(TRANSITIONS[party].get(current, ())))


def settable_by(party: Party) -> frozenset[int]:
    return frozenset().union(*TRANSITIONS[party].values())


def check_transition(
    parties: tuple[Party, ...],
    current: int | None,
    target: int,
    reason_code: str | None,
    comment: str | None,
    has_new_attachment: bool,
) -> tuple[Party, None] | tuple[None, Refusal]:
    """Which of the caller's parties may make this change, or why none may."""
    roles = [p for p in parties if target in settable_by(p)]
    if not roles:
        return None, Refusal("role", f"Status {target} cannot be set by the {' or '.join(parties)}.")
    if current is None:
        return None, Refusal(
            "transition",
            f"The invoice is still being processed and has no status yet: status {target} can be set once it is made "
            "available (203). Follow GET /v1/invoices/{id} until 'processing' is 'done'.",
        )
    for party in roles:
        if target in allowed_next(party, current):
            break
    else:
        allowed = tuple(sorted(set().union(*(allowed_next(p, current) for p in parties))))
        return None, Refusal("transition", f"Status {target} is not allowed from {current}.", allowed)
    if target in REASON_REQUIRED and not reason_code:
        return None, Refusal("reason", f"A reason_code is required for status {target}.")
    if reason_code and target in REASONS and reason_code not in REASONS[target]:
        return None, Refusal(
            "reason",
            f"Reason {reason_code!r} is not allowed for status {target}: use one of {sorted(REASONS[target])}.",
        )
    if reason_code and target not in REASONS:
        return None, Refusal("reason", f"Status {target} takes no reason_code.")
    # A comment of only spaces or invisible characters (U+200B...) tells the recipient nothing: no completion.
    if target == COMPLETED and not has_visible_character(comment) and not has_new_attachment:
        return None, Refusal(
            "completion", "Completing a suspended invoice needs a comment or an attachment added since."
        )
    return party, None


def check_amount(
    target: int, amount: Decimal | None, total: Decimal | None, amount_due: Decimal | None = None
) -> Refusal | None:
    """A payment amount: required on 212, optional on 211, refused elsewhere; > 0 and at most the magnitude of the
    invoice's total with VAT (BT-112) or of its amount due (BT-115), whichever is greater, when it has them. The
    total includes a prepaid amount (BT-113): a fully prepaid invoice is due 0 and still declared received for its
    total. The amount due includes a rounding amount (BT-114): 120.00 rounded to 120.01 is paid 120.01. An invoice
    whose limit is 0 (netted to nothing) is paid and cashed with an amount of 0. The amount is what changed hands,
    unsigned: for a negative total (the supplier owes the buyer) it is what was refunded."""
    if amount is None:
        if target in AMOUNT_REQUIRED:
            return Refusal(
                "amount",
                f'An amount (the amount received, a decimal string such as "120.00") is required for status {target}.',
            )
        return None
    if target not in AMOUNT_ALLOWED:
        return Refusal("amount", f"Status {target} takes no amount: only {sorted(AMOUNT_ALLOWED)} do.")
    limit, name = total, "total with VAT"
    if amount_due is not None and (limit is None or abs(amount_due) > abs(limit)):
        limit, name = amount_due, "amount due"
    if amount < 0 or (amount == 0 and limit != 0):
        here = "" if limit is None else f", here its {name} ({limit})"
        return Refusal(
            "amount",
            "'amount' must be greater than 0 (0 only when the greater of the invoice's total with VAT and its amount "
            f"due is 0{here}).",
        )
    if limit is not None and amount > abs(limit):
        most = f"the invoice's {name} ({limit})" if limit >= 0 else f"the magnitude of its {name} ({limit})"
        return Refusal("amount", f"'amount' {amount} is more than {most}.")
    return None


def payment_at_scale(amount: Decimal, total: Decimal | None) -> Decimal:
    """A payment amount written with as many decimals as the invoice's total (`"120"` → `"120.00"` for a total of
    120.00, unchanged for a total of 120): the history and events read like the totals. Padding only: an amount
    with more decimals than the total is kept as sent, never rounded (the total's writing is not a currency's
    minor unit: a EUR invoice may write 120)."""
    if total is None:
        return amount
    scale = max(0, -int(total.as_tuple().exponent))
    if -int(amount.as_tuple().exponent) >= scale:
        return amount
    return amount.quantize(Decimal(1).scaleb(-scale))


# A decision the recipient may repeat (207 -> 207: a new dispute, another reason or comment).
REPEATABLE = frozenset({207})


def repeats(current: HistoryEntry | None, target: int, reason_code: str | None, comment: str | None) -> bool:
    """Whether setting `target` with this reason and (stored) comment would only write the current entry again: a
    keyless retry of a repeatable decision, answered as already applied."""
    return (
        current is not None
        and target in REPEATABLE
        and (current.code, current.reason_code, current.comment) == (target, reason_code, comment)
    )
