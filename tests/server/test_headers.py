"""The header a worker reads before writing anything: the engine's walk and pydicom agree.

Most files are read by the element walk (`headers._walked`); pydicom reads the rest and is the
reference. Every file here, pydicom's own test files and hand-made edge cases, must give the walk
either pydicom's exact header or no answer at all (then pydicom reads it): a walk that read
another patient id would let an opted-out patient's file through.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from pydicom.data import get_testdata_file
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

from anonapi_server import headers
from anonapi_server.deid.outcome import Cause
from anonapi_server.headers import Header, Unusable
from anonapi_server.sample_studies import write_study

CT = "1.2.840.10008.5.1.4.1.1.2"
_INSTANCE = "1.2.3.4"


_LONG_VRS = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"}
UNDEFINED = 0xFFFFFFFF


def element(
    tag: int, vr: str, value: bytes, *, implicit: bool = False, length: int | None = None
) -> bytes:
    """One element as encoded; `length` declares another length than the value's."""
    declared = len(value) if length is None else length
    head = struct.pack("<HH", tag >> 16, tag & 0xFFFF)
    if implicit:
        return head + struct.pack("<I", declared) + value
    if vr in _LONG_VRS:
        return head + vr.encode() + b"\0\0" + struct.pack("<I", declared) + value
    return head + vr.encode() + struct.pack("<H", declared) + value


def item(length: int = UNDEFINED) -> bytes:
    return struct.pack("<HHI", 0xFFFE, 0xE000, length)


ITEM_END = struct.pack("<HHI", 0xFFFE, 0xE00D, 0)
SEQUENCE_END = struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)


def _meta(*given: bytes, syntax: str = ExplicitVRLittleEndian, extra: bytes = b"") -> bytes:
    """A file meta written by hand: the `given` elements alone, or the usual elements and
    `extra` after them under their group length."""
    if given:
        return b"\0" * 128 + b"DICM" + b"".join(given)
    body = element(0x00020001, "OB", b"\0\1") + element(0x00020002, "UI", _ui(CT))
    body += element(0x00020003, "UI", _ui(_INSTANCE)) + element(0x00020010, "UI", _ui(syntax))
    body += extra
    return b"\0" * 128 + b"DICM" + element(0x00020000, "UL", struct.pack("<I", len(body))) + body


def _ui(uid: str) -> bytes:
    """A UID encoded, padded to even length."""
    return (uid + "\0" * (len(uid) % 2)).encode("ascii")


def part10(
    elements: list[tuple[int, str, bytes] | bytes],
    *,
    implicit: bool = False,
    syntax: str | None = None,
    charset: bytes | None = None,
    sop: bool = True,
) -> bytes:
    """A Part-10 file holding exactly `elements` (tag, VR, value bytes as given, padded to even
    length; or bytes written as they are) in the order given, after the character set and the
    SOP identity (unless not `sop`); `syntax` names another transfer syntax in the meta than
    the one the data set is written in."""
    written_in = ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian
    out = [_meta(syntax=syntax or written_in)]
    first: list[tuple[int, str, bytes] | bytes] = []
    if sop:
        first += [(0x00080016, "UI", CT.encode()), (0x00080018, "UI", _INSTANCE.encode())]
    if charset is not None:
        first.insert(0, (0x00080005, "CS", charset))
    for written in first + elements:
        if isinstance(written, bytes):
            out.append(written)
            continue
        tag, vr, value = written
        if len(value) % 2:
            value += b"\0" if vr == "UI" else b" "
        out.append(element(tag, vr, value, implicit=implicit))
    return b"".join(out)


def _pid(value: bytes) -> tuple[int, str, bytes]:
    return (0x00100020, "LO", value)


def _series(number: bytes) -> tuple[int, str, bytes]:
    return (0x00200011, "IS", number)


def _instance(number: bytes) -> tuple[int, str, bytes]:
    return (0x00200013, "IS", number)


