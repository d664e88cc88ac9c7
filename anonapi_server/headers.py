"""What a worker reads of each source file before anything is written: a few header values.

The patient id decides the opt-out check; the series and instance numbers place the file in the
output (see `layout`). A file that cannot be used is `Unusable` with a reason for the job's owner,
which skips that one file, not the job: a hostile or broken file must not fail a folder of good
ones. Reading is bounded: a deflated file is inflated in a stream, counting, before pydicom
(which inflates it whole into memory) may touch it.
"""

from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass
from typing import BinaryIO

import pydicom
from pydicom.errors import InvalidDicomError
from pydicom.filereader import _read_file_meta_info, read_preamble
from pydicom.uid import DeflatedExplicitVRLittleEndian

from anonapi_server.deid.outcome import Cause
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
    fp.seek(0)
    _check_inflated_size(fp)
    fp.seek(0)
    return _read(fp)


def _read(fp: BinaryIO) -> Header:
    try:
        ds = pydicom.dcmread(fp, stop_before_pixels=True, specific_tags=_TAGS)
    except InvalidDicomError as e:
        raise Unusable(Cause.NOT_DICOM, "not a DICOM file") from e
    except OSError:
        raise
    except RecursionError as e:
        raise Unusable(Cause.UNREADABLE, "nested too deeply to read") from e
    except Exception as e:  # pydicom's parse errors share no base class
        raise Unusable(Cause.UNREADABLE, f"unreadable DICOM file ({type(e).__name__})") from e
    return Header(
        patient_id=str(ds.get("PatientID", "") or ""),
        series_uid=str(ds.get("SeriesInstanceUID", "") or ""),
        series_number=_number(ds.get("SeriesNumber")),
        instance_number=_number(ds.get("InstanceNumber")),
    )


def _number(value: object) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if 0 <= number < 10**9 else None


def _plainly_not_deflated(window: bytes) -> bool:
    """True when the file meta in `window` (explicit VR, wholly inside it) names a transfer
    syntax that is not deflated: the common case, decided without pydicom's meta parse.

    Walks the group-2 element headers as pydicom would read them; anything unusual (no Part-10
    header, another encoding, meta longer than the window) answers False: the full check runs.
    """
    if window[128:132] != b"DICM":
        return False
    offset = 132
    while offset + 8 <= len(window):
        group, element = struct.unpack_from("<HH", window, offset)
        if group != 2:
            return False  # the meta ended without a transfer syntax
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
            return window[start : start + length].rstrip(b"\0 ") != _DEFLATED_UID
        offset = start + length
    return False


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
