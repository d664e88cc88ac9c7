"""What a worker reads of each source file before anything is written: a few header values.

The patient id decides the opt-out check; the series and instance numbers place the file in the
output (see `layout`). A file that cannot be used is `Unusable` with a reason for the job's owner,
which skips that one file, not the job: a hostile or broken file must not fail a folder of good
ones. Reading is bounded: a deflated file is inflated in a stream, counting, before pydicom
(which inflates it whole into memory) may touch it.

Most files are little endian with the four values in plain ASCII: those are read by the
engine's own element walk over the file's first bytes (`_walked`), about a tenth of what
pydicom's `dcmread` costs, which a PACS job paid once per instance beside de-identifying it.
Anything else (another encoding, a value that is not plain ASCII, an unusual element) is read
by pydicom, whose answer is the reference: the walk gives the same values or none.
"""

from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass
from typing import BinaryIO

import pydicom
from pydicom.charset import python_encoding
from pydicom.errors import InvalidDicomError
from pydicom.filereader import _read_command_set_elements, _read_file_meta_info, read_preamble
from pydicom.uid import DeflatedExplicitVRLittleEndian

from anonapi_server.deid.outcome import Cause
from anonapi_server.deid.reader import READ_ERRORS, little_endian_kind, value_of, walk
from anonapi_server.errors import ServerError

MAX_INFLATED_BYTES = 64 * 1024 * 1024  # deflated DICOM is rare and small (reports, waveforms)
_CHUNK = 64 * 1024
_DEFLATED_UID = DeflatedExplicitVRLittleEndian.encode("ascii")
_META_WINDOW = 8 * 1024  # the file meta is a few hundred bytes; its UIDs are at most 64 each
_LONG_VRS = {
    b"OB",
    b"OD",
    b"OF",
    b"OL",
    b"OV",
    b"OW",
    b"SQ",
    b"SV",
    b"UC",
    b"UN",
    b"UR",
    b"UT",
    b"UV",
}
_TAGS = ["PatientID", "SeriesInstanceUID", "SeriesNumber", "InstanceNumber"]
# The same four by tag, and the character set they are in, with their VRs.
_PATIENT_ID, _SERIES_UID, _SERIES_NUMBER, _INSTANCE_NUMBER = (
    0x00100020,
    0x0020000E,
    0x00200011,
    0x00200013,
)
_CHARSET = 0x00080005
_WANTED = {
    _CHARSET: "CS",
    _PATIENT_ID: "LO",
    _SERIES_UID: "UI",
    _SERIES_NUMBER: "IS",
    _INSTANCE_NUMBER: "IS",
}
_SYNTAX = 0x00020010
_META_LENGTH = 0x00020000
_PIXEL_TAGS = {0x7FE00008, 0x7FE00009, 0x7FE00010}  # where pydicom's stop_before_pixels stops
_UNDEFINED = 0xFFFFFFFF
_MAX_DIGITS = 16
_HEAD = 64 * 1024  # the header values come before the pixel data, in the first few KB


class Unusable(ServerError):
    """This file is skipped; the message (no DICOM value in it) says why, `cause` in one word."""

    def __init__(self, cause: Cause, message: str):
        super().__init__(message)
        self.cause = cause


@dataclass(frozen=True)
class Header:
    """The values of a source file the worker needs before de-identifying it."""

    patient_id: str
    series_uid: str
    series_number: int | None
    instance_number: int | None


def read_header(fd: int) -> Header:
    """The header of the opened DICOM file `fd` (left open); Unusable when it is not DICOM or
    cannot be used.

    OSError (the share, not the file) is raised as is: the caller ends the job over it.
    """
    with os.fdopen(fd, "rb", closefd=False) as fp:
        return read_header_from(fp)


def read_header_from(fp: BinaryIO) -> Header:
    """The header of the DICOM file `fp` (an open file or its bytes in memory), read from its
    start; Unusable or OSError as `read_header`."""
    walked = _walked(fp)
    if walked is not None:
        return walked  # a little endian file, never deflated: nothing to inflate or parse
    fp.seek(0)
    _check_inflated_size(fp)
    fp.seek(0)
    return _read(fp)


