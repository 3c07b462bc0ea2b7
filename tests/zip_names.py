"""ZIP archives whose entry names are raw bytes without the UTF-8 flag, as Info-ZIP `zip` (Linux, the macOS command
line) or an old Windows "Compressed folder" writes them: zipfile itself flags every non-ASCII name UTF-8."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib


def unflagged_zip(entries: list[tuple[bytes, bytes, bytes]]) -> bytes:
    """entries: (raw name, data, extra field). Each is written under an ASCII stand-in of the name's length (so
    unflagged), then the stand-in is replaced by the raw bytes in its local and central headers."""
    out = io.BytesIO()
    stand_ins = []
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for position, (raw, data, extra) in enumerate(entries):
            stand_in = f"~{position}~".ljust(len(raw), "~").encode()
            assert len(stand_in) == len(raw), "a name of at least 3 bytes"
            info = zipfile.ZipInfo(stand_in.decode())
            info.extra = extra
            archive.writestr(info, data)
            stand_ins.append(stand_in)
    body = out.getvalue()
    for stand_in, (raw, _, _) in zip(stand_ins, entries, strict=True):
        assert body.count(stand_in) == 2, "the stand-in is only in the two headers"
        body = body.replace(stand_in, raw)
    return body


def unicode_path_field(raw_name: bytes, name: str, version: int = 1, crc: int | None = None) -> bytes:
    """An Info-ZIP Unicode Path extra field (0x7075) giving `name` for an entry whose header name is `raw_name`."""
    body = struct.pack("<BL", version, zlib.crc32(raw_name) if crc is None else crc) + name.encode("utf-8")
    return struct.pack("<HH", 0x7075, len(body)) + body
