"""De-identifying a little endian file from its bytes to bytes, without pydicom's Dataset.

pydicom's Dataset costs more per element (tag objects and their comparisons, type checks on every
assignment) than reading and writing the whole file does. For a file the engine's reader can hold
(explicit or implicit VR little endian, compressed pixel data included) this path cuts the bytes
into elements (`reader.walk`), takes each element's step from the planner's cache, and builds the
output as a short list of chunks: a run of elements kept as they are goes out as one slice of the
input, a changed element as a new header and value, a sequence as the byte walker rewrote it
(`sequences.py`); the file is then written in one call (`os.writev`). Of a file larger than
`_WHOLE`, the pixel data that runs to its end is not even read: the system copies it from the
source (`os.copy_file_range`).
A file it cannot finish this way (a check other than burned-in annotation fails, the
walker gives up on a sequence, a pseudonym is not ASCII ...) gets None, and the engine takes its
Dataset path, with the same rules, which reports or writes it. Either way the output is the same,
byte for byte (`tests/server/deid/test_deid_third_party.py`).
"""

import errno
import io
import os
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import BinaryIO

from pydicom.dataelem import DataElement, RawDataElement

from anonapi_server.deid.checks import burned_in_reason_of, missing_identity_of
from anonapi_server.deid.outcome import WRITTEN, Cause, FileOutcome
from anonapi_server.deid.part10 import SEQUENCE_END, UNDEFINED, encode_header
from anonapi_server.deid.reader import little_endian_kind, value_of, walk
from anonapi_server.deid.sequences import rewrite_items
from anonapi_server.deid.source import LONG_VRS, SourceShort, copy_value
from anonapi_server.deid.steps import (
    LEAVE,
    RECURSE,
    RECURSE_DUMMY,
    REMOVE,
    SHIFT,
    Step,
    StepPlanner,
)

_SOP_CLASS = 0x00080016
_SOP_INSTANCE = 0x00080018
_IDENTITY = (_SOP_CLASS, _SOP_INSTANCE)
_ROWS = 0x00280010
_PIXEL_TAGS = frozenset({0x7FE00008, 0x7FE00009, 0x7FE00010})
# Values the checks read (SOP class and instance, modality, burned-in annotation), Rows, and
# whether there is pixel data.
_NOTED = frozenset({_SOP_CLASS, _SOP_INSTANCE, 0x00080060, 0x00280301, _ROWS}) | _PIXEL_TAGS
_META_CLASS, _META_INSTANCE, _META_SYNTAX = 0x00020002, 0x00020003, 0x00020010
_DICOMDIR_SOP_CLASS = b"1.2.840.10008.1.3.10"
_NO_MORE = 1 << 32  # above every tag
# How much the caches keep (entries, longest key value): a few MB, and 16 MB for sequences,
# however many files a worker sees.
_CACHE_LIMIT = 20_000
_CACHED_VALUE = 256
_SEQUENCE_LIMIT = 1_000
_CACHED_SEQUENCE = 8 << 10
_LARGE = 1 << 16  # chunks at least this long are written on their own, never joined
# What is read first of a larger file: the elements before the pixel data of nearly every image.
_HEAD = 64 << 10
# Files up to this size are read in one call and written in one: as fast as the system's own
# copy, where copying their pixel data in the kernel is slower (the output's pages do not line
# up with the source's, so each page is written in two pieces).
_WHOLE = 4 << 20
# At most this many buffers in one `os.writev` (POSIX allows no fewer).
_IOV_MAX = 16
_GROUP_LENGTH_UL = struct.pack("<HH2sH", 0x0002, 0x0000, b"UL", 4)
_PREAMBLE = b"\0" * 128 + b"DICM"
_ITEM = struct.pack("<HH", 0xFFFE, 0xE000)