def mislabelled() -> bytes:
    """Explicit VR written, implicit VR said in the meta (pydicom notices and reads it right).

    Read as implicit, the empty character set's VR and length (`CS`, 0) make a length of 0x5343
    bytes, landing inside a private filler where a tag past the instance number is planted: a
    walk that believed the meta would stop there having found no patient id."""
    elements = [(0x00091000, "OB", bytes(30_000)), _pid(b"HIDDEN"), _instance(b"4 ")]
    data = bytearray(part10(elements, syntax=ImplicitVRLittleEndian, charset=b""))
    planted = data.index(b"\x08\x00\x05\x00CS\x00\x00") + 8 + 0x5343
    data[planted : planted + 8] = struct.pack("<HHI", 0x0021, 0x0000, 0)
    return bytes(data)


_UID = (0x0020000E, "UI", b"1.2.3.4\0")


def _ids(patient: bytes, instance: bytes, *, implicit: bool = False, pixels: bool = False) -> bytes:
    """A patient id and an instance number, and the pixel data's header (where pydicom stops)."""
    encoded = element(0x00100020, "LO", patient, implicit=implicit)
    encoded += element(0x00200013, "IS", instance, implicit=implicit)
    if pixels:
        encoded += element(0x7FE00010, "OB", b"", implicit=implicit)
    return encoded


def _first_length_in_capitals() -> bytes:
    """Implicit VR said; the first element's length (0x5A5A) reads "ZZ" where explicit VR has
    its VR, so pydicom reads the data set as explicit and finds another patient inside it."""
    inner = _ids(b"EVIL", b"1 ", pixels=True)
    inner += bytes(0x5A5A - len(inner))
    hidden = element(0x00091000, "UN", inner, implicit=True)
    return part10([hidden, _ids(b"GOOD", b"2 ", implicit=True)], implicit=True, sop=False)


def _item_past_its_end() -> bytes:
    """A defined-length item whose last element runs past the item's end: pydicom reads on from
    there (into what a walk by the item's length takes for an OB value)."""
    after = SEQUENCE_END + element(0x00100020, "LO", b"GOOD")
    value = element(0x00111000, "OB", SEQUENCE_END + _ids(b"EVIL", b"1 ", pixels=True))
    inside = element(0x00080100, "SH", b"AB", length=2 + len(after) + 12)
    sequence = element(0x00081140, "SQ", b"", length=UNDEFINED) + item(len(inside)) + inside
    return part10([sequence + after + value, _instance(b"2 ")], sop=False)


def _delimiter_found_by_scanning() -> bytes:
    """Implicit VR, an undefined-length Manufacturer (LO) holding an item: pydicom looks for the
    sequence delimiter's bytes, found inside a value a walk by structure steps over."""
    nested = element(
        0x00080100,
        "",
        SEQUENCE_END + _ids(b"EVIL", b"1 ", implicit=True, pixels=True),
        implicit=True,
    )
    odd = element(0x00080070, "", b"", implicit=True, length=UNDEFINED)
    odd += item() + nested + ITEM_END + SEQUENCE_END
    return part10([odd, _ids(b"GOOD", b"2 ", implicit=True)], implicit=True, sop=False)


def _un_in_an_item() -> bytes:
    """An undefined-length UN inside an item, its items written explicit: pydicom reads them
    explicit, a walk reading UN's items as implicit VR lands elsewhere."""
    tail = element(0x00080100, "UT", b"ab") + ITEM_END + SEQUENCE_END + ITEM_END + SEQUENCE_END
    tail += _ids(b"EVIL", b"1 ", pixels=True)
    tail += bytes(8 + 0x5455 - len(tail))
    un = element(0x00091000, "UN", b"", length=UNDEFINED) + item() + tail
    sequence = element(0x00081140, "SQ", b"", length=UNDEFINED) + item() + un
    closing = ITEM_END + SEQUENCE_END + ITEM_END + SEQUENCE_END
    return part10([sequence + closing, _ids(b"GOOD", b"2 ")], sop=False)


_SYNTAX = element(0x00020010, "UI", b"1.2.840.10008.1.2.1\0")


