"""Hostile archives: every case is a per-member error (or, for the archive itself, UnreadableArchive)."""

from __future__ import annotations

import contextlib
import gzip
import io
import signal
import stat
import struct
import tarfile
import zipfile
import zlib

import pytest
from zip_names import unflagged_zip, unicode_path_field

from chalicelib.formats.archives import (
    Limits,
    UnreadableArchive,
    _CountingReader,
    _unicode_path,
    name_problem,
    read_members,
    zip_file_count,
)

MiB = 1024 * 1024


def make_zip(entries: list[tuple], compression=zipfile.ZIP_DEFLATED) -> bytes:
    """entries: (name, data) or (ZipInfo, data)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return out.getvalue()


def make_tar_gz(entries: list[tarfile.TarInfo | tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for entry in entries:
            if isinstance(entry, tarfile.TarInfo):
                archive.addfile(entry)
            else:
                name, data = entry
                info = tarfile.TarInfo(name)
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


def by_name(members):
    return {m.name: m for m in members}


def test_zip_members_are_read_in_order_directories_skipped():
    data = make_zip([("a.xml", b"<a/>"), ("dir/", b""), ("dir/b.xml", b"<b/>")])
    members = read_members(data)
    assert [(m.name, m.data, m.error) for m in members] == [("a.xml", b"<a/>", None), ("dir/b.xml", b"<b/>", None)]


@pytest.mark.parametrize(
    "name, code",
    [
        ("../evil.xml", "traversal"),
        ("a/../../evil.xml", "traversal"),
        ("..\\evil.xml", "traversal"),
        ("/etc/passwd", "absolute-path"),
        ("\\windows\\system.ini", "absolute-path"),
        ("C:\\evil.xml", "absolute-path"),
    ],
)
def test_traversal_and_absolute_names_are_refused_and_the_others_go_through(name, code):
    members = by_name(read_members(make_zip([("ok.xml", b"<ok/>"), (name, b"<x/>")])))
    assert members["ok.xml"].data == b"<ok/>"
    assert members[name].data is None and members[name].code == code
    assert name_problem("fine/name.xml") is None


def test_zip_symlink_is_refused():
    link = zipfile.ZipInfo("link.xml")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    members = by_name(read_members(make_zip([(link, b"/etc/passwd"), ("ok.xml", b"<ok/>")])))
    assert members["link.xml"].code == "link" and members["link.xml"].data is None
    assert members["ok.xml"].data == b"<ok/>"


def test_duplicate_names_keep_the_first_and_refuse_the_others():
    with pytest.warns(UserWarning):  # zipfile warns when writing a duplicate name
        data = make_zip([("inv.xml", b"<first/>"), ("inv.xml", b"<second/>"), ("INV.xml", b"<third/>")])
    members = read_members(data)
    assert members[0].data == b"<first/>"
    assert [m.code for m in members[1:]] == ["duplicate", "duplicate"]


def test_encrypted_member_is_refused():
    data = bytearray(make_zip([("secret.xml", b"<x/>")], zipfile.ZIP_STORED))
    central = data.index(b"PK\x01\x02")
    data[central + 8] |= 0x1  # general purpose flag, bit 0: encrypted (zipfile would not write it)
    data[6] |= 0x1
    members = read_members(bytes(data))
    assert members[0].code == "encrypted"


def test_zip_bomb_is_refused_from_the_central_directory_before_inflating():
    bomb = make_zip([("bomb.xml", b"\0" * (20 * MiB)), ("ok.xml", b"<ok/>")])
    assert len(bomb) < 100_000  # ratio ~1000
    members = by_name(read_members(bomb))
    assert members["bomb.xml"].code == "ratio" and "decompression bomb" in members["bomb.xml"].error
    assert members["ok.xml"].data == b"<ok/>"


def test_per_file_and_total_sizes_are_bounded_before_extraction():
    limits = Limits(max_member_bytes=3000, max_total_bytes=5000, ratio_floor_bytes=10 * MiB)
    data = make_zip([("big.xml", b"x" * 4000), ("a.xml", b"a" * 2500), ("b.xml", b"b" * 2500), ("c.xml", b"c")])
    members = by_name(read_members(data, limits))
    assert members["big.xml"].code == "too-large"
    assert members["a.xml"].data and members["b.xml"].data  # 5000 bytes: at the total limit
    assert members["c.xml"].code == "total-size"


def test_too_many_files_is_an_unreadable_archive():
    data = make_zip([(f"{i}.xml", b"<x/>") for i in range(6)])
    with pytest.raises(UnreadableArchive, match="at most 5"):
        read_members(data, Limits(max_files=5))


@pytest.mark.parametrize("data", [b"PK\x03\x04garbage" + b"\0" * 100, b"\x1f\x8bnot gzip at all", b"plain text"])
def test_unreadable_archives_raise(data):
    with pytest.raises(UnreadableArchive):
        read_members(data)


def test_tar_gz_members_links_devices_and_names():
    symlink = tarfile.TarInfo("link.xml")
    symlink.type, symlink.linkname = tarfile.SYMTYPE, "/etc/passwd"
    hardlink = tarfile.TarInfo("hard.xml")
    hardlink.type, hardlink.linkname = tarfile.LNKTYPE, "ok.xml"
    device = tarfile.TarInfo("dev.xml")
    device.type = tarfile.CHRTYPE
    data = make_tar_gz(
        [("ok.xml", b"<ok/>"), symlink, hardlink, device, ("../up.xml", b"<x/>"), ("/abs.xml", b"<x/>"),
         ("ok.xml", b"<again/>")]
    )  # fmt: skip
    members = read_members(data)
    assert [(m.name, m.code) for m in members] == [
        ("ok.xml", None),
        ("link.xml", "link"),
        ("hard.xml", "link"),
        ("dev.xml", "special"),
        ("../up.xml", "traversal"),
        ("/abs.xml", "absolute-path"),
        ("ok.xml", "duplicate"),
    ]
    assert members[0].data == b"<ok/>"


def test_tar_gz_bomb_stops_at_the_inflated_limit_and_keeps_what_came_before():
    data = make_tar_gz([("ok.xml", b"<ok/>"), ("bomb.xml", b"\0" * (40 * MiB)), ("after.xml", b"<x/>")])
    assert len(data) < 200_000
    members = read_members(data, Limits(max_total_bytes=8 * MiB))
    assert members[0].name == "ok.xml" and members[0].data == b"<ok/>"
    assert members[-1].code in ("total-size", "too-large")
    assert "after.xml" not in {m.name for m in members if m.data}


def test_tar_gz_inflation_is_bounded_by_the_ratio_to_its_compressed_size():
    data = make_tar_gz([("bomb.xml", b"\0" * (60 * MiB))])
    members = read_members(data, Limits(max_member_bytes=100 * MiB))  # not refused by its size: by inflation
    assert members[-1].code == "total-size" and "decompression bomb" in members[-1].error


def test_tar_gz_more_files_than_the_limit_is_refused_whole_as_a_zip_is():
    entries = [(f"{i}.xml", b"<x/>") for i in range(4)]
    for data in (make_tar_gz(entries), make_zip(entries)):
        with pytest.raises(UnreadableArchive, match="at most 3: no file of it is deposited"):
            read_members(data, Limits(max_files=3))
    assert len(read_members(make_tar_gz(entries[:3]), Limits(max_files=3))) == 3


def test_zip_file_count_reads_the_central_directory_only():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("dossier/", b"")
        archive.writestr("dossier/a.xml", b"<a/>")
    assert zip_file_count(out.getvalue()) == 1
    empty = io.BytesIO()
    zipfile.ZipFile(empty, "w").close()
    assert zip_file_count(empty.getvalue()) == 0
    with pytest.raises(UnreadableArchive, match="The ZIP archive cannot be read: File is not a zip file"):
        zip_file_count(b"PK\x03\x04" + b"\x00" * 64)


def test_many_small_members_of_zeros_are_bounded_by_the_whole_archives_ratio():
    """Each member is under the per-member ratio floor (1 MiB), but the archive inflates a thousand times: only
    what its ratio allows is read (here the 16 MiB floor), the rest is refused per file."""
    data = make_zip([(f"f{i}.xml", b"\0" * (512 * 1024)) for i in range(64)])  # 32 MiB from ~35 KB
    members = read_members(data)
    held = sum(len(m.data or b"") for m in members)
    assert held <= Limits().archive_floor_bytes and len(members) == 64
    assert [m.code for m in members[32:]] == ["total-size"] * 32 and all(m.data for m in members[:32])
    assert "compressed" in members[-1].error and "total limit" in members[-1].error


def test_the_whole_archive_may_inflate_up_to_its_ratio_above_the_floor():
    limits = Limits(archive_floor_bytes=0, ratio_floor_bytes=10 * 1024 * 1024)
    data = make_zip([(f"f{i}.xml", b"\0" * (64 * 1024)) for i in range(8)])  # 512 KiB from ~1.5 KB
    members = read_members(data, limits)
    assert sum(len(m.data or b"") for m in members) <= limits.max_ratio * len(data)
    assert any(m.code == "total-size" for m in members)


def test_the_total_limit_fits_the_expanding_function():
    # 2,048 MB (infra QUEUE_CONSUMERS): members and renditions (each up to the total) beside a 120 MiB upload
    assert 2 * Limits().max_total_bytes + 120 * 1024 * 1024 <= 1024 * 1024 * 1024


def sparse_members(count: int, real_size: int = 32 * MiB - 1) -> list[tarfile.TarInfo]:
    """PAX (GNU 0.1) sparse members: no stored data, a map of one hole as large as `real_size`."""
    members = []
    for i in range(count):
        info = tarfile.TarInfo(f"hole{i}.xml")
        info.pax_headers = {"GNU.sparse.map": f"{real_size},0", "GNU.sparse.size": str(real_size)}
        members.append(info)
    return members


def make_pax_tar_gz(entries: list[tarfile.TarInfo | tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz", format=tarfile.PAX_FORMAT) as archive:
        for entry in entries:
            if isinstance(entry, tarfile.TarInfo):
                archive.addfile(entry)
            else:
                info = tarfile.TarInfo(entry[0])
                info.size = len(entry[1])
                archive.addfile(info, io.BytesIO(entry[1]))
    return out.getvalue()


def test_tar_sparse_members_are_refused_before_tarfile_fills_their_holes():
    """Their holes are made by tarfile, not inflated through the counting reader: 3 members of 32 MiB of holes in
    a few hundred bytes would be held in memory (the per-member limit alone let each through)."""
    old_gnu = tarfile.TarInfo("old.xml")
    old_gnu.type = tarfile.GNUTYPE_SPARSE  # the old GNU 'S' type
    data = make_pax_tar_gz([("ok.xml", b"<ok/>"), *sparse_members(3), old_gnu, ("after.xml", b"<x/>")])
    assert len(data) < 2048
    members = read_members(data)
    assert [(m.name, m.code) for m in members] == [
        ("ok.xml", None), ("hole0.xml", "special"), ("hole1.xml", "special"), ("hole2.xml", "special"),
        ("old.xml", "special"), ("after.xml", None),
    ]  # fmt: skip
    assert "sparse" in members[1].error and members[1].data is None
    assert sum(len(m.data or b"") for m in members) == len(b"<ok/><x/>")


def test_tar_members_sizes_are_held_to_the_archives_inflation_limit_as_a_zips_are():
    data = make_tar_gz([("ok.xml", b"<ok/>"), ("big.xml", b"\0" * MiB), ("after.xml", b"<x/>")])
    limits = Limits(archive_floor_bytes=128 * 1024)  # over the counting reader's first read (64 KiB)
    limit = limits.inflation_limit(len(data))
    assert limit == 128 * 1024
    members = read_members(data, limits)
    assert (members[0].name, members[0].data) == ("ok.xml", b"<ok/>")
    assert (members[1].name, members[1].code) == ("big.xml", "total-size")  # named, before a byte of it is read
    assert f"more than {limit} bytes" in members[1].error and members[1].data is None


def test_a_tar_member_name_that_is_not_utf8_is_refused_alone_under_a_displayable_name():
    """GNU tar in a Latin-1 locale writes b'facture-\\xe9.xml'; tarfile gives it back with a lone surrogate."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz", format=tarfile.GNU_FORMAT, encoding="latin-1") as archive:
        for name in ("ok.xml", "facture-é.xml", "après.xml"):
            info = tarfile.TarInfo(name)
            info.size = 4
            archive.addfile(info, io.BytesIO(b"<a/>"))
    members = read_members(out.getvalue())
    assert [(m.name, m.code) for m in members] == [
        ("ok.xml", None), ("facture-\ufffd.xml", "bad-name"), ("apr\ufffds.xml", "bad-name"),
    ]  # fmt: skip
    for member in members:
        member.name.encode("utf-8")  # no surrogate: it can be stored, reported and served
        (member.error or "").encode("utf-8")
    assert "not valid UTF-8" in members[1].error