Added = DataElement | RawDataElement
# Planned steps by tag: (the VR planned for, step, VR to write with).
Planned = dict[int, tuple[str | None, Step, str]]
# The engine's replacement of one value: (date shift, step, VR, encoded value) -> encoded value.
ShiftedValue = Callable[[int | None, Step, str, bytes], bytes]
# What the engine adds to a file, given (pseudo_id, pseudo_name, dates shifted?, implicit VR?).
AddedFor = Callable[[str, str, bool, bool], Sequence[Added]]
# The file meta group for (SOP class, SOP instance, meta's class, meta's instance, syntax).
MetaFor = Callable[[bytes, bytes, bytes, bytes, bytes], Sequence[RawDataElement]]


class _Dataset(Exception):
    """This file needs the engine's Dataset path."""


@dataclass(frozen=True)
class _Tail:
    """The source's bytes from `start` to `end` (its end), copied without reading them."""

    start: int
    end: int


Chunk = bytes | memoryview | _Tail


def _text(value: bytes | None) -> str:
    """A value as the checks read it (`values.text`)."""
    return "" if value is None else value.decode("ascii", "replace").strip("\0 ")


def _encoded(elem: Added, implicit: bool) -> list[bytes]:
    """An element the engine made, encoded as its writer would (`part10._write_raw`)."""
    if not isinstance(elem, RawDataElement) or elem.value is None:
        raise _Dataset  # e.g. a pseudonym that is not ASCII: pydicom encodes it
    value = elem.value
    if elem.length == UNDEFINED:
        return [encode_header(elem.tag, elem.VR, UNDEFINED, implicit), value, SEQUENCE_END]
    return [encode_header(elem.tag, elem.VR, len(value), implicit), value]


