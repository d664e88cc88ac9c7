"""De-identifying a sequence straight from its encoded bytes (explicit VR little endian).

Decoding a sequence with pydicom builds a Dataset per item and costs more than everything else
the engine does to a file. Most sequences only need a few UIDs or dates replaced, so this walks
the item bytes, copies the elements whose step is LEAVE as they are and re-encodes the rest.
Anything unexpected (a malformed length, an undefined-length UN) makes it give up, and the
engine falls back to pydicom.
"""

import struct
from collections.abc import Callable

from pydicom.valuerep import VR

from anonapi_server.deid.part10 import (
    ITEM_END,
    ITEM_START,
    LONG_VRS,
    SEQUENCE_END,
    UNDEFINED,
    element_header,
)
from anonapi_server.deid.steps import Step, StepPlanner

NewValue = Callable[[Step, str, bytes], bytes]

_KNOWN_VRS = frozenset(vr.value for vr in VR if len(vr.value) == 2)

_unpack_tag_length = struct.Struct("<HHI").unpack_from
_unpack_tag = struct.Struct("<HH").unpack_from
_unpack_short = struct.Struct("<H").unpack_from
_unpack_long = struct.Struct("<I").unpack_from


class _Unparseable(Exception):
    """The bytes are not what this walker handles; the caller decodes them with pydicom."""


def rewrite_items(
    data: bytes, inside_dummy: bool, planner: StepPlanner, new_value: NewValue
) -> bytes | None:
    """The de-identified items of a sequence value, encoded; None if pydicom must do it."""
    try:
        out: list[bytes] = []
        _items(data, 0, len(data), inside_dummy, planner, new_value, out)
        return b"".join(out)
    except (_Unparseable, struct.error, UnicodeDecodeError):
        return None


def _items(
    data: bytes,
    pos: int,
    end: int | None,
    dummy: bool,
    planner: StepPlanner,
    new_value: NewValue,
    out: list[bytes],
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
        pos = _elements(data, pos, item_end, dummy, planner, new_value, out)
        out.append(ITEM_END)
    if end is None:
        raise _Unparseable  # an undefined-length sequence without its delimiter
    return pos


def _elements(
    data: bytes,
    pos: int,
    end: int | None,
    dummy: bool,
    planner: StepPlanner,
    new_value: NewValue,
    out: list[bytes],
) -> int:
    """Rewrite one item's elements from `pos` up to `end` (or an item delimiter)."""
    limit = len(data) if end is None else end
    while pos < limit:
        group, element = _unpack_tag(data, pos)
        if group == 0xFFFE:
            if element == 0xE00D and end is None:  # item delimiter
                return pos + 8
            raise _Unparseable
        vr_bytes = data[pos + 4 : pos + 6]
        vr = vr_bytes.decode("ascii")
        if vr in LONG_VRS:
            length = _unpack_long(data, pos + 8)[0]
            start = pos + 12
        else:
            length = _unpack_short(data, pos + 6)[0]
            start = pos + 8
        if vr not in _KNOWN_VRS or (length == UNDEFINED and vr != "SQ"):
            raise _Unparseable  # e.g. an undefined-length UN, whose items are implicit VR
        tag = group << 16 | element
        if group & 1 or not element or group < 3:  # private, group length, command/meta
            step, out_vr = Step.REMOVE, vr
        else:
            step, out_vr = planner.step(tag, vr, dummy)
        if step is Step.RECURSE or step is Step.RECURSE_DUMMY:
            if vr != "SQ":
                raise _Unparseable  # a sequence stored as UN is encoded implicit VR inside
            value_end = None if length == UNDEFINED else start + length
            if value_end is not None and value_end > limit:
                raise _Unparseable
            nested_dummy = step is Step.RECURSE_DUMMY
            out.append(element_header(group, element, b"SQ", UNDEFINED))
            pos = _items(data, start, value_end, nested_dummy, planner, new_value, out)
            out.append(SEQUENCE_END)
            continue
        if length == UNDEFINED:  # a sequence dropped or emptied: walk it only to find its end
            value_end = _items(data, start, None, dummy, planner, new_value, [])
            value = b""
        else:
            value_end = start + length
            value = data[start:value_end]
        if value_end > limit:
            raise _Unparseable
        if step is Step.LEAVE:
            out.append(data[pos:value_end])
        elif step is not Step.REMOVE:
            value = new_value(step, out_vr, value)
            if len(value) > 0xFFFF and out_vr not in LONG_VRS:
                raise _Unparseable
            out.append(element_header(group, element, out_vr.encode("ascii"), len(value)))
            out.append(value)
        pos = value_end
    if end is None:
        raise _Unparseable  # an undefined-length item without its delimiter
    return pos
