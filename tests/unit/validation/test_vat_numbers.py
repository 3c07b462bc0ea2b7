"""_vat.to_num answers the usual digits[.digits] without its regex: the answers must be the regex's, always."""

from __future__ import annotations

import math
import random

from chalicelib.validation.rules import _vat


def _reference(raw: str) -> float | None:
    s = raw.strip()
    if s in _vat._DOUBLE_SPECIAL:
        return _vat._DOUBLE_SPECIAL[s]
    return float(s) if _vat._DOUBLE.match(s) else None


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return (a == b or (math.isnan(a) and math.isnan(b))) and str(a) == str(b)


def test_to_num_matches_the_regex():
    alphabet = [*"0123456789.+-eE_ \t\n", "\u0661", "\u00b2", "\u00a0", "\u2003", "INF", "NaN", "a", "\uff11"]
    rng = random.Random(5)
    cases = ["", ".", "..", "1.", ".5", "1.2.3", "+1", "-0.00", " 12.50 ", "1e3", "\u0661\u0662.\u0663", "\u00b2"]
    cases += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8))) for _ in range(50000)]
    for raw in cases:
        assert _same(_vat.to_num(raw), _reference(raw)), raw