def test_a_zip_member_name_flagged_utf8_that_is_not_is_refused_alone():
    """zipfile refuses the whole archive for one such name: the other files must still go through."""
    data = make_zip([("ok.xml", b"<ok/>"), ("facture-é.xml", b"<a/>"), ("z.xml", b"<z/>")])
    data = data.replace("facture-é".encode(), b"facture-\xe9\xe9")  # same length, flag 0x800 kept: invalid UTF-8
    members = read_members(data)
    assert [(m.name, m.code) for m in members] == [
        ("ok.xml", None), ("facture-\ufffd\ufffd.xml", "bad-name"), ("z.xml", None),
    ]  # fmt: skip
    assert members[0].data == b"<ok/>" and members[2].data == b"<z/>"
    assert zip_file_count(data) == 3


def test_unflagged_utf8_names_as_info_zip_writes_them_are_read_as_utf8():
    """Info-ZIP `zip` (Linux, the macOS command line) writes UTF-8 names without the UTF-8 flag: zipfile reads
    them as CP437, and the flow report showed 'factur├⌐ n┬░1.xml'."""
    data = unflagged_zip([("facturé n°1.xml".encode(), b"<a/>", b""), ("FACTURÉ-œ.xml".encode(), b"<b/>", b"")])
    members = read_members(data)
    assert [(m.name, m.data, m.error) for m in members] == [
        ("facturé n°1.xml", b"<a/>", None), ("FACTURÉ-œ.xml", b"<b/>", None),
    ]  # fmt: skip


