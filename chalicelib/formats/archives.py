"""Reading untrusted archives (ZIP, tar.gz) into members, with every limit checked before a byte is inflated.

Hostile cases each become a per-member error, never an exception, so that the other files go through:
zip bombs (per-member compression ratio, per-member size and the running total of declared sizes, bounded by
the total limit and by the ratio to the archive's size, are checked from the ZIP central directory before
extraction; a tar.gz is inflated through a counting reader that stops at the same bound, and the running total
of its members' sizes is held to that bound too), absolute names and path traversal, symbolic and hard links,
special files (devices, FIFOs, and tar sparse files, whose holes tarfile fills outside the counted stream),
encrypted members, duplicate names, names that are not UTF-8 (a ZIP name without the UTF-8 flag is read as
Info-ZIP writes it: see _zip_name).
Metadata that operating systems add to archives (macOS's __MACOSX/ and ._* AppleDouble files, .DS_Store,
Windows's Thumbs.db and desktop.ini) is skipped: it is never read, and its member is marked `ignored`.
Nothing is ever written to a file system.
"""

from __future__ import annotations

import gzip
import io
import posixpath
import re
import stat
import struct
import tarfile
import zipfile
import zlib
from dataclasses import dataclass

from . import sniffing

MiB = 1024 * 1024
_DRIVE = re.compile(r"^[A-Za-z]:")
# What zipfile, tarfile, gzip and zlib raise on crafted headers (a "version 6.4" ZIP: NotImplementedError; a bad
# GNU sparse map: ValueError; odd PAX or extra fields: UnicodeError, OverflowError, struct.error, KeyError,
# IndexError…): the archive's fault, never an exception of the expansion. MemoryError and this module's own
# _TooLarge are not among them.
_LIBRARY_ERRORS = (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError, zlib.error, struct.error, ValueError,
                   ArithmeticError, LookupError, RuntimeError, TypeError)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Limits:
    """What one archive may inflate to. Every member is held in memory by the expanding function (2,048 MB,
    infra QUEUE_CONSUMERS) beside the archive itself (an upload: up to 120 MiB), the renditions of its PDF and JSON
    members (bounded by the same total in services.flows), one document being parsed (up to +324 MiB for the
    densest 4 MiB XML) and the bundles being written: 256 MiB of members keeps the sum near 1 GB."""

    max_files: int = 1000
    max_member_bytes: int = 32 * MiB  # a member may be a large Factur-X PDF (its XML is capped apart)
    max_total_bytes: int = 256 * MiB
    max_ratio: int = 100  # inflated / deflated: per member over ratio_floor_bytes, and for the whole archive
    ratio_floor_bytes: int = 1 * MiB
    archive_floor_bytes: int = 16 * MiB  # any archive may inflate to this much, whatever its ratio

    def inflation_limit(self, archive_bytes: int) -> int:
        """How much the whole archive may inflate to: the total limit, and the ratio to its own size (so that
        many small members of zeros, each under the per-member ratio floor, are no bomb either)."""
        return min(self.max_total_bytes, max(self.max_ratio * archive_bytes, self.archive_floor_bytes))


@dataclass(frozen=True, slots=True)
class Member:
    name: str
    data: bytes | None = None
    error: str | None = None  # why this member is not read (then data is None)
    code: str | None = None  # stable error code: absolute-path, traversal, link, special, encrypted, duplicate, …
    ignored: bool = False  # OS metadata, skipped (not a file of the flow; kept so that positions stay the archive's)


class UnreadableArchive(ValueError):
    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


def read_members(data: bytes, limits: Limits = Limits()) -> list[Member]:
    """The members of a ZIP or tar.gz archive; UnreadableArchive when the archive itself cannot be read."""
    kind = sniffing.sniff(data)
    if kind == sniffing.ZIP:
        return _zip_members(data, limits)
    if kind in (sniffing.GZIP, sniffing.TAR):
        return _tar_members(data, limits, compressed=kind == sniffing.GZIP)
    raise UnreadableArchive(f"The file is {sniffing.describe(kind)}, not a ZIP or tar.gz archive.")


