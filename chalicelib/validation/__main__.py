"""Command line: ``python -m chalicelib.validation [--json] [--findings] FILE...``

Prints one JSON object per file and line::

    {"file": …, "syntax": "ubl"|"cii"|null, "valid": bool, "fatal": [ids], "warnings": [ids]}

plus ``"error"`` (``{"code", "detail"}``) when the file is unreadable or not an invoice. With ``--findings``
each line also has ``"findings"`` (each one's rule, severity, message and location; ``[]`` on an error line)
and, when some were counted and not listed, ``"findings_omitted"``. The exit
status is 0 whenever the tool ran, whatever the verdicts; 2 only for a usage error.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Sequence

from .engine import validate
from .parsing import MAX_XML_BYTES

USAGE = "usage: python -m chalicelib.validation [--json] [--findings] FILE..."
FLAGS = ("--json", "--findings")  # --json: the default output, kept for scripts that pass it


def _error_line(path: str, code: str, detail: str) -> dict:
    return {
        "file": path,
        "syntax": None,
        "valid": False,
        "fatal": [],
        "warnings": [],
        "error": {"code": code, "detail": detail},
    }


def _too_large_detail(fh) -> str:
    """validate()'s too-large detail, with the size when the file has one (a regular file)."""
    info = os.fstat(fh.fileno())
    if stat.S_ISREG(info.st_mode) and info.st_size > MAX_XML_BYTES:
        return f"The XML document is {info.st_size} bytes, over the limit of {MAX_XML_BYTES} bytes."
    return f"The XML document is more than {MAX_XML_BYTES} bytes, the limit."


def report_line(path: str, findings: bool = False) -> dict:
    """The file's line; with ``findings``, the findings themselves too (opt-in: the default line is a contract)."""
    try:
        with open(path, "rb") as fh:
            # never more than the limit + 1 byte in memory: a multi-GB file or /dev/zero is refused, not read
            data = fh.read(MAX_XML_BYTES + 1)
            if len(data) > MAX_XML_BYTES:
                return _error_line(path, "too-large", _too_large_detail(fh))
    except (OSError, ValueError) as exc:  # ValueError: a name open() refuses (an embedded NUL)
        return _error_line(path, "unreadable-file", f"{type(exc).__name__}: {getattr(exc, 'strerror', None) or exc}")
    try:
        report = validate(data)
    except Exception as exc:  # noqa: BLE001 - the CLI contract: report, never crash
        return _error_line(path, "internal-error", f"{type(exc).__name__}: {exc}")
    line = {
        "file": path,
        "syntax": report.syntax,
        "valid": report.valid,
        "fatal": report.fatal,
        "warnings": report.warnings,
    }
    if findings:
        line["findings"] = [f.as_dict() for f in report.findings]
        if report.omitted:
            line["findings_omitted"] = report.omitted
    if report.error is not None:
        line["error"] = report.error
    elif report.rule_errors:
        line["error"] = {"code": "rule-error", "detail": "; ".join(report.rule_errors)}
    return line


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    files = [a for a in args if a not in FLAGS]
    with_findings = "--findings" in args
    if not files or any(a in ("-h", "--help") for a in files):
        print(USAGE, file=sys.stderr if not files else sys.stdout)
        return 0 if files else 2
    out = sys.stdout
    for path in files:
        try:  # one file's failure never stops the others: it is reported on its own line
            line = report_line(path, with_findings)
        except Exception as exc:  # noqa: BLE001 - the CLI contract: report, never crash
            line = _error_line(path, "internal-error", f"{type(exc).__name__}: {exc}")
        if with_findings:
            line.setdefault("findings", [])  # an error line has none, but the key all the same
        # ASCII JSON: a file name that is not UTF-8 (surrogate escapes) is written as \udcXX, never as raw bytes
        out.write(json.dumps(line, ensure_ascii=True) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