def test_the_checks_see_an_unflagged_utf8_name_as_it_reads():
    """Read as CP437, 'é.xml' and 'É.xml' ('├⌐.xml', '├ë.xml') were two names."""
    data = unflagged_zip([("é.xml".encode(), b"<a/>", b""), ("É.xml".encode(), b"<b/>", b""),
                          ("../é.xml".encode(), b"<c/>", b"")])  # fmt: skip
    members = read_members(data)
    assert [(m.name, m.code) for m in members] == [("é.xml", None), ("É.xml", "duplicate"), ("../é.xml", "traversal")]
    assert "'é.xml'" in members[1].error


def test_a_name_in_cp437_that_is_not_utf8_is_still_read_as_cp437():
    data = unflagged_zip([(b"fa\x87ade.xml", b"<a/>", b""), (b"r\x82sum\x82.xml", b"<b/>", b"")])
    assert [(m.name, m.data) for m in read_members(data)] == [("façade.xml", b"<a/>"), ("résumé.xml", b"<b/>")]


@pytest.mark.parametrize("raw", [b"factur?.xml", "facturé.xml".encode("cp437")], ids=["ascii", "cp437"])
def test_the_info_zip_unicode_path_field_gives_the_name(raw):
    """Info-ZIP on Windows writes the OEM name (or '?' for what it cannot hold) and the UTF-8 name in 0x7075."""
    extra = struct.pack("<HH", 0xCAFE, 3) + b"abc" + unicode_path_field(raw, "facturé ½.xml")  # after another field
    [member] = read_members(unflagged_zip([(raw, b"<a/>", extra)]))
    assert (member.name, member.data, member.error) == ("facturé ½.xml", b"<a/>", None)


