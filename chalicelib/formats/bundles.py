"""Bundles: many originals of a flow kept as one S3 object, a plain (uncompressed) POSIX tar.

One object per few dozen invoices instead of one each: a PUT, a GET and a bucket notification per bundle
rather than per invoice (S3 requests are the largest per-invoice cost of a flow). Each member is an
original's exact bytes, named by its invoice id, with its metadata as PAX headers, so a bundle is
self-describing and any tar tool can read it; the record keeps the member's offset, so one original
is read back with a range GET.

Bundles are written by the platform, never taken from outside: reading one trusts its structure.
"""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass, field

MEDIA_TYPE = "application/x-tar"
HEADER_PREFIX = "chorale."  # PAX header names of the members' metadata


@dataclass(frozen=True, slots=True)
class BundleMember:
    name: str
    data: bytes
    metadata: dict[str, str] = field(default_factory=dict)
    offset: int = 0  # where the member's bytes start in the bundle (set when read)


def write_bundle(members: list[BundleMember]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for member in members:
            info = tarfile.TarInfo(member.name)
            info.size = len(member.data)
            info.mode = 0o600
            info.pax_headers = {HEADER_PREFIX + k: v for k, v in member.metadata.items()}
            archive.addfile(info, io.BytesIO(member.data))
    return buffer.getvalue()


def read_bundle(data: bytes) -> list[BundleMember]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
        return [
            BundleMember(
                info.name,
                data[info.offset_data : info.offset_data + info.size],
                {k[len(HEADER_PREFIX) :]: v for k, v in info.pax_headers.items() if k.startswith(HEADER_PREFIX)},
                info.offset_data,
            )
            for info in archive.getmembers()
            if info.isfile()
        ]
