"""Bundles: originals kept many to an object, each read back byte for byte with its metadata."""

from __future__ import annotations

import io
import tarfile

from chalicelib.formats.bundles import BundleMember, read_bundle, write_bundle


def test_members_round_trip_with_their_metadata_and_offsets():
    members = [
        BundleMember("01J00000000000000000000001", b"<Invoice>1</Invoice>", {"format": "ubl", "flow-file": "file#1"}),
        BundleMember("01J00000000000000000000002", bytes(range(256)) * 3, {"format": "facturx"}),
        BundleMember("01J00000000000000000000003", b"", {"name": "Société générale — été"}),
    ]
    data = write_bundle(members)
    read = read_bundle(data)
    assert [(m.name, m.data, m.metadata) for m in read] == [(m.name, m.data, m.metadata) for m in members]
    for member in read:  # a range of the object is exactly the original
        assert data[member.offset : member.offset + len(member.data)] == member.data


def test_a_bundle_is_a_plain_tar_any_tool_reads():
    data = write_bundle([BundleMember("01J00000000000000000000001", b"<x/>", {"sha256": "ab"})])
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
        [info] = archive.getmembers()
        assert info.name == "01J00000000000000000000001" and archive.extractfile(info).read() == b"<x/>"
        assert info.pax_headers["chorale.sha256"] == "ab"