class DirectPath:
    """The engine's rules applied from bytes to bytes; one per engine, reused for every file."""

    def __init__(
        self,
        planner: StepPlanner,
        new_value: ShiftedValue,
        added_for: AddedFor,
        meta_for: MetaFor,
        marked_only: bool,
    ) -> None:
        self._planner = planner
        self._new_value = new_value
        self._added_for = added_for
        self._meta_for = meta_for
        self._marked_only = marked_only
        # Each top-level tag's step with the VR it was planned for, apart for files whose dates
        # stay and those whose dates move; keyed by the tag alone (no key tuple per element).
        self._steps: tuple[Planned, Planned] = ({}, {})
        self._last_added: tuple[tuple[str, str, bool, bool], list[tuple[int, list[bytes]]]] | None
        self._last_added = None
        # Encoded replacements by what they replace: the files of a study repeat most values
        # (dates, study and series UIDs, references), so most are made once per study.
        self._elements: dict[tuple[int, str | None, bytes, int | None, bool], bytes] = {}
        self._sequences: dict[tuple[int, bytes, bool, int | None, bool], bytes] = {}

    def deidentify(
        self,
        fp: BinaryIO,
        size: int,
        dst: Path,
        names: tuple[str, str],
        shift: int | None,
        release: bool,
    ) -> FileOutcome | None:
        """Write the de-identified file `fp` (`size` bytes) to `dst`; None: use the Dataset path.

        `names` are the pseudo id and name, `shift` this patient's date shift (None: dates stay).
        A file up to `_WHOLE` bytes is read whole. Of a larger one only the head is read when
        the pixel data runs to its end: that is copied from the source by the system
        (`os.copy_file_range`), never through Python.
        """
        fp.seek(0)
        data = fp.read(size if size <= _WHOLE or not has_fd(fp) else _HEAD)

        def attempt() -> list[Chunk] | FileOutcome | None:
            try:
                return self._build(data, fp, size, names, shift, release)
            except Exception:  # _Dataset, a parse error, or a defect the Dataset path reports
                return None

        built = attempt()
        if built is None and len(data) < size:  # more than the head was needed
            fp.seek(0)
            data = fp.read()
            built = attempt()
        if built is None or isinstance(built, FileOutcome):
            return built
        try:
            write_chunks(dst, built, fp)
        except SourceShort:  # the source shrank under us: the Dataset path judges it
            dst.unlink(missing_ok=True)
            return None
        except BaseException:
            dst.unlink(missing_ok=True)
            raise
        return WRITTEN

    def _build(
        self,
        data: bytes,
        source: BinaryIO,
        size: int,
        names: tuple[str, str],
        shift: int | None,
        release: bool,
    ) -> list[Chunk] | FileOutcome:
        """The output as chunks, or the outcome of a file not to be written.

        `data` is the first bytes of `source`, or all `size` of them."""
        if data[128:132] != b"DICM":
            raise _Dataset
        meta: dict[int, bytes] = {}
        pos = 132
        for _, tag, _, length, start, pos in walk(data, 132, implicit=False, meta=True):
            meta[tag] = value_of(data, length, start, pos)
        implicit = little_endian_kind(meta.get(_META_SYNTAX, b""))
        if implicit is None or _text(meta.get(_META_CLASS)) == _DICOMDIR_SOP_CLASS.decode():
            raise _Dataset
        added = self._added_chunks(names, shift is not None, implicit)
        noted: dict[int, bytes] = {}
        kept: dict[int, bytes] = {}  # what the output holds for the SOP class and instance
        chunks = self._data_set(data, source, size, pos, implicit, shift, added, noted, kept)
        if _ROWS in noted and not any(tag in noted for tag in _PIXEL_TAGS):
            raise _Dataset  # image attributes without pixel data: damaged, that path says so
        missing = missing_identity_of(lambda tag: _text(noted.get(tag)))
        if missing:
            return FileOutcome.skipped(Cause.NOT_AN_INSTANCE, missing)
        if not release:
            reason = burned_in_reason_of(lambda tag: _text(noted.get(tag)), self._marked_only)
            if reason:
                return FileOutcome.quarantined(Cause.BURNED_IN, f"burned-in annotation: {reason}")
        meta_elements = self._meta_for(
            kept.get(_SOP_CLASS, b""),
            kept.get(_SOP_INSTANCE, b""),
            meta.get(_META_CLASS, b""),
            meta.get(_META_INSTANCE, b""),
            meta[_META_SYNTAX],
        )
        group = b"".join(b for elem in meta_elements for b in _encoded(elem, False))
        if not all(elem.value for elem in meta_elements):
            raise _Dataset  # a required meta value is empty: the writer refuses it
        return [_PREAMBLE, _GROUP_LENGTH_UL, struct.pack("<I", len(group)), group, *chunks]

    def _added_chunks(
        self, names: tuple[str, str], shifted: bool, implicit: bool
    ) -> list[tuple[int, list[bytes]]]:
        """The engine's added elements encoded, in tag order; the last file's are reused."""
        key = (*names, shifted, implicit)
        if self._last_added is None or self._last_added[0] != key:
            encoded = [
                (int(elem.tag), _encoded(elem, implicit))
                for elem in self._added_for(*names, shifted, implicit)
            ]
            self._last_added = (key, encoded)
        return self._last_added[1]

    def _step(self, tag: int, vr: str | None, shifted: bool) -> tuple[str | None, Step, str]:
        """(VR, step, VR to write) for a top-level element (a date kept when dates do not
        move), cached."""
        steps = self._steps[shifted]
        planned = steps.get(tag)
        if planned is None or planned[0] != vr:
            if tag >> 16 & 1 or not tag & 0xFFFF or tag < 0x00030000:
                step, out_vr = REMOVE, ""  # private, a group length, command or meta
            else:
                step, out_vr = self._planner.step(tag, vr, False)
                if step is SHIFT and not shifted:
                    step = LEAVE
            if len(steps) >= _CACHE_LIMIT:
                steps.clear()
            planned = steps[tag] = (vr, step, out_vr)
        return planned

    def _data_set(
        self,
        data: bytes,
        source: BinaryIO,
        size: int,
        pos: int,
        implicit: bool,
        shift: int | None,
        added: list[tuple[int, list[bytes]]],
        noted: dict[int, bytes],
        kept: dict[int, bytes],
    ) -> list[Chunk]:
        """The de-identified data set as chunks; fills `noted` (input values the checks read)
        and `kept` (output values of the SOP class and instance, for the file meta)."""
        shifted = shift is not None
        steps, elements_made, sequences_made = self._steps[shifted], self._elements, self._sequences
        view = memoryview(data)
        chunks: list[Chunk] = []
        adding = 0  # the next of `added` to write
        next_added = added[0][0] if added else _NO_MORE
        run = pos  # where the current run of elements kept byte for byte starts
        elements = 0
        head = len(data)
        for at, tag, vr, length, start, end in walk(data, pos, implicit, size=size):
            elements += 1
            if tag in _NOTED:
                noted[tag] = b"" if tag in _PIXEL_TAGS else data[start:end]
            if tag >= next_added:
                if run < at:
                    chunks.append(view[run:at])
                run = at
                while tag >= next_added:
                    if tag == next_added:
                        run = end  # the engine's element replaces the file's
                    chunks += added[adding][1]
                    adding += 1
                    next_added = added[adding][0] if adding < len(added) else _NO_MORE
                if run == end:
                    continue
            planned = steps.get(tag)
            if planned is None or planned[0] != vr:
                planned = self._step(tag, vr, shifted)
            _, step, out_vr = planned
            if end > head:  # the value runs on past the head: to the end of the file?
                if (
                    step is not LEAVE
                    or end != size
                    or not _as_read(data, at, vr, length, end, source, start)
                ):
                    raise _Dataset  # the engine reads the whole file instead
                chunks.append(_Tail(run, size))
                run = end
                break
            if step is LEAVE:
                if tag in _IDENTITY:
                    kept[tag] = data[start:end]
                if (length != UNDEFINED and vr not in LONG_VRS) or _as_read(
                    data, at, vr, length, end
                ):
                    continue  # stays in the run
                out_vr = vr or "UN"  # written anew with its own VR and a plain header
            if run < at:
                chunks.append(view[run:at])
            run = end
            if step is REMOVE:
                continue
            value = value_of(data, length, start, end)
            if step is RECURSE or step is RECURSE_DUMMY:
                dummy = step is RECURSE_DUMMY
                key = (tag, value, dummy, shift, implicit)
                made = sequences_made.get(key)
                if made is None:
                    made = self._sequence(tag, value, dummy, shift, implicit)
                    _remember(
                        sequences_made, key, made, len(value) <= _CACHED_SEQUENCE, _SEQUENCE_LIMIT
                    )
                chunks.append(made)
            elif step is LEAVE:
                chunks.append(_element(tag, out_vr, value, implicit, length == UNDEFINED))
            elif tag in _IDENTITY:
                kept[tag] = value = self._new_value(shift, step, out_vr, value)
                chunks.append(_element(tag, out_vr, value, implicit))
            else:
                element_key = (tag, vr, value, shift, implicit)
                made = elements_made.get(element_key)
                if made is None:
                    new = self._new_value(shift, step, out_vr, value)
                    made = _element(tag, out_vr, new, implicit)
                    _remember(
                        elements_made, element_key, made, len(value) <= _CACHED_VALUE, _CACHE_LIMIT
                    )
                chunks.append(made)
        if not elements:
            raise _Dataset  # nothing after the file meta: damaged
        if end != size:
            raise _Dataset  # the head ended between elements: the whole file is needed
        if run < end:
            chunks.append(view[run:end])
        for _, encoded in added[adding:]:
            chunks += encoded
        return chunks

    def _sequence(
        self, tag: int, value: bytes, dummy: bool, shift: int | None, implicit: bool
    ) -> bytes:
        """A sequence with its items rewritten, encoded with an undefined length."""
        new_value = partial(self._new_value, shift)
        items = rewrite_items(value, dummy, self._planner, new_value, implicit=implicit)
        if items is None:
            raise _Dataset  # pydicom decodes this sequence
        return b"".join((encode_header(tag, "SQ", UNDEFINED, implicit), items, SEQUENCE_END))


