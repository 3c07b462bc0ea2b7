"""A rule's findings past MAX_FINDINGS_PER_RULE in one document are counted, not kept: hostile documents that fail
one rule for each of hundreds of thousands of elements stay bounded in memory, and the verdict stays exact."""

from __future__ import annotations

from collections import Counter

from chalicelib.validation import validate
from chalicelib.validation.findings import FINDING_COUNTS, MAX_FINDINGS_PER_RULE, Finding

UBL_OPEN = (
    b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" '
    b'xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" '
    b'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">'
)


def empty_lines(n: int) -> bytes:
    return UBL_OPEN + b"<cac:InvoiceLine/>" * n + b"</Invoice>"


def test_a_rule_lists_at_most_its_quota_and_counts_the_rest():
    extra = 250
    report = validate(empty_lines(MAX_FINDINGS_PER_RULE + extra))
    per_rule = Counter(f.rule for f in report.findings)
    line_rules = [rule for rule, n in per_rule.items() if n == MAX_FINDINGS_PER_RULE]
    assert {"BR-21", "BR-22", "BR-25", "BR-CO-04"} <= set(line_rules)  # each fails once per line
    assert max(per_rule.values()) == MAX_FINDINGS_PER_RULE
    assert report.omitted == extra * len(line_rules)
    assert report.as_dict()["findings_omitted"] == report.omitted
    # the verdict and the failed rules are those of the whole document
    assert not report.valid and set(line_rules) <= set(report.fatal)
    assert report.findings[-1].location  # only real findings are listed (and sorted)


def test_within_the_quota_nothing_is_omitted():
    report = validate(empty_lines(10))
    assert report.omitted == 0 and "findings_omitted" not in report.as_dict()
    assert Counter(f.rule for f in report.findings)["BR-21"] == 10


def test_the_quota_holds_only_while_the_engine_validates():
    assert FINDING_COUNTS.get() is None
    made = [Finding("X-1", "fatal", "m", "/") for _ in range(MAX_FINDINGS_PER_RULE + 5)]
    assert all(isinstance(f, Finding) and f.rule == "X-1" for f in made)