@pytest.mark.parametrize(
    "field",
    [
        unicode_path_field(b"other.xml", "autre.xml"),  # stale: written for another name (CRC)
        unicode_path_field("facturé.xml".encode(), "autre.xml", version=2),
        struct.pack("<HH", 0x7075, 4) + b"\x01abc",  # its CRC cut short
        unicode_path_field("facturé.xml".encode(), ""),
        struct.pack("<HH", 0x7075, 7) + struct.pack("<BL", 1, zlib.crc32("facturé.xml".encode())) + b"\xff\xfe",
    ],
    ids=["stale", "version", "short", "empty", "not utf-8"],
)
def test_a_malformed_unicode_path_field_is_ignored(field):
    """Well framed (zipfile refuses the whole archive for a field past the end of the extra data), but unusable:
    the name falls back to its bytes, read as UTF-8."""
    [member] = read_members(unflagged_zip([("facturé.xml".encode(), b"<a/>", field)]))
    assert (member.name, member.data, member.error) == ("facturé.xml", b"<a/>", None)


def test_a_unicode_path_field_cannot_turn_a_file_into_a_directory_or_back():
    """Review r59 F8: which entries are files is read from the header name, the member's name from the field: a
    file whose field said 'dir/' became a member 'dir/' with data, and a directory whose field named 'a.xml' was
    skipped silently. Such a field is ignored, as a stale one is."""
    file_as_directory = unflagged_zip([(b"abc.xml", b"<a/>", unicode_path_field(b"abc.xml", "dir/"))])
    assert [(m.name, m.data, m.error) for m in read_members(file_as_directory)] == [("abc.xml", b"<a/>", None)]
    directory_as_file = unflagged_zip([(b"sub/", b"", unicode_path_field(b"sub/", "a.xml")), (b"b.xml", b"<b/>", b"")])
    assert [m.name for m in read_members(directory_as_file)] == ["b.xml"]  # the directory entry is skipped, as sub/


