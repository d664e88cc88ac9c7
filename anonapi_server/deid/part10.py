"""Writing a de-identified dataset as a DICOM Part-10 file, with a fast path for unchanged bytes.

pydicom's writer encodes every element through a buffer of its own, which costs more per file
than the whole de-identification. Most elements of a de-identified file are still the undecoded
bytes read from the source, so for explicit VR little endian (what nearly all stored DICOM uses,
compressed transfer syntaxes included) this writer copies them behind a packed header; anything
else goes through pydicom's own element writer, and other transfer syntaxes through pydicom alone.
"""

import struct
from pathlib import Path
from typing import BinaryIO

from pydicom.charset import default_encoding
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO, DicomFile, DicomIO
from pydicom.filewriter import write_data_element
from pydicom.sequence import Sequence
from pydicom.uid import UID

from anonapi_server.deid.source import LONG_VRS, copy_items, copy_value
from anonapi_server.deid.values import text

UNDEFINED = 0xFFFFFFFF
_SHORT_HEADER = struct.Struct("<HH2sH").pack
_LONG_HEADER = struct.Struct("<HH2s2xI").pack
_IMPLICIT_HEADER = struct.Struct("<HHI").pack
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


def writes_itself(ds: Dataset) -> bool:
    """Whether this writer takes the data set: explicit or implicit VR little endian, as read."""
    meta = getattr(ds, "file_meta", None)
    syntax = UID(text(meta, 0x00020010) if meta is not None else "")  # Transfer Syntax UID
    if not (syntax.is_transfer_syntax and syntax.is_little_endian and not syntax.is_deflated):
        return False
    return ds.original_encoding == (syntax.is_implicit_VR, True)


def write_part10(ds: Dataset, dst: Path, source: BinaryIO | None = None) -> None:
    """Write `ds` (with its file meta and preamble) to exactly `dst`; never leave half a file.

    Values pydicom deferred (left in the file, see `source.py`) are copied from `source`.
    """
    try:
        if writes_itself(ds):
            _write_fast(ds, dst, source)
        else:
            ds.save_as(dst, enforce_file_format=True)
    except BaseException:
        dst.unlink(missing_ok=True)
        raise


def _write_fast(ds: Dataset, dst: Path, source: BinaryIO | None) -> None:
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
        fp.is_implicit_VR = UID(text(ds.file_meta, 0x00020010)).is_implicit_VR
        fp.write(ds.preamble or b"\0" * 128)
        fp.write(b"DICM")
        fp.write(_SHORT_HEADER(0x0002, 0x0000, b"UL", 4) + struct.pack("<I", meta.tell()))
        fp.write(meta.getvalue())
        _write_dataset(fp, ds, default_encoding, source)


def is_deferred(elem: object) -> bool:
    """Whether pydicom left this element's value in the source file (see `source.py`)."""
    return isinstance(elem, RawDataElement) and elem.value is None and elem.length != 0


def encode_items(sequence: Sequence, implicit: bool = False) -> bytes:
    """The items of `sequence` encoded little endian (either VR kind), undefined lengths."""
    fp = DicomBytesIO()
    fp.is_little_endian = True
    fp.is_implicit_VR = implicit
    for item in sequence:
        fp.write(ITEM_START)
        _write_dataset(fp, item, default_encoding)
        fp.write(ITEM_END)
    return fp.getvalue()


def _write_dataset(
    fp: DicomIO, ds: Dataset, parent_encoding: str | list[str], source: BinaryIO | None = None
) -> None:
    charset = ds.get_item(0x00080005)  # Specific Character Set, for elements encoded here
    encoding = parent_encoding if charset is None else ds.SpecificCharacterSet
    implicit = fp.is_implicit_VR
    write = fp.write
    for tag in sorted(ds.keys(), key=int):  # int: BaseTag compares in Python
        if not tag & 0xFFFF:
            continue  # group lengths: retired outside the meta group, which gets its own
        elem = ds.get_item(tag, keep_deferred=True)
        if isinstance(elem, RawDataElement) and _copyable(elem, implicit):
            _write_raw(fp, elem, implicit, source)
            continue
        if elem.is_raw:
            elem = ds[tag]  # decoded, so that pydicom encodes it anew for this transfer syntax
        if elem.VR == "SQ":
            write(encode_header(tag, "SQ", UNDEFINED, implicit))
            for item in elem.value:
                write(ITEM_START)
                _write_dataset(fp, item, encoding)
                write(ITEM_END)
            write(SEQUENCE_END)
        else:
            write_data_element(fp, elem, encoding)


def _copyable(elem: RawDataElement, implicit: bool) -> bool:
    """Whether the element's undecoded bytes fit the output's encoding as they are.

    Values are encoded alike in both little endian encodings; only headers and the items of a
    sequence differ. The engine's own replacements are made as explicit VR raw elements.
    """
    if not elem.is_little_endian:
        return False
    if elem.is_implicit_VR:
        return implicit  # no VR to write an explicit header with
    if implicit:
        return elem.VR != "SQ" or not elem.length  # explicit items would not fit
    return bool(elem.VR) and (elem.VR in LONG_VRS or len(elem.value or b"") <= 0xFFFF)


def encode_header(tag: int, vr: str | None, length: int, implicit: bool) -> bytes:
    """An element header in either little endian encoding (UN when an explicit VR is unknown)."""
    group, element = tag >> 16, tag & 0xFFFF
    if implicit:
        return _IMPLICIT_HEADER(group, element, length)
    return element_header(group, element, (vr or "UN").encode("ascii"), length)


def _write_raw(fp: DicomIO, elem: RawDataElement, implicit: bool, source: BinaryIO | None) -> None:
    """Write an undecoded element: its bytes, or those pydicom left in `source` (deferred)."""
    undefined = elem.length == UNDEFINED
    if not is_deferred(elem):
        value = elem.value or b""
        fp.write(encode_header(elem.tag, elem.VR, UNDEFINED if undefined else len(value), implicit))
        fp.write(value)
    elif source is None:
        raise ValueError("a value left in the source file, but no source to copy it from")
    else:
        fp.write(encode_header(elem.tag, elem.VR, elem.length, implicit))
        if undefined:
            copy_items(source, fp, elem.value_tell)
        else:
            copy_value(source, fp, elem.value_tell, elem.length)
    if undefined:
        fp.write(SEQUENCE_END)
