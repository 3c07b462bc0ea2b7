"""Rule families the engine runs, loaded once per process.

Every family module exposes ``check(doc: Document) -> Iterable[Finding]``. A module listed in
``FAMILIES`` (or matching ``vat_*``) that does not exist yet is skipped, so families can land
independently; one that exists but fails to import is recorded in ``LOAD_ERRORS`` and skipped
(the engine's ``loaded_families()``/tests surface it).

Owners: core.py (BR-01…BR-65), calculations.py (BR-CO-*) – core engine; syntax_ubl.py,
syntax_cii.py (UBL-CR/SR/DT, CII-SR/DT), codelists.py (BR-CL-*) – syntax; vat_*.py (BR-S, BR-Z,
BR-E, BR-AE, BR-IC, BR-G, BR-O, BR-AF, BR-AG, BR-B), decimals.py (BR-DEC-*) – VAT.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from types import ModuleType

# calculations after syntax_cii: BR-CO-03 reads elements that pass hands over (the engine sorts the findings, so the
# order of the families does not show in the report)
FAMILIES: tuple[str, ...] = (
    "core",
    "syntax_ubl",
    "syntax_cii",
    "calculations",
    "codelists",
    "decimals",
)
DISCOVER_PREFIXES: tuple[str, ...] = ("vat_",)

LOAD_ERRORS: dict[str, str] = {}

Check = Callable[..., Iterable]


def _module_names() -> list[str]:
    names = list(FAMILIES)
    found = sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name.startswith(DISCOVER_PREFIXES))
    names.extend(n for n in found if n not in names)
    return names


def load() -> list[tuple[str, Check]]:
    """Import every available family module once; return (name, check) pairs in run order."""
    checks: list[tuple[str, Check]] = []
    available = {m.name for m in pkgutil.iter_modules(__path__)}
    for name in _module_names():
        if name not in available:
            continue
        try:
            module: ModuleType = importlib.import_module(f"{__name__}.{name}")
        except Exception as exc:  # a family being edited must not take the others down
            LOAD_ERRORS[name] = f"{type(exc).__name__}: {exc}"
            continue
        check = getattr(module, "check", None)
        if callable(check):
            checks.append((name, check))
        else:
            LOAD_ERRORS[name] = "module has no check(doc) function"
    return checks
