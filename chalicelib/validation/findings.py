"""What a validation rule reports: one finding per failed assert."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["fatal", "warning"]
FATAL: Severity = "fatal"
WARNING: Severity = "warning"


@dataclass(frozen=True, slots=True)
class Finding:
    """One failed rule: official id, severity, a message naming the business term, an XPath."""

    rule: str
    severity: Severity
    message: str
    location: str

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "severity": self.severity, "message": self.message, "location": self.location}
