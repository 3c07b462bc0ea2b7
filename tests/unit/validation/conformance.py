"""The official EN 16931 conformance corpus (../shared), read where it exists."""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
CORPUS = Path(os.environ.get("CHORALE_CONFORMANCE_DIR", REPO.parent / "shared" / "conformance" / "en16931"))
MISSING = f"EN 16931 conformance corpus not found at {CORPUS} (set CHORALE_CONFORMANCE_DIR)"


@lru_cache(maxsize=1)
def entries() -> list[dict]:
    manifest = CORPUS / "manifest.json"
    if not manifest.is_file():
        return []
    return json.loads(manifest.read_text())["entries"]


def read(entry: dict) -> bytes:
    return (CORPUS / entry["file"]).read_bytes()
