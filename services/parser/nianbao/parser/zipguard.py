"""The checks an Office Open XML package (DOCX, XLSX) passes before a library reads it.

A DOCX or XLSX is a zip of XML parts. Before python-docx or openpyxl sees the bytes, the package is
refused with :class:`~nianbao.parser.errors.UnusableInput` when it

* is larger than ``max_document_bytes`` (``too_large``);
* is not a zip, is truncated, has a member that fails its CRC or is encrypted, or lacks the main part
  (``corrupt``);
* is a zip bomb (``too_large``): too many members, declared sizes summing beyond
  ``max_decompressed_bytes``, a large member with an extreme compression ratio, or, since declared sizes
  can lie, more bytes actually inflated than the limit (every member is inflated once, in chunks);
* holds a DTD in an XML part (``hostile_xml``): OOXML never has one, and entity declarations are how
  billion-laughs and external-entity payloads work, so no XML parser gets to see them.
"""

from __future__ import annotations

import io
import zipfile
import zlib

from nianbao.parser.errors import UnusableInput
from nianbao.parser.settings import ParserSettings

MAX_MEMBERS = 10_000  # real packages have a few dozen parts; a sheet-per-member workbook a few hundred
MAX_RATIO = 500  # deflate tops out near 1032:1; real XML parts stay well under 100:1
RATIO_FLOOR = 1024 * 1024  # small members may compress extremely well (runs of blanks); only big ones count
_CHUNK = 256 * 1024
_DTD_MARKERS = tuple(
    word.encode(encoding)
    for word in ("<!DOCTYPE", "<!doctype", "<!ENTITY", "<!entity")
    for encoding in ("utf-8", "utf-16-le", "utf-16-be")
)
_OVERLAP = max(len(m) for m in _DTD_MARKERS)


def check_package(data: bytes, settings: ParserSettings, *, main_part: str, what: str) -> None:
    """Refuse ``data`` unless it is a sane zip package holding ``main_part`` (``word/document.xml``)."""
    if len(data) > settings.max_document_bytes:
        raise UnusableInput("too_large", f"the {what} has {len(data)} bytes, over {settings.max_document_bytes}")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        # NotImplementedError: a member claims a zip version or feature zipfile does not have (damage)
        raise UnusableInput("corrupt", f"the {what} is not a readable zip package: {exc}") from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise UnusableInput("too_large", f"the {what} has {len(infos)} zip members, over {MAX_MEMBERS}")
        if main_part not in {i.filename for i in infos}:
            raise UnusableInput("corrupt", f"the {what} has no {main_part}")
        _check_declared(infos, settings, what)
        _inflate_all(archive, infos, settings, what)


def _check_declared(infos: list[zipfile.ZipInfo], settings: ParserSettings, what: str) -> None:
    limit = settings.max_decompressed_bytes
    declared = sum(i.file_size for i in infos)
    if declared > limit:
        raise UnusableInput("too_large", f"the {what} declares {declared} inflated bytes, over {limit}")
    for info in infos:
        if info.flag_bits & 0x1:
            raise UnusableInput("corrupt", f"the {what} has an encrypted member {info.filename!r}")
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise UnusableInput(
                "too_large",
                f"the {what} member {info.filename!r} inflates {info.compress_size} bytes to {info.file_size} "
                f"(ratio over {MAX_RATIO}: a zip bomb)",
            )


def _inflate_all(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], settings: ParserSettings, what: str) -> None:
    """Inflate every member once, counting the bytes that really come out and looking for DTDs."""
    limit = settings.max_decompressed_bytes
    total = 0
    for info in infos:
        if info.is_dir():
            continue
        xml = info.filename.lower().endswith((".xml", ".rels", ".vml"))
        tail = b""
        try:
            with archive.open(info) as member:
                while chunk := member.read(_CHUNK):
                    total += len(chunk)
                    if total > limit:
                        raise UnusableInput("too_large", f"the {what} inflates to more than {limit} bytes")
                    if xml:
                        window = tail + chunk
                        if any(marker in window for marker in _DTD_MARKERS):
                            raise UnusableInput(
                                "hostile_xml",
                                f"the {what} part {info.filename!r} declares a DTD or entities (never in OOXML)",
                            )
                        tail = window[-_OVERLAP:]
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError) as exc:
            # a truncated stream, a CRC mismatch, an unsupported compression method: damage, not a crash
            raise UnusableInput("corrupt", f"the {what} member {info.filename!r} cannot be read: {exc}") from exc
