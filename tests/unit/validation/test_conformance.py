"""The whole official EN 16931 conformance corpus, through ``chalicelib.validation.validate``.

* complete invoices (kind example / testfile / generated): the verdict and the exact set of
  fatal rule ids must equal the manifest's;
* unit fragments (kind unit): every ``unit_assert`` within the case's ``scope`` must hold –
  ``error`` rules fatal (exactly ``count`` times when given), ``success`` rules absent,
  ``warning`` rules present as warnings.

Scoring a subset: ``CHORALE_RULES=BR,BR-CO`` restricts every comparison to those rule
families (a family is the id without its trailing number: BR-01 → BR, BR-CO-10 → BR-CO,
UBL-CR-001 → UBL-CR); verdicts are then derived from the filtered fatal sets and unit
asserts outside the families are skipped. ``CHORALE_SYNTAX=ubl`` (or cii) restricts files.

Strict: every unit fragment's full fatal and warning sets (within the selected families) must also
equal the manifest's ``fatal_rules`` / ``warning_rules``. This runs by default: the in-scope asserts
alone leave rules unchecked (UBL-SR-07, BR-DEC-10 fire only outside any fragment's scope).

Summary table: ``.venv/bin/python -m tests.unit.validation.test_conformance`` prints the score
per family (complete invoices agreeing, unit asserts holding) without pytest.

The corpus is read in place (never copied); the tests skip when it is absent.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest

from chalicelib.validation import validate
from tests.unit.validation.conformance import MISSING, entries, read

COMPLETE_KINDS = ("example", "testfile", "generated")


def family(rule: str) -> str:
    head, _, tail = rule.rpartition("-")
    return head if tail.isdigit() or (tail[:-1].isdigit() and tail) else rule


def _families() -> set[str] | None:
    raw = os.environ.get("CHORALE_RULES", "").strip()
    return {f.strip() for f in raw.split(",") if f.strip()} or None


FAMILIES = _families()
SYNTAX = os.environ.get("CHORALE_SYNTAX", "").strip() or None


def selected(rule: str) -> bool:
    return FAMILIES is None or family(rule) in FAMILIES


def _entries(kinds: tuple[str, ...]) -> list[dict]:
    return [e for e in entries() if e["kind"] in kinds and (SYNTAX is None or e["syntax"] == SYNTAX)]


def _ids(es: list[dict]) -> list[str]:
    return [e["file"] for e in es]


COMPLETE = _entries(COMPLETE_KINDS)
UNITS = _entries(("unit",))


def unit_asserts(entry: dict) -> list[tuple[str, str, int | None]]:
    """(kind, rule, count) for every assert of a unit case that lies within its scope."""
    scope = set(entry.get("scope") or [])
    out = []
    for kind in ("error", "success", "warning"):
        for a in entry["unit_assert"].get(kind) or []:
            rule = a["rule"]
            if scope and rule not in scope:
                continue
            if selected(rule):
                out.append((kind, rule, a.get("count")))
    return out


def check_unit(entry: dict, report) -> list[str]:
    """Messages for every unit assert that does not hold (empty: all hold)."""
    fatal = Counter(f.rule for f in report.findings if f.severity == "fatal")
    warn = {f.rule for f in report.findings if f.severity == "warning"}
    problems = []
    for kind, rule, n in unit_asserts(entry):
        if kind == "error":
            if rule not in fatal:
                problems.append(f"{rule} should fire as fatal")
            elif n is not None and fatal[rule] != int(n):
                problems.append(f"{rule} should fire {n} times, fired {fatal[rule]}")
        elif kind == "success" and (rule in fatal or rule in warn):
            problems.append(f"{rule} should not fire")
        elif kind == "warning" and rule not in warn:
            problems.append(f"{rule} should fire as a warning")
    return problems


def compare_complete(entry: dict, report) -> tuple[set[str], set[str]]:
    """(missing, extra) fatal ids within the selected families."""
    expected = {r for r in entry["fatal_rules"] if selected(r)}
    got = {r for r in report.fatal if selected(r)}
    return expected - got, got - expected


@pytest.mark.skipif(not entries(), reason=MISSING)
@pytest.mark.parametrize("entry", COMPLETE, ids=_ids(COMPLETE))
def test_complete_invoice(entry):
    report = validate(read(entry))
    assert report.error is None, report.error
    assert report.syntax == entry["syntax"]
    assert report.document == entry["document"]
    if FAMILIES is None:
        assert not report.rule_errors, report.rule_errors
    missing, extra = compare_complete(entry, report)
    assert not missing and not extra, f"missing {sorted(missing)}, unexpected {sorted(extra)}"
    if FAMILIES is None:
        assert report.valid == (entry["expect"] == "valid")


@pytest.mark.skipif(not entries(), reason=MISSING)
@pytest.mark.parametrize("entry", UNITS, ids=_ids(UNITS))
def test_unit_case(entry):
    report = validate(read(entry))
    assert report.error is None, report.error
    if FAMILIES is None:
        assert not report.rule_errors, report.rule_errors
    problems = check_unit(entry, report)
    assert not problems, "; ".join(problems)


def strict_mismatches(entry: dict, report) -> list[str]:
    """Differences between the full fatal/warning sets and the manifest's (selected families only)."""
    out = []
    for kind, expected, got in (
        ("fatal", entry["fatal_rules"], report.fatal),
        ("warning", entry["warning_rules"], report.warnings),
    ):
        exp = {r for r in expected if selected(r)}
        have = {r for r in got if selected(r)}
        out += [f"{r} {kind} missing" for r in sorted(exp - have)]
        out += [f"{r} {kind} unexpected" for r in sorted(have - exp)]
    return out