def _command_group_first() -> bytes:
    """As `_first_length_in_capitals`, behind a command group element, which pydicom reads on
    its own before testing the encoding of the element after it."""
    inner = _ids(b"EVIL", b"1 ", pixels=True)
    inner += bytes(0x5A5A - len(inner))
    command = element(0x00000000, "UL", b"\0" * 4, implicit=True)
    hidden = element(0x00091000, "UN", inner, implicit=True)
    return (
        _meta(syntax=ImplicitVRLittleEndian)
        + command
        + hidden
        + _ids(b"GOOD", b"2 ", implicit=True)
    )


def _item_past_its_end_in_the_meta() -> bytes:
    """`_item_past_its_end` moved into the file meta: the two readers start the data set apart."""
    after = SEQUENCE_END + element(0x00100020, "LO", b"GOOD")
    inside = element(0x00080100, "SH", b"AB", length=2 + len(after) + 12)
    sequence = element(0x00020100, "SQ", b"", length=UNDEFINED) + item(len(inside)) + inside
    value = element(0x00111000, "OB", SEQUENCE_END + _ids(b"EVIL", b"1 ", pixels=True))
    return _meta(extra=sequence) + after + value + element(0x00200013, "IS", b"2 ")


_AFTER = [_pid(b"GOOD"), _instance(b"2 "), (0x00280010, "US", b"\0\1")]
_NESTED = element(0x00400260, "SQ", b"", length=UNDEFINED) + item()
# Found by a red-team review of the walk: each gave the walk another header than pydicom's.
RED_TEAM: dict[str, bytes] = {
    "a second patient id after the instance number": part10([*_AFTER, _pid(b"EVIL")]),
    "a second series UID after the instance number": part10([*_AFTER, (0x0020000E, "UI", b"9.9")]),
    "a Python codec's name as character set": part10([_pid(b"+AEUAVgBJAEw-")], charset=b"UTF-7"),
    "an EBCDIC codec as character set": part10([_pid(b"PAT1")], charset=b"CP500"),
    "a character set after the instance number": part10([*_AFTER, (0x00080005, "CS", b"UTF_16")]),
    "implicit said, capitals in the first length": _first_length_in_capitals(),
    "an item running past its end": _item_past_its_end(),
    "a delimiter found by scanning bytes": _delimiter_found_by_scanning(),
    "UN in an item, written explicit": _un_in_an_item(),
    "a series UID with a leading space": part10([(0x0020000E, "UI", b" 1.2.3"), _instance(b"2")]),
    "a series UID with a tab": part10([(0x0020000E, "UI", b"1.2.3\t\0"), _instance(b"2")]),
    "an OB of undefined length without its end": part10(
        [*_AFTER, element(0x00291000, "OB", b"x" * 20, length=UNDEFINED)]
    ),
    "a sequence without items": part10([*_AFTER, _NESTED[:-8] + element(0x00080100, "SH", b"")]),
    "sequences nested 400 deep": part10([*_AFTER, _NESTED * 400]),
    "infinity as an instance number": part10([_instance(b"inf ")]),
    # The second round.
    "a command group before the data set": _command_group_first(),
    "an item running past its end in the meta": _item_past_its_end_in_the_meta(),
    "a meta group length of two bytes": _meta(element(0x00020000, "UL", b"\0\0"), _SYNTAX)
    + _ids(b"GOOD", b"2 "),
    "a meta starting with an infinite number": _meta(element(0x00020001, "IS", b"inf "), _SYNTAX)
    + _ids(b"GOOD", b"2 "),
    # The third round: files pydicom refuses, which the walk read.
    "a transfer syntax of VR FD": _meta(
        element(0x00020000, "UL", struct.pack("<I", 28)),
        element(0x00020010, "FD", b"1.2.840.10008.1.2.1\0"),
    )
    + _ids(b"GOOD", b"2 "),
    "a series number of 4,301 digits": part10([_pid(b"GOOD"), _series(b"1" * 4301)]),
}


