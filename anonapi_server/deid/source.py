"""The source file as bytes: what may be read into memory, and what is streamed to the output.

A worker's memory stays bounded (≤ 256 MB) on any input. pydicom reads every value smaller than
`DEFER_BYTES` and leaves larger ones (pixel data of a multi-frame image, gigabytes) in the file;
the writer copies those from here in chunks. Two encodings go through pydicom's own writer, which
holds every value in memory: big endian (files up to `PYDICOM_PATH_LIMIT`) and deflated (a deflate
stream is checked first, without keeping it, for what it inflates to: 1 MB can declare 1 GiB).
"""

import struct
import zlib
from typing import BinaryIO, Protocol

DEFER_BYTES = 1 << 20
PYDICOM_PATH_LIMIT = 48 << 20
_CHUNK = 1 << 20
_ITEM = 0xE000FFFE  # (FFFE,E000) read as one little endian 32-bit number
_SEQUENCE_END = 0xE0DDFFFE
_DEFLATED = "1.2.840.10008.1.2.1.99"
_BIG_ENDIAN = "1.2.840.10008.1.2.2"
# VRs whose explicit-VR header has two reserved bytes and a 32-bit length (PS3.5 7.1.2).
LONG_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "UC", "UN", "UR", "UT", "SV", "UV"})
_LONG_VR_BYTES = frozenset(vr.encode("ascii") for vr in LONG_VRS)
_header = struct.Struct("<HH2sH")
_pair = struct.Struct("<II")


class Writable(Protocol):
    """Where copied bytes go: a file, or pydicom's DicomFile wrapping one."""

    def write(self, data: bytes, /) -> object: ...


class TooLarge(ValueError):
    """The file may not go through pydicom's in-memory path (the message says why)."""


class SourceShort(ValueError):
    """The source ends before a value it declares: the file is truncated."""


def transfer_syntax_and_start(fp: BinaryIO) -> tuple[str, int] | None:
    """The transfer syntax named in the file meta and where the data set starts, or None.

    None when the file is not Part-10 or its meta cannot be walked; pydicom then decides.
    """
    fp.seek(0)
    if fp.read(132)[128:] != b"DICM":
        return None
    syntax = ""
    while True:
        start = fp.tell()
        header = fp.read(8)
        if len(header) < 8:
            return syntax, start
        group, element, vr, length = _header.unpack(header)
        if group != 0x0002:
            return syntax, start
        if vr in _LONG_VR_BYTES:
            extra = fp.read(4)
            if len(extra) < 4:
                return None
            length = struct.unpack("<I", extra)[0]
        if length > 1 << 16:
            return None
        value = fp.read(length)
        if element == 0x0010:
            syntax = value.decode("ascii", "replace").rstrip("\0 ")


def too_large(fp: BinaryIO, size: int) -> str | None:
    """Why the file must not go through pydicom's in-memory path, or None if it may."""
    found = transfer_syntax_and_start(fp)
    if found is None:
        return None
    syntax, start = found
    limit_mb = PYDICOM_PATH_LIMIT >> 20
    if syntax == _BIG_ENDIAN and size > PYDICOM_PATH_LIMIT:
        return f"big endian file over {limit_mb} MB"
    if syntax == _DEFLATED and _inflates_beyond(fp, start, PYDICOM_PATH_LIMIT):
        return f"deflated data set inflating to over {limit_mb} MB"
    return None


def _inflates_beyond(fp: BinaryIO, start: int, limit: int) -> bool:
    """Whether the raw deflate stream from `start` inflates to more than `limit` bytes.

    Inflates in bounded steps and keeps nothing: memory stays at one chunk whatever is declared.
    """
    fp.seek(start)
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    total = 0
    while not inflater.eof:
        data = inflater.unconsumed_tail or fp.read(_CHUNK)
        if not data:
            return False
        try:
            total += len(inflater.decompress(data, _CHUNK))
        except zlib.error:
            return False  # not a valid stream: pydicom reports it as unreadable
        if total > limit:
            return True
    return False


def copy_value(source: BinaryIO, out: Writable, start: int, length: int) -> None:
    """Copy `length` bytes of a value from `start` in the source, a chunk at a time."""
    source.seek(start)
    remaining = length
    while remaining:
        chunk = source.read(min(remaining, _CHUNK))
        if not chunk:
            raise SourceShort(f"source ends {remaining} bytes before a value does")
        out.write(chunk)
        remaining -= len(chunk)


def copy_items(source: BinaryIO, out: Writable, start: int) -> None:
    """Copy the items of an undefined-length value (encapsulated pixel data's fragments).

    Items are copied untouched, headers and all, up to the sequence delimiter, which the writer
    writes itself; the fragments are never held in memory or decoded.
    """
    position = start
    while True:
        source.seek(position)
        header = source.read(8)
        if len(header) < 8:
            raise SourceShort("source ends inside encapsulated pixel data")
        tag, length = _pair.unpack(header)
        if tag == _SEQUENCE_END:
            return
        if tag != _ITEM or length == 0xFFFFFFFF:
            raise SourceShort("encapsulated pixel data holds something other than items")
        out.write(header)
        copy_value(source, out, position + 8, length)
        position += 8 + length