def _walked(fp: BinaryIO) -> Header | None:
    """The header of a plain file, read by the engine's element walk; None: pydicom reads it.

    Plain: Part-10, little endian (explicit or implicit VR, the one the meta names being the
    one pydicom finds), every element up to the pixel data (where pydicom stops) in order, of
    defined length (pydicom parses undefined lengths its own way to find their end) and within
    the first `_HEAD` bytes; the wanted values of their own VR, in ASCII without a backslash
    (one value) or an escape (no character set switch), the numbers plain digits, and the
    character set, if any, one that DICOM names. Such values decode to the same text in every
    one of those character sets, so the patient id deciding the opt-out is the one pydicom
    would read.
    """
    fp.seek(0)
    data = fp.read(_HEAD)
    size = len(data) if len(data) < _HEAD else fp.seek(0, os.SEEK_END)
    try:
        if data[128:132] != b"DICM":
            return None
        meta = list(walk(data, 132, implicit=False, meta=True))
        # The meta as the standard has it: its group length first (pydicom converts the first
        # element's value to test it), no undefined length (pydicom parses those its own way).
        if not meta or meta[0][1:4] != (_META_LENGTH, "UL", 4):
            return None
        if any(length == _UNDEFINED for _, _, _, length, _, _ in meta):
            return None
        if any(tag == _SYNTAX and vr != "UI" for _, tag, vr, _, _, _ in meta):
            return None  # pydicom converts it by its VR, and may refuse the file
        syntax = next((value_of(data, *e[3:]) for e in meta if e[1] == _SYNTAX), b"")
        pos = meta[-1][5]
        implicit = little_endian_kind(syntax)
        if implicit is None or not _plain_start(data, pos, implicit):
            return None
        values: dict[int, bytes] = {}
        for _, tag, vr, length, start, end in walk(data, pos, implicit, size=size):
            if tag in _PIXEL_TAGS:
                break
            if length == _UNDEFINED:
                return None
            if tag in _WANTED:
                if vr not in (None, _WANTED[tag]):
                    return None
                values[tag] = data[start:end]
        else:
            if len(data) < size:
                return None  # the head ended before the pixel data: pydicom reads on
    except (*READ_ERRORS, ValueError, RecursionError):
        return None  # pydicom reads it, and says what is wrong with it
    charset = values.pop(_CHARSET, None)
    if charset is not None and not _named_charsets(charset):
        return None
    texts = {tag: _plain(raw) for tag, raw in values.items()}
    numbers = {tag: _digits(texts.get(tag, "")) for tag in (_SERIES_NUMBER, _INSTANCE_NUMBER)}
    if None in texts.values() or not all(plain for plain, _ in numbers.values()):
        return None
    return Header(
        patient_id=texts.get(_PATIENT_ID) or "",
        series_uid=(texts.get(_SERIES_UID) or "").strip(),  # as pydicom's UID() strips it
        series_number=numbers[_SERIES_NUMBER][1],
        instance_number=numbers[_INSTANCE_NUMBER][1],
    )


def _plain_start(data: bytes, pos: int, implicit: bool) -> bool:
    """Whether pydicom reads the data set from `pos` as the meta says: no command group first
    (pydicom reads group 0000 its own way, then tests the encoding again after it), and its
    test of the first element agrees: two capital letters where explicit VR has its VR."""
    if len(data) < pos + 6:
        return False
    vr = data[pos + 4 : pos + 6]
    explicit = all(0x40 < byte < 0x5B for byte in vr)
    group = data[pos] | data[pos + 1] << 8
    return group >= 0x0008 and explicit != implicit


def _named_charsets(raw: bytes) -> bool:
    """Whether each term of the Specific Character Set is one DICOM names (pydicom also takes
    misspellings and any Python codec's name, which may decode ASCII otherwise)."""
    if not raw.isascii():
        return False
    terms = raw.decode("ascii").rstrip("\0 ").split("\\")
    return all(term.strip() in python_encoding for term in terms)


