"""Reading a little endian file (explicit or implicit VR) without pydicom's reader.

pydicom's `dcmread` costs more than the de-identification itself: it validates the file meta,
builds a Sequence of Datasets for every undefined-length sequence and walks element by element
through a file object. The engine needs none of that: it reads the file in one call and cuts it
into undecoded elements (`RawDataElement`, exactly what pydicom would hold), sequences and
encapsulated pixel data included as their bytes. Anything unusual (a VR it does not know, a
length past the end, elements out of order, a file too large to hold) makes it return None, and
pydicom reads the file instead: with its tolerance, its warnings and the damage checks on them.
"""

import struct
from collections.abc import Iterator, MutableMapping
from functools import lru_cache
from typing import BinaryIO

from pydicom.datadict import dictionary_VR
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.tag import BaseTag
from pydicom.uid import UID
from pydicom.valuerep import VR

from anonapi_server.deid.source import LONG_VRS

# Files up to this size are read in one call; larger ones go to pydicom, which leaves their
# large values in the file (see `source.py`).
MAX_IN_MEMORY = 64 << 20
_UNDEFINED = 0xFFFFFFFF
_PIXEL_DATA = 0x7FE00010
_ITEM_TAG = b"\xfe\xff\x00\xe0"
_VRS = {vr.value.encode("ascii"): vr.value for vr in VR if len(vr.value) == 2}
_unpack_tag = struct.Struct("<HH").unpack_from
_Elements = MutableMapping[BaseTag, DataElement | RawDataElement]
_unpack_implicit = struct.Struct("<HHI").unpack_from
_unpack_explicit = struct.Struct("<HH2sH").unpack_from
_unpack_long = struct.Struct("<I").unpack_from


class _Unusual(Exception):
    """Something this reader leaves to pydicom."""


# What parsing raises on a file this reader leaves to pydicom.
READ_ERRORS = (_Unusual, struct.error, KeyError)


def read_little_endian(fp: BinaryIO, size: int) -> Dataset | None:
    """The file's data set with its file meta, or None if pydicom must read it."""
    if size > MAX_IN_MEMORY:
        return None
    fp.seek(0)
    data = fp.read()
    try:
        return _parse(data)
    except READ_ERRORS:
        return None


def _parse(data: bytes) -> Dataset:
    meta, pos = _meta(data)
    syntax = meta.get(BaseTag(0x00020010))
    implicit = little_endian_kind((syntax.value or b"") if syntax is not None else b"")
    if implicit is None:
        raise _Unusual
    elements: _Elements = {}
    for _, tag, vr, length, start, value_end in walk(data, pos, implicit):
        key = BaseTag(tag)
        value = value_of(data, length, start, value_end)
        elements[key] = RawDataElement(key, vr, length, value, start, implicit, True)
    file_meta = FileMetaDataset(meta)
    file_meta.set_original_encoding(False, True)
    ds = Dataset(elements)
    ds.file_meta = file_meta
    ds.preamble = data[:128]
    ds.set_original_encoding(implicit, True)
    return ds


def _meta(data: bytes) -> tuple[_Elements, int]:
    """The file meta's elements and where the data set starts."""
    if data[128:132] != b"DICM":
        raise _Unusual
    meta: _Elements = {}
    pos = 132
    for _, tag, vr, length, start, pos in walk(data, 132, implicit=False, meta=True):
        key = BaseTag(tag)
        meta[key] = RawDataElement(
            key, vr, length, value_of(data, length, start, pos), start, False, True
        )
    return meta, pos


def value_of(data: bytes, length: int, start: int, end: int) -> bytes:
    """An element's value as `walk` found it; an undefined length's without its delimiter."""
    return data[start : end - 8 if length == _UNDEFINED else end]


@lru_cache(maxsize=64)
def little_endian_kind(raw: bytes) -> bool | None:
    """For an encoded transfer syntax: True implicit VR LE, False explicit VR LE (compressed
    ones included), None for anything this reader leaves to pydicom (big endian, deflated)."""
    syntax = UID(raw.decode("ascii").rstrip("\0 "))
    if not (syntax.is_transfer_syntax and syntax.is_little_endian and not syntax.is_deflated):
        return None
    return syntax.is_implicit_VR


