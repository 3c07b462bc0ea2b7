"""The engine remembers each rule id's natural sort key (rule ids come from the rule tables): the order must be the
one computed afresh, and the memo stays bounded."""

from __future__ import annotations

from chalicelib.validation import engine
from chalicelib.validation.findings import FATAL, WARNING, Finding


def test_finding_key_is_the_natural_order_computed_afresh():
    rules = ["BR-10", "BR-2", "BR-CO-10", "BR-CO-9", "UBL-CR-001", "BR-S-08", "BR-2"]
    findings = [Finding(r, s, "m", "/x") for r in rules for s in (FATAL, WARNING)]
    for f in findings:
        assert engine._finding_key(f) == (engine.rule_sort_key(f.rule), f.severity, f.location, f.message)
    ordered = sorted(findings, key=engine._finding_key)
    assert [f.rule for f in ordered][:6] == ["BR-2"] * 4 + ["BR-10"] * 2


def test_the_memo_is_bounded(monkeypatch):
    monkeypatch.setattr(engine, "_RULE_KEYS", {})
    monkeypatch.setattr(engine, "_RULE_KEYS_LIMIT", 2)
    for r in ("A-1", "A-2", "A-3"):
        assert engine._finding_key(Finding(r, FATAL, "m", "/x"))[0] == engine.rule_sort_key(r)
    assert len(engine._RULE_KEYS) == 2