EDGE_CASES: dict[str, bytes] = {
    "plain explicit": part10([_pid(b"PAT001"), _UID, _series(b"3 "), _instance(b"12")]),
    "plain implicit": part10(
        [_pid(b"PAT001"), _UID, _series(b"3 "), _instance(b"12")], implicit=True
    ),
    "padded with NUL": part10([_pid(b"PAT1\0"), _instance(b"7\0")]),
    "leading spaces kept": part10([_pid(b"  PAT1  ")]),
    "no patient id": part10([_UID, _instance(b"1 ")]),
    "empty values": part10([_pid(b""), (0x0020000E, "UI", b""), _series(b""), _instance(b"")]),
    "two patient ids": part10([_pid(b"A\\B")]),
    "latin-1 id": part10([_pid(b"J\xf6rg ")], charset=b"ISO_IR 100"),
    "utf-8 id": part10([_pid(b"J\xc3\xb6rg ")], charset=b"ISO_IR 192"),
    "ascii id, utf-8 set": part10([_pid(b"PAT2")], charset=b"ISO_IR 192"),
    "ascii id, japanese set": part10([_pid(b"PAT~3")], charset=b"\\ISO 2022 IR 87"),
    "escape in id": part10([_pid(b"\x1b$BPAT")], charset=b"\\ISO 2022 IR 87"),
    "id of VR UN": part10([(0x00100020, "UN", b"PAT4")]),
    "number zero": part10([_series(b"0"), _instance(b"0 ")]),
    "number with sign": part10([_instance(b"+5")]),
    "negative number": part10([_instance(b"-1")]),
    "decimal number": part10([_instance(b"1.0 ")]),
    "word for a number": part10([_instance(b"abc ")]),
    "two numbers": part10([_instance(b"1\\2 ")]),
    "number too large": part10([_instance(b"9999999999")]),
    "number twice padded": part10([_instance(b"12\0\0")]),
    "id beyond the head": part10([(0x00091000, "OB", b"X" * 70_000), _pid(b"FAR1")]),
    "implicit said, explicit written": mislabelled(),
    "explicit said, implicit written": part10(
        [_pid(b"HIDDEN"), _instance(b"4 ")], implicit=True, syntax=ExplicitVRLittleEndian
    ),
}


def pydicom_header(data: bytes) -> Header | str:
    """What pydicom reads (the reference), or the name of what it raised."""
    try:
        return headers._read(io.BytesIO(data))
    except Unusable as e:
        return f"Unusable: {e}"
    except Exception as e:  # a value pydicom cannot convert when asked for it
        return type(e).__name__


def corpus() -> dict[str, bytes]:
    bundled = Path(str(get_testdata_file("CT_small.dcm"))).parent  # pydicom's own, no download
    files = {f"pydicom {p.name}": p.read_bytes() for p in bundled.rglob("*") if p.is_file()}
    return {**files, **EDGE_CASES, **RED_TEAM}


CORPUS = corpus()


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_the_walk_gives_pydicoms_header_or_leaves_the_file_to_pydicom(name: str):
    data = CORPUS[name]
    walked = headers._walked(io.BytesIO(data))
    if walked is not None:
        assert walked == pydicom_header(data)


def test_the_walk_reads_the_common_files():
    """Not vacuous: the walk answers for the files it is meant for, with the right values."""
    walked = [name for name in CORPUS if headers._walked(io.BytesIO(CORPUS[name])) is not None]
    for name in (
        "plain explicit",
        "plain implicit",
        "padded with NUL",
        "leading spaces kept",
        "no patient id",
        "empty values",
        "ascii id, utf-8 set",
        "ascii id, japanese set",
        "number zero",
        "number too large",
    ):
        assert name in walked
    assert headers._walked(io.BytesIO(EDGE_CASES["plain implicit"])) == Header(
        "PAT001", "1.2.3.4", 3, 12
    )
    assert headers._walked(io.BytesIO(EDGE_CASES["number zero"])) == Header("", "", 0, 0)
    assert sum(name.startswith("pydicom ") for name in walked) >= 20
    for name in ("two patient ids", "latin-1 id", "escape in id", "id of VR UN"):
        assert name not in walked  # pydicom decodes these