def test_reading_the_unicode_path_field_never_raises_on_any_cut_or_random_bytes():
    import random

    raw = "facturé.xml".encode()
    extra = struct.pack("<HH", 0xCAFE, 3) + b"abc" + unicode_path_field(raw, "facturé.xml")
    assert _unicode_path(extra, raw) == "facturé.xml"
    cuts = [extra[:cut] for cut in range(len(extra))]
    assert all(_unicode_path(cut, raw) is None for cut in cuts)
    rng = random.Random(7075)
    for _ in range(2000):
        data = b"\x75\x70" + bytes(rng.randrange(256) for _ in range(rng.randrange(12)))
        name = _unicode_path(data, raw)
        assert name is None or isinstance(name, str)


def test_the_unicode_path_field_of_a_name_flagged_utf8_is_not_read():
    """The flag says the name is UTF-8 already; the field could only be stale."""
    info = zipfile.ZipInfo("facturé.xml")
    info.extra = unicode_path_field("facturé.xml".encode(), "autre.xml")
    assert [m.name for m in read_members(make_zip([(info, b"<a/>")]))] == ["facturé.xml"]


@pytest.mark.parametrize(("first", "second"), [("INV.xml", "inv.xml"), ("./c.xml", "c.xml"), ("d\\e.xml", "d/E.xml")])
def test_a_duplicate_name_is_refused_quoting_the_earlier_files_real_name_and_the_rule(first, second):
    members = read_members(make_zip([(first, b"<first/>"), (second, b"<second/>")]))
    assert members[0].data == b"<first/>"
    assert members[1].code == "duplicate"
    assert repr(first) in members[1].error and "without case" in members[1].error and "'./'" in members[1].error


