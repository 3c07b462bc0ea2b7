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


def test_a_finding_copies_and_pickles():
    import copy
    import pickle

    finding = Finding("BR-01", "fatal", "BT-24 is missing.", "/ubl:Invoice")
    assert copy.copy(finding) == finding == copy.deepcopy(finding) == pickle.loads(pickle.dumps(finding))


def test_a_family_that_fails_leaves_no_count_behind(monkeypatch):
    """Its findings are dropped with it: they must not use up their rules' quota for the families that follow."""
    from chalicelib.validation import engine

    def fails(doc):
        for _ in range(MAX_FINDINGS_PER_RULE):
            Finding("BR-21", "fatal", "made, then lost", "/")
        raise RuntimeError("a bug")

    monkeypatch.setattr(engine, "_CHECKS", [("broken", fails), *engine._CHECKS])
    report = validate(empty_lines(10))
    assert report.rule_errors and report.omitted == 0
    assert Counter(f.rule for f in report.findings)["BR-21"] == 10