def _element(tag: int, vr: str, value: bytes, implicit: bool, undefined: bool = False) -> bytes:
    """One element encoded as the engine's writer encodes it (`part10._write_raw`)."""
    if not implicit and len(value) > 0xFFFF and vr not in LONG_VRS:
        raise _Dataset  # too long for a short header: pydicom decides
    if undefined:
        return b"".join((encode_header(tag, vr, UNDEFINED, implicit), value, SEQUENCE_END))
    return encode_header(tag, vr, len(value), implicit) + value


def _remember(cache: dict, key: tuple, made: bytes, small: bool, limit: int) -> None:
    """Keep `made` for the next file unless its key is large; never more than `limit` of them."""
    if small:
        if len(cache) >= limit:
            cache.clear()
        cache[key] = made


def write_chunks(dst: Path, chunks: list[Chunk], source: BinaryIO) -> None:
    """Write the chunks in as few calls as it takes: small ones joined, large ones as they are,
    the tail of the source copied by the system."""
    with open(dst, "wb", buffering=0) as fp:
        parts: list[bytes | memoryview] = []  # written together, before the next tail
        small: list[bytes | memoryview] = []
        for chunk in chunks:
            if not isinstance(chunk, _Tail) and len(chunk) < _LARGE:
                small.append(chunk)
                continue
            if small:
                parts.append(b"".join(small))
                small = []
            if isinstance(chunk, _Tail):
                _write_parts(fp, parts)
                parts = []
                _copy_tail(source, fp, chunk.start, chunk.end)
            else:
                parts.append(chunk)
        if small:
            parts.append(b"".join(small))
        _write_parts(fp, parts)