_OS_METADATA = [
    ("__MACOSX/factures/._A.xml", b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        "),
    ("factures/._B.xml", b"\x00\x05\x16\x07"),
    ("factures/.DS_Store", b"\x00\x00\x00\x01Bud1\x00\x00"),
    ("Thumbs.db", b"\xd0\xcf\x11\xe0"),
    ("sub\\Desktop.ini", b"[.ShellClassInfo]"),
]


@pytest.mark.parametrize("make", [make_zip, make_tar_gz], ids=["zip", "tar.gz"])
def test_os_metadata_entries_are_skipped_in_place_and_never_read(make):
    members = read_members(make([("factures/A.xml", b"<a/>"), *_OS_METADATA, ("factures/._A.xml.bak/B.xml", b"<b/>")]))
    assert [(m.name, m.ignored, m.data, m.error) for m in members] == [
        ("factures/A.xml", False, b"<a/>", None),
        *[(name, True, None, None) for name, _ in _OS_METADATA],
        ("factures/._A.xml.bak/B.xml", False, b"<b/>", None),
    ]


def make_pax_tar(entries: list[tuple[str, bytes, dict[str, str]]], compress: bool = True) -> bytes:
    """entries: (name, data, PAX headers), the headers written as they are (a crafted size or sparse map too)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz" if compress else "w", format=tarfile.PAX_FORMAT) as archive:
        for name, data, pax in entries:
            info = tarfile.TarInfo(name)
            info.size, info.pax_headers = len(data), pax
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


class Spinning(Exception):
    pass


@contextlib.contextmanager
def at_most_seconds(seconds: float):
    """Fails (instead of hanging) a reading that spins."""

    def stop(*_):
        raise Spinning(f"still reading after {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("compress", [True, False], ids=["tar.gz", "tar"])
@pytest.mark.parametrize("declared", [10**9, 10**20])
def test_a_tar_member_declaring_more_than_the_archive_may_inflate_to_stops_the_reading_by_its_size(declared, compress):
    """r48: tarfile's stream mode skips a refused member by reading its declared size, in 10 KiB steps that read
    nothing once past the end: PAX size=10**20 in a 1 KB tar.gz kept the expansion busy for ever."""
    data = make_pax_tar([("ok.xml", b"<ok/>", {}), ("a.xml", b"<a/>", {"size": str(declared)}),
                         ("after.xml", b"<x/>", {})], compress)  # fmt: skip
    with at_most_seconds(5):
        members = read_members(data)
    assert [(m.name, m.code) for m in members] == [
        ("ok.xml", None), ("a.xml", "too-large"), ("(rest of the archive)", "total-size"),
    ]  # fmt: skip
    assert members[0].data == b"<ok/>" and f"{declared} bytes" in members[1].error


@pytest.mark.parametrize("compressed", [True, False], ids=["tar.gz", "tar"])
def test_the_counting_reader_answers_the_end_a_bounded_number_of_times_then_fails(compressed):
    """tarfile skips a member by reading its declared size in steps: past the end each step read nothing, without
    an error, as many times as the size allowed. The end is answered as often as a member within the limit could
    need (in 512-byte steps), and tarfile reads it more than once in normal use (r53), then it is an error."""
    reader = _CountingReader(gzip.compress(b"abc") if compressed else b"abc", limit=4096, compressed=compressed)
    buffer = bytearray(10)
    assert reader.readinto(buffer) == 3
    assert [reader.readinto(buffer) for _ in range(4096 // 512 + 2)] == [0] * 10
    with pytest.raises(EOFError, match="unexpected end of data"):
        reader.readinto(buffer)


@pytest.mark.parametrize("compress", [True, False], ids=["tar.gz", "tar"])
def test_a_tar_without_its_end_of_archive_blocks_reads_whole(compress):
    """r53: a writer that never closes its tar (Go's archive/tar without Close) leaves out the two zero blocks that
    end it; every member is there, and tarfile reads the end twice: no "(rest of the archive)" error for it."""
    raw = io.BytesIO()
    archive = tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT)
    for name in ("a.xml", "b.xml"):
        info = tarfile.TarInfo(name)
        info.size = 4
        archive.addfile(info, io.BytesIO(b"<a/>"))
    unclosed = raw.getvalue()[: archive.offset]  # (close() would write the end blocks)
    data = gzip.compress(unclosed) if compress else unclosed
    members = read_members(data)
    assert [(m.name, m.code, m.data) for m in members] == [("a.xml", None, b"<a/>"), ("b.xml", None, b"<a/>")]


_BAD_SPARSE = {
    "GNU sparse 0.1 map": {"GNU.sparse.map": "x"},
    "GNU sparse 1.0 without a map": {"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.realsize": "10"},
}


@pytest.mark.parametrize("compress", [True, False], ids=["tar.gz", "tar"])
@pytest.mark.parametrize("pax", _BAD_SPARSE.values(), ids=_BAD_SPARSE.keys())
def test_a_malformed_sparse_header_is_the_archives_fault_not_an_exception(pax, compress):
    """r48: tarfile raises ValueError on these headers; the expansion crashed on every attempt (flow IN_RECU)."""
    alone = make_pax_tar([("invoice.xml", b"<a/>", pax)], compress)
    with pytest.raises(UnreadableArchive, match="The tar.gz archive cannot be read: "):
        read_members(alone)
    after_one = make_pax_tar([("ok.xml", b"<ok/>", {}), ("invoice.xml", b"<a/>", pax)], compress)
    members = read_members(after_one)
    assert [(m.name, m.code) for m in members] == [("ok.xml", None), ("(rest of the archive)", "unreadable")]
    assert members[0].data == b"<ok/>" and "truncated or corrupt" in members[1].error


def zip_of_version_64(name: str = "invoice.xml", raw_name: bytes | None = None) -> bytes:
    """A ZIP whose central directory asks for extract version 6.4: zipfile knows up to 6.3."""
    data = make_zip([("ok.xml", b"<ok/>"), (name, b"<a/>")])
    if raw_name is not None:
        data = data.replace(name.encode(), raw_name)
    data = bytearray(data)
    entry = data.rfind(b"PK\x01\x02")  # the second member's central directory entry
    data[entry + 6] = 64
    return bytes(data)


@pytest.mark.parametrize(
    "data",
    [
        zip_of_version_64(),
        zip_of_version_64("facture-é.xml", b"facture-\xe9\xe9.xml"),
    ],  # the second: read again unflagged
    ids=["version 6.4", "version 6.4 and a name flagged UTF-8 that is not"],
)
def test_a_zip_of_an_unknown_version_is_an_unreadable_archive(data):
    """r48: zipfile raises NotImplementedError while reading the central directory: POST /v1/flows answered 500
    and the expansion crashed."""
    for read in (zip_file_count, read_members):  # POST /v1/flows refuses it in the expansion's words
        with pytest.raises(UnreadableArchive, match="The ZIP archive cannot be read: zip file version 6.4"):
            read(data)


def test_a_tar_member_one_byte_over_the_per_file_limit_is_too_large():
    """The tar twin of test_per_file_and_total_sizes_are_bounded_before_extraction (r60)."""
    limits = Limits(max_member_bytes=3000, max_total_bytes=50_000, ratio_floor_bytes=10 * 1024 * 1024)
    archive = make_tar_gz([("big.xml", b"x" * 3001), ("ok.xml", b"y" * 3000)])
    members = {m.name: m for m in read_members(archive, limits)}
    assert members["big.xml"].code == "too-large" and members["big.xml"].data is None
    assert members["ok.xml"].data == b"y" * 3000
