"""Writing a de-identified dataset as a DICOM Part-10 file, with a fast path for unchanged bytes.

pydicom's writer encodes every element through a buffer of its own, which costs more per file
than the whole de-identification. Most elements of a de-identified file are still the undecoded
bytes read from the source, so for explicit VR little endian (what nearly all stored DICOM uses,
compressed transfer syntaxes included) this writer copies them behind a packed header; anything
else goes through pydicom's own element writer, and other transfer syntaxes through pydicom alone.
"""

import struct
from pathlib import Path

from pydicom.charset import default_encoding
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO, DicomFile, DicomIO
from pydicom.filewriter import write_data_element
from pydicom.sequence import Sequence
from pydicom.uid import UID

from anonapi_server.deid.values import is_raw_explicit_le, text

# VRs whose explicit-VR header has two reserved bytes and a 32-bit length (PS3.5 7.1.2).
LONG_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "UC", "UN", "UR", "UT", "SV", "UV"})
UNDEFINED = 0xFFFFFFFF
_SHORT_HEADER = struct.Struct("<HH2sH").pack
_LONG_HEADER = struct.Struct("<HH2s2xI").pack
ITEM_START = struct.pack("<HHI", 0xFFFE, 0xE000, UNDEFINED)
ITEM_END = struct.pack("<HHI", 0xFFFE, 0xE00D, 0)
SEQUENCE_END = struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
_REQUIRED_META = (
    (0x00020001, "File Meta Information Version"),
    (0x00020002, "Media Storage SOP Class UID"),
    (0x00020003, "Media Storage SOP Instance UID"),
    (0x00020010, "Transfer Syntax UID"),
    (0x00020012, "Implementation Class UID"),
)


def element_header(group: int, element: int, vr: bytes, length: int) -> bytes:
    """An explicit VR little endian element header (the caller keeps short lengths < 64 KiB)."""
    if vr.decode("ascii") in LONG_VRS:
        return _LONG_HEADER(group, element, vr, length)
    return _SHORT_HEADER(group, element, vr, length)


def _fast_path_applies(ds: Dataset) -> bool:
    syntax = UID(text(ds.file_meta, 0x00020010))  # Transfer Syntax UID
    return (
        ds.original_encoding == (False, True)
        and syntax.is_transfer_syntax
        and not syntax.is_implicit_VR
        and syntax.is_little_endian
        and not syntax.is_deflated
    )


def write_part10(ds: Dataset, dst: Path) -> None:
    """Write `ds` (with its file meta and preamble) to exactly `dst`; never leave half a file."""
    try:
        if _fast_path_applies(ds):
            _write_fast(ds, dst)
        else:
            ds.save_as(dst, enforce_file_format=True)
    except BaseException:
        dst.unlink(missing_ok=True)
        raise


def _write_fast(ds: Dataset, dst: Path) -> None:
    for tag, name in _REQUIRED_META:
        elem = ds.file_meta.get_item(tag)
        if elem is None or not elem.value:
            raise ValueError(f"Cannot write {dst.name}: the file meta lacks {name}")
    meta = DicomBytesIO()
    meta.is_little_endian = True
    meta.is_implicit_VR = False
    _write_dataset(meta, ds.file_meta, default_encoding)
    # Straight to the file: a multi-frame image can be large enough that a copy in memory hurts.
    with DicomFile(dst, "wb") as fp:
        fp.is_little_endian = True
        fp.is_implicit_VR = False
        fp.write(ds.preamble or b"\0" * 128)
        fp.write(b"DICM")
        fp.write(_SHORT_HEADER(0x0002, 0x0000, b"UL", 4) + struct.pack("<I", meta.tell()))
        fp.write(meta.getvalue())
        _write_dataset(fp, ds, default_encoding)


def encode_items(sequence: Sequence) -> bytes:
    """The items of `sequence` encoded as explicit VR little endian, undefined lengths."""
    fp = DicomBytesIO()
    fp.is_little_endian = True
    fp.is_implicit_VR = False
    for item in sequence:
        fp.write(ITEM_START)
        _write_dataset(fp, item, default_encoding)
        fp.write(ITEM_END)
    return fp.getvalue()


def _write_dataset(fp: DicomIO, ds: Dataset, parent_encoding: str | list[str]) -> None:
    charset = ds.get_item(0x00080005)  # Specific Character Set, for elements encoded here
    encoding = parent_encoding if charset is None else ds.SpecificCharacterSet
    write = fp.write
    for tag in sorted(ds.keys()):
        if not tag & 0xFFFF:
            continue  # group lengths: retired outside the meta group, which gets its own
        elem = ds.get_item(tag)
        vr = elem.VR
        group, element = tag >> 16, tag & 0xFFFF
        if is_raw_explicit_le(elem):
            value = elem.value or b""
            if elem.length == UNDEFINED:
                write(_LONG_HEADER(group, element, vr.encode(), UNDEFINED))
                write(value)
                write(SEQUENCE_END)
                continue
            if vr in LONG_VRS:
                write(_LONG_HEADER(group, element, vr.encode(), len(value)))
                write(value)
                continue
            if len(value) <= 0xFFFF:
                write(_SHORT_HEADER(group, element, vr.encode(), len(value)))
                write(value)
                continue
        if elem.is_raw:
            elem = ds[tag]  # decoded, so that pydicom encodes it anew for this transfer syntax
        if elem.VR == "SQ":
            write(_LONG_HEADER(group, element, b"SQ", UNDEFINED))
            for item in elem.value:
                write(ITEM_START)
                _write_dataset(fp, item, encoding)
                write(ITEM_END)
            write(SEQUENCE_END)
        else:
            write_data_element(fp, elem, encoding)
