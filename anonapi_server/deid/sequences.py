"""De-identifying a sequence straight from its encoded bytes (explicit or implicit VR LE).

Decoding a sequence with pydicom builds a Dataset per item and costs more than everything else
the engine does to a file. Most sequences only need a few UIDs or dates replaced, so this walks
the item bytes, copies the elements whose step is LEAVE as they are and re-encodes the rest.
Anything unexpected (a malformed length, an undefined-length UN) makes it give up, and the
engine falls back to pydicom.
"""

import struct
from collections.abc import Callable
from dataclasses import dataclass

from pydicom.valuerep import VR

from anonapi_server.deid.part10 import (
    ITEM_END,
    ITEM_START,
    SEQUENCE_END,
    UNDEFINED,
    element_header,
)
from anonapi_server.deid.source import LONG_VRS
from anonapi_server.deid.steps import (
    LEAVE,
    RECURSE,
    RECURSE_DUMMY,
    REMOVE,
    Step,
    StepPlanner,
)

NewValue = Callable[[Step, str, bytes], bytes]

_KNOWN_VRS = frozenset(vr.value for vr in VR if len(vr.value) == 2)

_unpack_tag_length = struct.Struct("<HHI").unpack_from
_unpack_tag = struct.Struct("<HH").unpack_from
_unpack_short = struct.Struct("<H").unpack_from
_unpack_long = struct.Struct("<I").unpack_from
_pack_implicit = struct.Struct("<HHI").pack


class _Unparseable(Exception):
    """The bytes are not what this walker handles; the caller decodes them with pydicom."""


@dataclass(frozen=True)
class _Walk:
    """What stays the same while one sequence is walked: its encoding and how values change."""

    implicit: bool
    planner: StepPlanner
    new_value: NewValue


def rewrite_items(
    data: bytes,
    inside_dummy: bool,
    planner: StepPlanner,
    new_value: NewValue,
    *,
    implicit: bool = False,
) -> bytes | None:
    """The de-identified items of a sequence value, encoded; None if pydicom must do it.

    The items come back in the encoding they came in (`implicit`: implicit VR little endian,
    whose VRs come from the dictionary; otherwise explicit VR little endian).
    """
    try:
        out: list[bytes] = []
        _items(data, 0, len(data), inside_dummy, _Walk(implicit, planner, new_value), out)
        return b"".join(out)
    except (_Unparseable, struct.error, UnicodeDecodeError):
        return None


def _items(
    data: bytes, pos: int, end: int | None, dummy: bool, walk: _Walk, out: list[bytes]
) -> int:
    """Rewrite items from `pos` up to `end` (or a sequence delimiter); return where they end."""
    limit = len(data) if end is None else end
    while pos < limit:
        group, element, length = _unpack_tag_length(data, pos)
        pos += 8
        if group != 0xFFFE:
            raise _Unparseable
        if element == 0xE0DD:  # sequence delimiter
            return pos
        if element != 0xE000:
            raise _Unparseable
        item_end = None if length == UNDEFINED else pos + length
        if item_end is not None and item_end > limit:
            raise _Unparseable
        out.append(ITEM_START)
        pos = _elements(data, pos, item_end, dummy, walk, out)
        out.append(ITEM_END)
    if end is None:
        raise _Unparseable  # an undefined-length sequence without its delimiter
    return pos


def _header(data: bytes, pos: int, implicit: bool) -> tuple[int, int, str | None, int, int]:
    """(group, element, VR or None when implicit, length, value start) of the element at pos."""
    group, element = _unpack_tag(data, pos)
    if implicit or group == 0xFFFE:  # delimiters have no VR in either encoding
        return group, element, None, _unpack_long(data, pos + 4)[0], pos + 8
    vr = data[pos + 4 : pos + 6].decode("ascii")
    if vr in LONG_VRS:
        return group, element, vr, _unpack_long(data, pos + 8)[0], pos + 12
    if vr not in _KNOWN_VRS:
        raise _Unparseable
    return group, element, vr, _unpack_short(data, pos + 6)[0], pos + 8


def _encode_header(group: int, element: int, vr: str, length: int, implicit: bool) -> bytes:
    if implicit:
        return _pack_implicit(group, element, length)
    if length > 0xFFFF and vr not in LONG_VRS:
        raise _Unparseable  # a replacement too long for this VR's header
    return element_header(group, element, vr.encode("ascii"), length)


def _elements(
    data: bytes, pos: int, end: int | None, dummy: bool, walk: _Walk, out: list[bytes]
) -> int:
    """Rewrite one item's elements from `pos` up to `end` (or an item delimiter)."""
    limit = len(data) if end is None else end
    while pos < limit:
        group, element, vr, length, start = _header(data, pos, walk.implicit)
        if group == 0xFFFE:
            if element == 0xE00D and end is None:  # item delimiter
                return pos + 8
            raise _Unparseable
        if group & 1 or not element or group < 3:  # private, group length, command/meta
            step, out_vr = REMOVE, vr or "UN"
        else:
            step, out_vr = walk.planner.step(group << 16 | element, vr, dummy)
        # Implicit VR: an undefined length can only be a sequence (of implicit items).
        is_sequence = out_vr == "SQ" if vr else out_vr == "SQ" or length == UNDEFINED
        if length == UNDEFINED and not is_sequence:
            raise _Unparseable  # e.g. an undefined-length UN, whose items are implicit VR
        if step is RECURSE or step is RECURSE_DUMMY:
            if not is_sequence or vr not in (None, "SQ"):
                raise _Unparseable  # a sequence stored as UN is encoded implicit VR inside
            value_end = None if length == UNDEFINED else start + length
            if value_end is not None and value_end > limit:
                raise _Unparseable
            out.append(_encode_header(group, element, "SQ", UNDEFINED, walk.implicit))
            pos = _items(data, start, value_end, step is RECURSE_DUMMY, walk, out)
            out.append(SEQUENCE_END)
            continue
        pos = _value(data, pos, start, length, limit, (group, element, step, out_vr), walk, out)
    if end is None:
        raise _Unparseable  # an undefined-length item without its delimiter
    return pos


def _value(
    data: bytes,
    pos: int,
    start: int,
    length: int,
    limit: int,
    what: tuple[int, int, Step, str],
    walk: _Walk,
    out: list[bytes],
) -> int:
    """Copy, replace or drop one element that is not walked into; return where it ends."""
    group, element, step, out_vr = what
    if length == UNDEFINED:  # a sequence dropped or emptied: walk it only to find its end
        value_end = _items(data, start, None, False, walk, [])
        value = b""
    else:
        value_end = start + length
        value = data[start:value_end]
    if value_end > limit:
        raise _Unparseable
    if step is LEAVE:
        out.append(data[pos:value_end])
    elif step is not REMOVE:
        value = walk.new_value(step, out_vr, value)
        out.append(_encode_header(group, element, out_vr, len(value), walk.implicit))
        out.append(value)
    return value_end
