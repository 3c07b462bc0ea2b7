"""The validation pipeline: bytes → tree → syntax → semantic model → every rule family → report."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from . import rules as _rules
from .document import Document
from .findings import FATAL, WARNING, Finding
from .model import Invoice
from .parsing import UnreadableInvoice, detect_syntax, parse_xml
from .readers import read_invoice

_CHECKS = _rules.load()  # once per process


def loaded_families() -> list[str]:
    return [name for name, _ in _CHECKS]


_NUM = re.compile(r"(\d+)")


def rule_sort_key(rule: str) -> tuple:
    """Natural order: BR-2 before BR-10, letters before digits irrelevant – stable and readable."""
    return tuple(int(p) if p.isdigit() else p for p in _NUM.split(rule))


def _finding_key(f: Finding) -> tuple:
    return (rule_sort_key(f.rule), f.severity, f.location, f.message)


@dataclass(slots=True)
class ValidationReport:
    """What ``validate`` returns. ``error`` is {"code", "detail"} when the input was not a readable invoice."""

    syntax: str | None = None
    document: str | None = None
    findings: list[Finding] = field(default_factory=list)
    invoice: Invoice | None = None
    error: dict[str, str] | None = None

    @property
    def valid(self) -> bool:
        return self.error is None and not any(f.severity == FATAL for f in self.findings)

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
        return out


def validate_tree(root: Any) -> ValidationReport:
    """Validate an already parsed (hardened) tree; a non-invoice root is reported, not raised."""
    try:
        syntax, document = detect_syntax(root)
    except UnreadableInvoice as exc:
        return ValidationReport(error={"code": exc.code, "detail": exc.detail})
    invoice = read_invoice(root, syntax, document)
    doc = Document(syntax=syntax, root=root, invoice=invoice)
    findings: list[Finding] = []
    for _name, check in _CHECKS:
        findings.extend(check(doc))
    findings.sort(key=_finding_key)
    return ValidationReport(syntax=syntax, document=document, findings=findings, invoice=invoice)


def validate(data: bytes) -> ValidationReport:
    """Validate invoice bytes (UBL 2.1 Invoice/CreditNote or CII D16B) against EN 16931."""
    try:
        root = parse_xml(data)
    except UnreadableInvoice as exc:
        return ValidationReport(error={"code": exc.code, "detail": exc.detail})
    return validate_tree(root)
