"""What a validation rule reports: one finding per failed assert."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal

Severity = Literal["fatal", "warning"]
FATAL: Severity = "fatal"
WARNING: Severity = "warning"


# A hostile document can fail one rule hundreds of thousands of times (4 MiB of empty invoice lines: 9 findings per
# line, ~600 MiB). While the engine validates a document, a rule's findings past this many are counted, not kept:
# the verdict and the set of failed rules stay exact, and memory stays bounded whatever the document.
MAX_FINDINGS_PER_RULE = 1000
# rule -> findings of this document so far, or None outside a validation
FINDING_COUNTS: ContextVar[dict[str, int] | None] = ContextVar("finding_counts", default=None)


class _Omitted:
    """What creating a finding past its rule's quota returns: one shared marker the engine drops and counts."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "OMITTED"


OMITTED: Any = _Omitted()


@dataclass(frozen=True, slots=True)
class Finding:
    """One failed rule: official id, severity, a message naming the business term, an XPath."""

    rule: str
    severity: Severity
    message: str
    location: str

    def __new__(cls, rule: str, *args: Any, **kwargs: Any) -> Any:
        counts = FINDING_COUNTS.get()
        if counts is not None:
            seen = counts.get(rule, 0) + 1
            counts[rule] = seen
            if seen > MAX_FINDINGS_PER_RULE:
                return OMITTED  # not a Finding: Python then skips __init__
        return object.__new__(cls)

    def __getnewargs__(self) -> tuple[str]:  # copy and pickle call __new__ with these
        return (self.rule,)

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "severity": self.severity, "message": self.message, "location": self.location}