def zip_file_count(data: bytes) -> int:
    """How many files (not directories) a ZIP's central directory lists. Cheap: nothing is inflated. A directory that
    cannot be read is the expansion's UnreadableArchive, in its words."""
    return sum(1 for info in _zip_directory(data)[2] if not info.is_dir())


def _zip_directory(data: bytes) -> tuple[zipfile.ZipFile, dict[str, str], list[zipfile.ZipInfo]]:
    """The ZIP archive, its misflagged names (``_open_zip``) and its central directory's entries."""
    try:
        archive, bad_names = _open_zip(data)
        return archive, bad_names, archive.infolist()
    except _LIBRARY_ERRORS as exc:
        raise UnreadableArchive(f"The ZIP archive cannot be read: {exc}.") from None


_OS_METADATA_FILES = frozenset({".ds_store", "thumbs.db", "desktop.ini"})


def is_os_metadata(name: str) -> bool:
    """Whether a member is metadata an OS adds when it makes an archive (macOS Finder's __MACOSX/ folder and ._*
    AppleDouble files, .DS_Store; Windows's Thumbs.db and desktop.ini), not a file its sender chose."""
    parts = [p for p in re.split(r"[\\/]+", name) if p]
    if not parts:
        return False
    base = parts[-1]
    return "__MACOSX" in parts[:-1] or base.startswith("._") or base.casefold() in _OS_METADATA_FILES


def too_many_files(count: str, max_files: int) -> UnreadableArchive:
    """An archive over the file limit is refused whole, ZIP or tar.gz alike: no file of it is deposited."""
    return UnreadableArchive(f"The archive holds {count} files; a flow takes at most {max_files}: no file of it is "
                             "deposited, send them in several flows.")  # fmt: skip


def _shown(name: str) -> str:
    """A member name as an error message quotes it: the sender's names can be any length."""
    return repr(name) if len(name) <= 80 else repr(name[:40]) + "…" + repr(name[-30:])


def name_problem(name: str) -> tuple[str, str] | None:
    """(code, detail) when a member name is unsafe: absolute, a drive, a traversal, or empty."""
    if not name or "\x00" in name:
        return "bad-name", "The file name is empty or contains a NUL character."
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        return "absolute-path", f"The file name {_shown(name)} is an absolute path: archive members must be relative."
    if ".." in re.split(r"[\\/]+", name):
        return "traversal", f"The file name {_shown(name)} climbs out of the archive ('..'): path traversal is refused."
    return None


def _not_utf8(shown: str) -> Member:
    """A member whose name is not UTF-8: refused alone, under its name with the invalid bytes as U+FFFD."""
    return Member(
        shown,
        error=f"The file name {_shown(shown)} is not valid UTF-8 (each invalid byte is shown as \ufffd): name the "
        "file in UTF-8 and send it again.",
        code="bad-name",
    )