Element = tuple[int, int, str | None, int, int, int]


def walk(
    data: bytes, pos: int, implicit: bool, meta: bool = False, size: int | None = None
) -> Iterator[Element]:
    """The top-level elements from `pos`: (header position, tag, VR or None when implicit,
    declared length, value start, value end), with an undefined-length value's end after its
    sequence delimiter. Only group 0002 when `meta`. Raises _Unusual (or struct.error,
    KeyError) where pydicom must decide.

    `data` may be the head of a file of `size` bytes: then the last element found may end
    beyond it (the walk stops there), though not beyond `size`. Encapsulated pixel data whose
    items run past the head is given `size` as its end, unchecked: its reader checks them.
    """
    end = len(data)
    limit = end if size is None else size
    last = -1
    implicit = implicit and not meta
    while pos < end:
        if meta and _unpack_tag(data, pos)[0] != 0x0002:
            return
        group, element, vr, length, start = _header(data, pos, implicit)
        tag = group << 16 | element
        if tag <= last or group == 0xFFFE:
            raise _Unusual  # out of order or a stray delimiter: pydicom decides
        if length == _UNDEFINED:
            items_follow = vr is None and data[start : start + 4] == _ITEM_TAG
            if not (_holds_items(tag, vr) or items_follow):
                raise _Unusual  # e.g. an undefined-length UN (CP-246)
            try:
                value_end = _skip_items(data, start, implicit)
            except _Unusual:
                if tag != _PIXEL_DATA or end >= limit:
                    raise
                value_end = limit  # past the head: the caller checks that it ends the file
        else:
            value_end = start + length
            if value_end > limit:
                raise _Unusual  # cut short: pydicom reads it and the damage checks catch it
        yield pos, tag, vr, length, start, value_end
        last, pos = tag, value_end


def _header(data: bytes, pos: int, implicit: bool) -> tuple[int, int, str | None, int, int]:
    """(group, element, VR or None when implicit, length, where the value starts) of the
    element at pos."""
    if implicit:
        group, element, length = _unpack_implicit(data, pos)
        return group, element, None, length, pos + 8
    group, element, vr_bytes, length = _unpack_explicit(data, pos)
    vr = _VRS[vr_bytes]  # KeyError: not a VR, pydicom reads it
    if vr in LONG_VRS:
        return group, element, vr, _unpack_long(data, pos + 8)[0], pos + 12
    return group, element, vr, length, pos + 8


def _holds_items(tag: int, vr: str | None) -> bool:
    """Whether an undefined-length value is a sequence or encapsulated pixel data."""
    if vr is not None:
        return vr == "SQ" or (tag == _PIXEL_DATA and vr in ("OB", "OW"))
    try:
        return dictionary_VR(tag) == "SQ"
    except KeyError:
        return False  # an unknown implicit element: a sequence if items follow


def _skip_items(data: bytes, pos: int, implicit: bool) -> int:
    """Where the items from `pos` end, after their sequence delimiter."""
    end = len(data)
    while pos + 8 <= end:
        group, element = _unpack_tag(data, pos)
        length = _unpack_long(data, pos + 4)[0]
        pos += 8
        if group != 0xFFFE:
            raise _Unusual
        if element == 0xE0DD:
            return pos
        if element != 0xE000:
            raise _Unusual
        pos = _skip_item(data, pos, implicit) if length == _UNDEFINED else pos + length
    raise _Unusual  # no delimiter before the end: truncated


def _skip_item(data: bytes, pos: int, implicit: bool) -> int:
    """Where an undefined-length item from `pos` ends, after its item delimiter."""
    end = len(data)
    while pos + 8 <= end:
        group, element = _unpack_tag(data, pos)
        if group == 0xFFFE:
            if element != 0xE00D:
                raise _Unusual
            return pos + 8
        _, _, vr, length, start = _header(data, pos, implicit)
        if length == _UNDEFINED:
            if not _holds_items(group << 16 | element, vr) and vr != "UN":
                raise _Unusual
            pos = _skip_items(data, start, implicit or vr == "UN")
        else:
            pos = start + length
    raise _Unusual
