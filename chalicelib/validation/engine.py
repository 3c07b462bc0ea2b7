"""The validation pipeline: bytes → tree → syntax → semantic model → every rule family → report."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from . import rules as _rules
from .document import Document
from .findings import FATAL, FINDING_COUNTS, MAX_FINDINGS_PER_RULE, OMITTED, WARNING, Finding
from .model import XPATH_MEMO, Invoice
from .parsing import UnreadableInvoice, detect_syntax, parse_xml
from .readers import read_invoice

_CHECKS = _rules.load()  # once per process
_log = logging.getLogger(__name__)


def loaded_families() -> list[str]:
    return [name for name, _ in _CHECKS]


_NUM = re.compile(r"(\d+)")


def rule_sort_key(rule: str) -> tuple:
    """Natural order: BR-2 before BR-10, letters before digits irrelevant – stable and readable."""
    return tuple(int(p) if p.isdigit() else p for p in _NUM.split(rule))


# rule id -> its natural sort key: rule ids come from the families' rule tables (a bounded set, never from the
# document), and splitting one costs ~1 us, per finding of every report
_RULE_KEYS: dict[str, tuple] = {}
_RULE_KEYS_LIMIT = 20000


def _finding_key(f: Finding) -> tuple:
    rule = f.rule
    key = _RULE_KEYS.get(rule)
    if key is None:
        key = rule_sort_key(rule)
        if len(_RULE_KEYS) < _RULE_KEYS_LIMIT:
            _RULE_KEYS[rule] = key
    return (key, f.severity, f.location, f.message)


@dataclass(slots=True)
class ValidationReport:
    """What ``validate`` returns. ``error`` is {"code", "detail"} when the input was not a readable invoice."""

    syntax: str | None = None
    document: str | None = None
    findings: list[Finding] = field(default_factory=list)
    invoice: Invoice | None = None
    error: dict[str, str] | None = None
    # rule families that raised instead of answering (a bug): the verdict is then not trustworthy
    rule_errors: list[str] = field(default_factory=list)
    # findings past MAX_FINDINGS_PER_RULE of their rule: counted, not listed (their rules are among the listed)
    omitted: int = 0

    @property
    def valid(self) -> bool:
        if self.error is not None or self.rule_errors:
            return False
        return not any(f.severity == FATAL for f in self.findings)

    @property
    def fatal(self) -> list[str]:
        return sorted({f.rule for f in self.findings if f.severity == FATAL})

    @property
    def warnings(self) -> list[str]:
        return sorted({f.rule for f in self.findings if f.severity == WARNING})

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "syntax": self.syntax,
            "document": self.document,
            "valid": self.valid,
            "fatal": self.fatal,
            "warnings": self.warnings,
            "findings": [f.as_dict() for f in self.findings],
        }
        if self.error is not None:
            out["error"] = self.error
        if self.rule_errors:
            out["rule_errors"] = self.rule_errors
        if self.omitted:
            out["findings_omitted"] = self.omitted
        return out


def validate_tree(root: Any) -> ValidationReport:
    """Validate an already parsed (hardened) tree; a non-invoice root is reported, not raised."""
    try:
        syntax, document = detect_syntax(root)
    except UnreadableInvoice as exc:
        return ValidationReport(error={"code": exc.code, "detail": exc.detail})
    nodes = list(root.iter())  # held until the families have run: see Document.nodes
    invoice = read_invoice(root, syntax, document)
    doc = Document(syntax=syntax, root=root, invoice=invoice, nodes=nodes)
    findings: list[Finding] = []
    rule_errors: list[str] = []
    memo = XPATH_MEMO.set({})  # the findings' locations, computed once per element of this document
    counts: dict[str, int] = {}
    quota = FINDING_COUNTS.set(counts)
    try:
        for name, check in _CHECKS:
            counted = counts.copy()
            try:
                findings.extend(check(doc))
            except Exception as exc:  # noqa: BLE001 - one broken family must not hide the others' findings
                _log.exception("rule family %s failed", name)
                counts.clear()  # its findings are dropped: neither listed nor counted as omitted
                counts.update(counted)
                rule_errors.append(f"{name}: {type(exc).__name__}: {exc}")
    finally:
        XPATH_MEMO.reset(memo)
        FINDING_COUNTS.reset(quota)
    omitted = sum(n - MAX_FINDINGS_PER_RULE for n in counts.values() if n > MAX_FINDINGS_PER_RULE)
    if omitted:
        findings = [f for f in findings if f is not OMITTED]
    findings.sort(key=_finding_key)
    return ValidationReport(
        syntax=syntax,
        document=document,
        findings=findings,
        invoice=invoice,
        rule_errors=rule_errors,
        omitted=omitted,
    )


def validate(data: bytes) -> ValidationReport:
    """Validate invoice bytes (UBL 2.1 Invoice/CreditNote or CII D16B) against EN 16931."""
    try:
        root = parse_xml(data)
    except UnreadableInvoice as exc:
        return ValidationReport(error={"code": exc.code, "detail": exc.detail})
    return validate_tree(root)