def _read(fp: BinaryIO) -> Header:
    try:
        ds = pydicom.dcmread(fp, stop_before_pixels=True, specific_tags=_TAGS)
    except InvalidDicomError as e:
        raise Unusable(Cause.NOT_DICOM, "not a DICOM file") from e
    except OSError as e:
        if e.errno is None:  # pydicom's own ("No tag to read at ..."): the file is damaged
            raise Unusable(Cause.UNREADABLE, "unreadable DICOM file (cut short)") from e
        raise  # the share failed, not the file
    except RecursionError as e:
        raise Unusable(Cause.UNREADABLE, "nested too deeply to read") from e
    except Exception as e:  # pydicom's parse errors share no base class
        raise Unusable(Cause.UNREADABLE, f"unreadable DICOM file ({type(e).__name__})") from e
    try:
        return Header(
            patient_id=str(ds.get("PatientID", "") or ""),
            series_uid=str(ds.get("SeriesInstanceUID", "") or ""),
            series_number=_number(ds.get("SeriesNumber")),
            instance_number=_number(ds.get("InstanceNumber")),
        )
    except Exception as e:  # a value pydicom converts only when asked ("inf" as a number)
        raise Unusable(Cause.UNREADABLE, f"unreadable DICOM file ({type(e).__name__})") from e


def _number(value: object) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if 0 <= number < 10**9 else None


def _plain(raw: bytes) -> str | None:
    """A single value in ASCII, without its padding, as pydicom decodes it in any character
    set; None when pydicom must decode it."""
    if not raw.isascii() or b"\\" in raw or b"\x1b" in raw:
        return None
    return raw.decode("ascii").rstrip("\0 ")


def _digits(text: str | None) -> tuple[bool, int | None]:
    """An IS value as `_number` takes it: (True, the number or None when empty or out of
    range) for plain digits; (False, None) for anything else, which pydicom reads."""
    stripped = (text or "").strip(" ")
    if not stripped:
        return True, None
    if not (stripped.isascii() and stripped.isdigit()) or len(stripped) > _MAX_DIGITS:
        return False, None  # pydicom's conversion of a very long one overflows: it decides
    return True, _number(stripped)


def _plainly_not_deflated(window: bytes) -> bool:
    """True when the file meta in `window` (explicit VR, wholly inside it) names a transfer
    syntax that is not deflated: the common case, decided without pydicom's meta parse.

    Walks the group-2 element headers as pydicom would read them; anything unusual (no Part-10
    header, another encoding, meta longer than the window) answers False: the full check runs.
    """
    if window[128:132] != b"DICM":
        return False
    offset, last, syntax = 132, -1, None
    while offset + 8 <= len(window):
        group, element = struct.unpack_from("<HH", window, offset)
        if group != 2:
            break  # the meta ended
        if element <= last:
            return False  # repeated or out of order: pydicom keeps the last, its parse decides
        last = element
        vr = window[offset + 4 : offset + 6]
        if vr in _LONG_VRS:
            if offset + 12 > len(window):
                return False
            (length,) = struct.unpack_from("<I", window, offset + 8)
            start = offset + 12
        elif vr.isalpha() and vr.isupper():
            (length,) = struct.unpack_from("<H", window, offset + 6)
            start = offset + 8
        else:
            return False
        if start + length > len(window):
            return False
        if element == 0x0010:
            syntax = window[start : start + length]
        offset = start + length
    else:
        return False  # the meta runs past the window
    return syntax is not None and syntax.rstrip(b"\0 ") != _DEFLATED_UID


def _check_inflated_size(fp: BinaryIO) -> None:
    """Unusable when `fp` is deflated DICOM that inflates beyond MAX_INFLATED_BYTES."""
    window = fp.read(_META_WINDOW)
    if _plainly_not_deflated(window):  # most files: no meta parse needed
        return
    fp.seek(0)
    try:
        read_preamble(fp, False)
        meta = _read_file_meta_info(fp)
    except Exception:  # not Part-10 or a broken meta: dcmread decides what it is
        return
    if meta.get("TransferSyntaxUID") != DeflatedExplicitVRLittleEndian:
        return
    try:
        # pydicom inflates what follows the command group elements (uncompressed, if any):
        # measured from anywhere else, a command element that reads as an empty deflate stream
        # would pass this check while pydicom inflated the rest whole.
        _read_command_set_elements(fp)
    except Exception:  # dcmread fails there too, and says so
        return
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    size = 0
    while chunk := fp.read(_CHUNK):
        while chunk:
            try:
                size += len(inflater.decompress(chunk, _CHUNK))
            except zlib.error as e:
                raise Unusable(Cause.DAMAGED, "damaged deflated DICOM file") from e
            if size > MAX_INFLATED_BYTES:
                raise Unusable(
                    Cause.TOO_LARGE,
                    f"deflated DICOM file inflating beyond {MAX_INFLATED_BYTES // 2**20} MB",
                )
            chunk = inflater.unconsumed_tail