def _copy_tail(source: BinaryIO, out: BinaryIO, start: int, end: int) -> None:
    """Copy the source's bytes from `start` to `end` in the kernel where it can, else in steps."""
    copy_range = getattr(os, "copy_file_range", None)  # Linux; elsewhere the copy in steps
    if copy_range is not None:
        try:
            while start < end:
                copied = copy_range(source.fileno(), out.fileno(), end - start, start)
                if not copied:
                    break  # the source ends early: copy_value says so
                start += copied
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
                raise
    if start < end:
        copy_value(source, out, start, end - start)


def has_fd(fp: BinaryIO) -> bool:
    """Whether `fp` is a real file, whose tail the system can copy."""
    try:
        fp.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):
        return False
    return True


def _write_parts(fp: BinaryIO, parts: list[bytes | memoryview]) -> None:
    """The parts one after the other, in one system call where the system has `os.writev`
    (not Windows) and takes them all at once."""
    writev = getattr(os, "writev", None)
    while parts:
        if writev is None or len(parts) == 1:
            _write_all(fp, parts[0])
            parts = parts[1:]
            continue
        batch, parts = parts[:_IOV_MAX], parts[_IOV_MAX:]
        written = writev(fp.fileno(), batch)
        for index, part in enumerate(batch):  # what a short write left, in order
            if written < len(part):
                parts = [memoryview(part)[written:], *batch[index + 1 :], *parts]
                break
            written -= len(part)


def _write_all(fp: BinaryIO, chunk: bytes | memoryview) -> None:
    """One chunk, whatever the number of calls the system takes to write it."""
    view = memoryview(chunk)
    while view:
        written = fp.write(view)
        view = view[written:]


def _as_read(
    data: bytes,
    at: int,
    vr: str | None,
    length: int,
    end: int,
    source: BinaryIO | None = None,
    start: int = 0,
) -> bool:
    """Whether the engine's writer would write this element exactly as it was read: an explicit
    long header's reserved bytes are zero, an undefined length ends in a plain delimiter.

    With `source`, the value runs from `start` past `data` (the head) to `end`, the end of the
    file: an undefined length there must be encapsulated items, each read as `reader.walk`
    reads them, then that delimiter and nothing after it."""
    if vr in LONG_VRS and data[at + 6 : at + 8] != b"\0\0":
        return False
    if length != UNDEFINED:
        return True
    if source is None:
        return data[end - 8 : end] == SEQUENCE_END
    return _items_end_file(source, start, end)


def _items_end_file(source: BinaryIO, pos: int, size: int) -> bool:
    """Whether the source's items from `pos` (each of a defined length) are followed by a plain
    sequence delimiter that ends the file (`size` bytes); only their headers are read."""
    while pos + 8 <= size:
        source.seek(pos)
        header = source.read(8)
        if header == SEQUENCE_END:
            return pos + 8 == size
        if len(header) < 8 or header[:4] != _ITEM:
            return False
        length = int.from_bytes(header[4:], "little")
        if length == UNDEFINED:
            return False
        pos += 8 + length
    return False