@pytest.mark.parametrize(
    "name", ["id beyond the head", "implicit said, explicit written", "latin-1 id"]
)
def test_files_the_walk_leaves_are_read_by_pydicom(name: str):
    header = headers.read_header_from(io.BytesIO(EDGE_CASES[name]))
    assert header == pydicom_header(EDGE_CASES[name])
    assert header.patient_id in ("FAR1", "HIDDEN", "Jörg")


def test_a_plain_file_is_read_without_pydicom(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The point of the walk: a PACS instance's header costs a tenth of a dcmread."""
    (path,) = write_study(tmp_path / "s", patient_id="PAT9", patient_name="P^Q", n_files=1)
    expected = headers.read_header_from(io.BytesIO(path.read_bytes()))

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("pydicom read the header")

    monkeypatch.setattr(headers.pydicom, "dcmread", refuse)
    with path.open("rb") as fp:
        assert headers.read_header_from(fp) == expected
    assert expected.patient_id == "PAT9" and expected.instance_number == 1


@pytest.mark.parametrize("name", ["a sequence without items", "infinity as an instance number"])
def test_a_damaged_file_is_one_unusable_file_not_a_failing_share(name: str):
    """pydicom's own OSError for a file cut short (no errno) and a number it cannot convert
    skip that one file; they used to end the whole job, as a failing share or as an internal
    error."""
    with pytest.raises(Unusable, match="unreadable DICOM file"):
        headers.read_header_from(io.BytesIO(RED_TEAM[name]))


def test_a_deflated_syntax_after_a_plain_one_is_still_checked_for_its_inflated_size(
    monkeypatch: pytest.MonkeyPatch,
):
    """pydicom keeps the last of two transfer syntaxes in the meta: the bound on what a
    deflated file inflates to must not stop at the first, plain one."""
    deflater = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    body = _ids(b"GOOD", b"2 ") + element(0x00111000, "OB", bytes(200_000))
    deflated = deflater.compress(body) + deflater.flush()
    two = _SYNTAX + element(0x00020010, "UI", b"1.2.840.10008.1.2.1.99\0")
    data = _meta(element(0x00020000, "UL", struct.pack("<I", len(two))), two) + deflated
    monkeypatch.setattr(headers, "MAX_INFLATED_BYTES", 100_000)
    with pytest.raises(Unusable, match="inflating beyond") as refused:
        headers.read_header_from(io.BytesIO(data))
    assert refused.value.cause == Cause.TOO_LARGE


def _deflated_behind_a_command_element(command: bytes, inflated: int) -> bytes:
    """A deflated file whose data set (a patient id and `inflated` bytes of zeros) follows an
    uncompressed command group element, which pydicom reads before it inflates the rest."""
    deflater = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    body = _ids(b"PAT1", b"1 ") + element(0x00291010, "OB", bytes(inflated))
    return (
        _meta(syntax=DeflatedExplicitVRLittleEndian)
        + command
        + deflater.compress(body)
        + deflater.flush()
    )


def test_a_command_element_that_reads_as_an_empty_deflate_stream_does_not_hide_a_bomb(
    monkeypatch: pytest.MonkeyPatch,
):
    """Read as deflate, the element's bytes are two empty stored blocks, the last one final:
    measured from the end of the meta, the file inflated to nothing while pydicom, which reads
    the command group first, would inflate the rest whole (found by a red-team review)."""
    command = struct.pack("<HHI", 0x0000, 0xFF00, 0x1FF) + b"\xff\xff" + bytes(509)
    monkeypatch.setattr(headers, "MAX_INFLATED_BYTES", 100_000)
    with pytest.raises(Unusable, match="inflating beyond") as refused:
        headers.read_header_from(io.BytesIO(_deflated_behind_a_command_element(command, 1 << 20)))
    assert refused.value.cause == Cause.TOO_LARGE


def test_a_deflated_file_with_a_command_element_is_read():
    command = struct.pack("<HHI", 0x0000, 0x0100, 2) + b"\1\0"
    data = _deflated_behind_a_command_element(command, 1000)
    assert headers.read_header_from(io.BytesIO(data)).patient_id == "PAT1"