def _tar_name(name: str) -> tuple[str, bool]:
    """A tar member's name as Python shows it, and whether its bytes were UTF-8: tarfile decodes names with
    surrogateescape, so a Latin-1 name comes back with lone surrogates, which no UTF-8 encoder (DynamoDB, S3,
    JSON) takes. The name kept is displayable: its invalid bytes become U+FFFD."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace"), False
    return name, True


def _normal(name: str) -> str:
    """The name two members may not share: without case, '\\' as '/', and no './' (they would collide when
    the archive is extracted on Windows or macOS, or by most tools)."""
    return posixpath.normpath(name.replace("\\", "/")).casefold()


class _Budget:
    def __init__(self, limits: Limits):
        self.limits = limits
        self.total = 0
        self.names: dict[str, str] = {}  # normal name -> the first member's real name
        self.files = 0

    def check_name(self, name: str) -> Member | None:
        problem = name_problem(name)
        if problem:
            return Member(name, error=problem[1], code=problem[0])
        normal = _normal(name)
        if normal in self.names:
            return Member(name, error=f"An earlier file of the archive is already named {_shown(self.names[normal])} "
                          "(names are compared without case, with '\\' as '/' and without a leading './').",
                          code="duplicate")  # fmt: skip
        self.names[normal] = name
        return None


def _open_zip(data: bytes) -> tuple[zipfile.ZipFile, dict[str, str]]:
    """The ZIP archive, and its members whose names are flagged UTF-8 but are not: zipfile refuses the whole
    archive for one such name, so the archive is read again with that flag cleared in its central directory
    (zipfile then reads those names as cp437); each is mapped from that cp437 name to its displayable name."""
    try:
        return zipfile.ZipFile(io.BytesIO(data)), {}
    except UnicodeDecodeError:
        pass
    patched, bad = _unflag_bad_utf8_names(data)
    return zipfile.ZipFile(io.BytesIO(patched)), {raw.decode("cp437"): raw.decode("utf-8", "replace") for raw in bad}


_UTF8_FLAG = 0x800  # general purpose bit 11: the name (and comment) are UTF-8
_UNICODE_PATH = 0x7075  # Info-ZIP Unicode Path extra field: version 1, CRC-32 of the header's name, UTF-8 name
_EXTRA_HEADER = struct.Struct("<HH")
_UNICODE_PATH_HEAD = struct.Struct("<BL")


def _zip_name(info: zipfile.ZipInfo) -> str:
    """An entry's name as its sender wrote it. zipfile reads a name without the UTF-8 flag as CP437, as the
    format says, but Info-ZIP `zip` (Linux, the macOS command line) writes UTF-8 names without that flag: for
    such an entry, its Unicode Path extra field when that holds for this name (and names a file as the header
    does, or a directory), else its bytes as UTF-8 when they
    are (7-Zip's and libarchive's rule: a real CP437 name is almost never valid UTF-8), else CP437."""
    if info.flag_bits & _UTF8_FLAG:
        return info.filename
    try:
        raw = info.orig_filename.encode("cp437")  # the header's bytes: zipfile decoded them as CP437
    except UnicodeEncodeError:
        return info.filename
    unicode_path = _unicode_path(info.extra, raw)
    # one that turns a file into a directory or back is ignored: which entries are files was read from the header
    if unicode_path and unicode_path.endswith("/") == info.is_dir():
        return unicode_path
    if raw.isascii():
        return info.filename
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return info.filename


def _unicode_path(extra: bytes, raw_name: bytes) -> str | None:
    """The UTF-8 name of a 0x7075 extra field written for `raw_name` (its CRC-32 matches); None when there is
    none, or when it is malformed or stale (written for a name since changed by another tool)."""
    position = 0
    while position + _EXTRA_HEADER.size <= len(extra):
        kind, length = _EXTRA_HEADER.unpack_from(extra, position)
        body = extra[position + _EXTRA_HEADER.size : position + _EXTRA_HEADER.size + length]
        position += _EXTRA_HEADER.size + length
        if kind != _UNICODE_PATH:
            continue
        if len(body) != length or len(body) < _UNICODE_PATH_HEAD.size:
            return None
        version, crc = _UNICODE_PATH_HEAD.unpack_from(body)
        if version != 1 or crc != zlib.crc32(raw_name):
            return None
        try:
            return body[_UNICODE_PATH_HEAD.size :].decode("utf-8")
        except UnicodeDecodeError:
            return None
    return None


_CD_ENTRY = struct.Struct("<4s4B4HL2L5H2L")  # zipfile's structCentralDir: 46 bytes


def _unflag_bad_utf8_names(data: bytes) -> tuple[bytes, list[bytes]]:
    """A copy of the ZIP whose central-directory entries flagged UTF-8 (bit 11) with names that are not UTF-8
    have that flag cleared, and those names' bytes. The walk is zipfile's own (its end record, then entry by
    entry); whatever it cannot follow is left as it is, for zipfile to refuse."""
    end = zipfile._EndRecData(io.BytesIO(data))  # noqa: SLF001 - the end record, as zipfile itself finds it
    if not end:
        raise zipfile.BadZipFile("File is not a zip file")
    size = end[zipfile._ECD_SIZE]  # noqa: SLF001
    start = end[zipfile._ECD_LOCATION] - size  # noqa: SLF001 - where the directory is, whatever precedes the ZIP
    if end[zipfile._ECD_SIGNATURE] == zipfile.stringEndArchive64:  # noqa: SLF001
        start -= zipfile.sizeEndCentDir64 + zipfile.sizeEndCentDir64Locator
    patched, bad = bytearray(data), []
    position, stop = max(start, 0), max(start, 0) + size
    while position + _CD_ENTRY.size <= min(stop, len(data)):
        entry = _CD_ENTRY.unpack_from(data, position)
        if entry[0] != zipfile.stringCentralDir:
            break
        flags, name_length, extra_length, comment_length = entry[5], entry[12], entry[13], entry[14]
        name = data[position + _CD_ENTRY.size : position + _CD_ENTRY.size + name_length]
        if flags & _UTF8_FLAG:
            try:
                name.decode("utf-8")
            except UnicodeDecodeError:
                struct.pack_into("<H", patched, position + 8, flags & ~_UTF8_FLAG)
                bad.append(name)
        position += _CD_ENTRY.size + name_length + extra_length + comment_length
    return bytes(patched), bad


def _zip_members(data: bytes, limits: Limits) -> list[Member]:
    archive, bad_names, infos = _zip_directory(data)
    files = [i for i in infos if not i.is_dir()]
    if len(files) > limits.max_files:
        raise too_many_files(str(len(files)), limits.max_files)
    budget = _Budget(limits)
    limit = limits.inflation_limit(len(data))
    members: list[Member] = []
    for info in files:
        if info.orig_filename in bad_names:
            members.append(_not_utf8(bad_names[info.orig_filename]))
            continue
        name = _zip_name(info)  # before every check: they must see the name the sender sees
        if is_os_metadata(name):
            members.append(Member(name, ignored=True))
            continue
        refused = budget.check_name(name)
        if refused:
            members.append(refused)
            continue
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            members.append(Member(name, error="The file is a symbolic link: links are refused.", code="link"))
            continue
        if mode and not stat.S_ISREG(mode) and stat.S_IFMT(mode):
            members.append(Member(name, error="The entry is not a regular file.", code="special"))
            continue
        if info.flag_bits & 0x1:
            members.append(Member(name, error="The file is encrypted.", code="encrypted"))
            continue
        size = info.file_size
        if size > limits.max_member_bytes:
            members.append(Member(name, error=f"The file inflates to {size} bytes, over the per-file limit of "
                                  f"{limits.max_member_bytes}.", code="too-large"))  # fmt: skip
            continue
        if size > limits.ratio_floor_bytes and size > limits.max_ratio * max(info.compress_size, 1):
            ratio = f"{size} / {info.compress_size} bytes"
            members.append(Member(name, error=f"The file's compression ratio ({ratio}) is over {limits.max_ratio}: "
                                  "a decompression bomb is refused.", code="ratio"))  # fmt: skip
            continue
        if budget.total + size > limit:
            members.append(Member(name, error=f"The archive inflates to more than {limit} bytes ({len(data)} "
                                  f"compressed; at most {limits.max_ratio} times its size, and "
                                  f"{limits.max_total_bytes} in all): this file is over the total limit.",
                                  code="total-size"))  # fmt: skip
            continue
        budget.total += size
        try:
            with archive.open(info) as stream:
                content = stream.read(size + 1)  # zipfile stops at the declared size and checks the CRC
        except _LIBRARY_ERRORS as exc:
            members.append(Member(name, error=f"The file cannot be extracted: {exc}.", code="unreadable"))
            continue
        members.append(Member(name, content))
    return members


class _CountingReader(io.RawIOBase):
    """Inflates a gzip stream and stops once `limit` bytes have come out (the bound holds before extraction)."""

    def __init__(self, data: bytes, limit: int, compressed: bool):
        self._source = gzip.GzipFile(fileobj=io.BytesIO(data)) if compressed else io.BytesIO(data)
        self.limit = limit
        self.count = 0
        self._ends = 0  # how many reads found the end of the source
        # tarfile reads the end more than once in normal use (an archive without its end-of-archive blocks, as Go's
        # archive/tar writes one never closed: r53); skipping a member in 512-byte steps at least, it cannot need
        # more reads past the end than this while the member fits the limit (a larger one is refused by its size)
        self._ends_allowed = limit // 512 + 2

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.count >= self.limit:
            raise _TooLarge()
        chunk = self._source.read(min(len(buffer), self.limit - self.count + 1))
        if not chunk:
            self._ends += 1
            if self._ends > self._ends_allowed:  # a reader skipping past the end in steps (tarfile's seek) would spin
                raise EOFError("unexpected end of data")
        self.count += len(chunk)
        if self.count > self.limit:
            raise _TooLarge()
        buffer[: len(chunk)] = chunk
        return len(chunk)


class _TooLarge(Exception):
    pass


# Regular files only: tarfile also counts GNU sparse files as regular, and fills their holes itself.
_TAR_REGULAR = (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.CONTTYPE)


def _tar_members(data: bytes, limits: Limits, compressed: bool) -> list[Member]:
    # A gzip stream has no per-member sizes before inflation: bound the whole inflated stream by the total
    # limit and by the ratio to its compressed size (tar headers and padding included).
    limit = limits.inflation_limit(len(data))
    reader = _CountingReader(data, limit, compressed)
    budget = _Budget(limits)
    members: list[Member] = []
    try:
        archive = tarfile.open(fileobj=io.BufferedReader(reader, 64 * 1024), mode="r|")
        for entry in archive:
            member = _tar_member(archive, entry, budget, limit, len(data))
            if member is not None:
                members.append(member)
            # The next header is past what the stream may inflate to (a member's declared size, PAX size=10**20
            # included): tarfile would read up to it, and past the end of a short stream it reads nothing for
            # ever. Refused by the declared size, before reading.
            if archive.offset > limit:
                raise _TooLarge()
    except _TooLarge:
        members.append(Member("(rest of the archive)", error=f"The archive inflates to more than {limit} bytes "
                              f"({len(data)} compressed): a decompression bomb; the files after that are not read.",
                              code="total-size"))  # fmt: skip
    except UnreadableArchive:
        raise
    except _LIBRARY_ERRORS as exc:
        if not members:
            raise UnreadableArchive(f"The tar.gz archive cannot be read: {exc}.") from None
        members.append(Member("(rest of the archive)", error=f"The archive is truncated or corrupt: {exc}.",
                              code="unreadable"))  # fmt: skip
    return members


def _tar_member(archive: tarfile.TarFile, entry: tarfile.TarInfo, budget: _Budget, limit: int,
                archive_bytes: int) -> Member | None:  # fmt: skip
    """What one tar entry gives: None for a directory, a refused member, or the file read (its size checked)."""
    limits = budget.limits
    if entry.isdir():
        return None
    budget.files += 1
    if budget.files > limits.max_files:  # the whole archive, as a ZIP's: nothing of it is deposited
        raise too_many_files(f"more than {limits.max_files}", limits.max_files)
    name, utf8 = _tar_name(entry.name)
    if utf8 and is_os_metadata(name):
        return Member(name, ignored=True)
    refused = budget.check_name(name) if utf8 else _not_utf8(name)
    if refused:
        return refused
    if entry.issym() or entry.islnk():
        return Member(name, error=f"The file is a {'symbolic' if entry.issym() else 'hard'} link to "
                      f"{entry.linkname!r}: links are refused.", code="link")  # fmt: skip
    if entry.issparse():  # its holes are made by tarfile, not inflated through the counting reader
        return Member(name, error="The entry is a sparse file: only regular files are read.", code="special")
    if entry.type not in _TAR_REGULAR:
        return Member(name, error="The entry is not a regular file (device, FIFO…).", code="special")
    if entry.size > limits.max_member_bytes:
        return Member(name, error=f"The file is {entry.size} bytes, over the per-file limit of "
                      f"{limits.max_member_bytes}.", code="too-large")  # fmt: skip
    if budget.total + entry.size > limit:
        return Member(name, error=f"The archive inflates to more than {limit} bytes ({archive_bytes} compressed; "
                      f"at most {limits.max_ratio} times its size, and {limits.max_total_bytes} in all): this file "
                      "is over the total limit.", code="total-size")  # fmt: skip
    budget.total += entry.size  # the members' sizes, held to the same bound as the inflated stream
    stream = archive.extractfile(entry)
    return Member(name, stream.read(entry.size) if stream else b"")