@pytest.mark.skipif(not entries(), reason=MISSING)
@pytest.mark.parametrize("entry", UNITS, ids=_ids(UNITS))
def test_unit_case_strict(entry):
    problems = strict_mismatches(entry, validate(read(entry)))
    assert not problems, "; ".join(problems)


def score() -> str:
    """A per-family scoreboard of the whole corpus (used for reports, not by pytest)."""
    lines = []
    ok_complete = 0
    fam_missing: Counter = Counter()
    fam_extra: Counter = Counter()
    for e in COMPLETE:
        r = validate(read(e))
        missing, extra = compare_complete(e, r)
        verdict_ok = FAMILIES is not None or r.valid == (e["expect"] == "valid")
        if not missing and not extra and verdict_ok:
            ok_complete += 1
        for m in missing:
            fam_missing[family(m)] += 1
        for x in extra:
            fam_extra[family(x)] += 1
    total_asserts = held = strict_ok = 0
    fam_unit_fail: Counter = Counter()
    fam_strict: Counter = Counter()
    for e in UNITS:
        r = validate(read(e))
        strict = strict_mismatches(e, r)
        strict_ok += not strict
        for p in strict:
            fam_strict[family(p.split()[0])] += 1
        asserts = unit_asserts(e)
        problems = check_unit(e, r)
        total_asserts += len(asserts)
        held += len(asserts) - len(problems)
        for p in problems:
            fam_unit_fail[family(p.split()[0])] += 1
    lines.append(f"complete invoices agreeing: {ok_complete}/{len(COMPLETE)}")
    lines.append(f"unit asserts holding: {held}/{total_asserts}")
    lines.append(f"unit fragments whose full fatal+warning sets agree (strict): {strict_ok}/{len(UNITS)}")
    fams = sorted(set(fam_missing) | set(fam_extra) | set(fam_unit_fail) | set(fam_strict))
    for f in fams:
        lines.append(
            f"  {f:10} complete: missing {fam_missing[f]:3} extra {fam_extra[f]:3}   unit fails {fam_unit_fail[f]:3}"
            f"   strict diffs {fam_strict[f]:4}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(score())
