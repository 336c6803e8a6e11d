"""Reading untrusted REFI-QDA files safely: bounded zip archives and XML without entities or external access.

A ``.qdpx`` is a zip file written by another program, possibly by an attacker. It is never extracted to disk:
members are read into memory, one at a time, with limits on their number and their decompressed size that are
enforced while decompressing (the sizes in the zip headers can lie).
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from qualkit.errors import RefiError

MAX_FILES = 10_000
MAX_TOTAL_BYTES = 1024 * 1024 * 1024  # 1 GiB decompressed, all members together
MAX_MEMBER_BYTES = 256 * 1024 * 1024
_CHUNK = 1024 * 1024
_DRIVE = re.compile(r"^[A-Za-z]:")


class ArchiveLimitError(RefiError):
    """The archive exceeds a :class:`Limits` bound: the whole import stops (no partial import of a zip bomb)."""


@dataclass(frozen=True)
class Limits:
    max_files: int = MAX_FILES
    max_total_bytes: int = MAX_TOTAL_BYTES
    max_member_bytes: int = MAX_MEMBER_BYTES


def check_member_name(name: str, archive: object = "<zip>") -> str:
    """The member name as a POSIX path; absolute paths, drive letters and ``..`` are refused."""
    posix = name.replace("\\", "/")
    if posix.startswith("/") or _DRIVE.match(posix):
        raise RefiError(f"{archive}: unsafe zip entry {name!r}: absolute path")
    if ".." in PurePosixPath(posix).parts:
        raise RefiError(f"{archive}: unsafe zip entry {name!r}: '..' leads outside the archive")
    return posix


class SafeZip:
    """A read-only view of a zip archive that enforces :class:`Limits` and refuses unsafe member names.

    Member lookup is case-insensitive (``Sources/`` and ``sources/`` are the same folder, a vendor quirk).
    """

    def __init__(self, path: str | Path, limits: Limits | None = None):
        self.path = Path(path)
        self.limits = limits or Limits()
        self._read_total = 0
        try:
            self._zip = zipfile.ZipFile(self.path)
        except FileNotFoundError:
            raise RefiError(f"{self.path}: file not found") from None
        except (zipfile.BadZipFile, OSError) as error:
            raise RefiError(f"{self.path}: not a zip archive (.qdpx): {error}") from None
        infos = self._zip.infolist()
        if len(infos) > self.limits.max_files:
            raise ArchiveLimitError(f"{self.path}: {len(infos)} entries in the archive, more than the limit "
                            f"{self.limits.max_files}")
        declared = 0
        self._members: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            name = check_member_name(info.filename, self.path)
            declared += info.file_size
            if info.file_size > self.limits.max_member_bytes:
                raise ArchiveLimitError(f"{self.path}: entry {info.filename!r} decompresses to {info.file_size} bytes, "
                                f"more than the limit {self.limits.max_member_bytes}")
            if not info.is_dir():
                self._members[name.lower()] = info
        if declared > self.limits.max_total_bytes:
            raise ArchiveLimitError(f"{self.path}: the archive decompresses to {declared} bytes, more than the limit "
                            f"{self.limits.max_total_bytes}")

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> SafeZip:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def names(self) -> list[str]:
        return [info.filename for info in self._members.values()]

    def find(self, name: str) -> str | None:
        info = self._members.get(check_member_name(name, self.path).lower())
        return info.filename if info else None

    def read(self, name: str) -> bytes:
        """Decompress one member, stopping as soon as it exceeds a limit."""
        info = self._members.get(check_member_name(name, self.path).lower())
        if info is None:
            raise RefiError(f"{self.path}: no entry {name!r} in the archive")
        limit = min(self.limits.max_member_bytes, self.limits.max_total_bytes - self._read_total)
        parts: list[bytes] = []
        size = 0
        try:
            with self._zip.open(info) as stream:
                while chunk := stream.read(_CHUNK):
                    size += len(chunk)
                    if size > limit:
                        raise ArchiveLimitError(f"{self.path}: entry {info.filename!r} decompresses to more than "
                                        f"{limit} bytes (zip bomb?)")
                    parts.append(chunk)
        except (zipfile.BadZipFile, OSError, RuntimeError) as error:  # RuntimeError: encrypted member
            raise RefiError(f"{self.path}: cannot read entry {info.filename!r}: {error}") from None
        self._read_total += size
        return b"".join(parts)


def parse_xml(data: bytes, source: object = "<xml>") -> Element:
    """Parse XML with defusedxml: entity declarations and external references are refused."""
    try:
        return fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as error:
        raise RefiError(f"{source}: refused unsafe XML ({type(error).__name__}: {error})") from None
    except ParseError as error:
        raise RefiError(f"{source}: not well-formed XML: {error}") from None
