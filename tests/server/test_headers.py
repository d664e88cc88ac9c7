"""The header a worker reads before writing anything: the engine's walk and pydicom agree.

Most files are read by the element walk (`headers._walked`); pydicom reads the rest and is the
reference. Every file here, pydicom's own test files and hand-made edge cases, must give the walk
either pydicom's exact header or no answer at all (then pydicom reads it): a walk that read
another patient id would let an opted-out patient's file through.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_file_meta_info
from pydicom.uid import UID, ExplicitVRLittleEndian, ImplicitVRLittleEndian, generate_uid

from anonapi_server import headers
from anonapi_server.headers import Header, Unusable
from anonapi_server.sample_studies import write_study

CT = "1.2.840.10008.5.1.4.1.1.2"


def part10(
    elements: list[tuple[int, str, bytes]],
    *,
    implicit: bool = False,
    syntax: str | None = None,
    charset: bytes | None = None,
) -> bytes:
    """A Part-10 file holding exactly `elements` (tag, VR, value bytes as given, padded to even
    length), in tag order after the character set and the SOP identity; `syntax` names another
    transfer syntax in the meta than the one the data set is written in."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(CT)
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = (
        UID(syntax) if syntax else (ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian)
    )
    out = DicomBytesIO()
    out.is_little_endian, out.is_implicit_VR = True, False
    out.write(b"\0" * 128 + b"DICM")
    write_file_meta_info(out, meta)
    first = [
        (0x00080016, "UI", CT.encode()),
        (0x00080018, "UI", str(meta.MediaStorageSOPInstanceUID).encode()),
    ]
    if charset is not None:
        first.insert(0, (0x00080005, "CS", charset))
    for tag, vr, value in first + elements:
        if len(value) % 2:
            value += b"\0" if vr == "UI" else b" "
        out.write(struct.pack("<HH", tag >> 16, tag & 0xFFFF))
        if implicit:
            out.write(struct.pack("<I", len(value)))
        elif vr in ("OB", "UN", "SQ", "UT"):
            out.write(vr.encode() + b"\0\0" + struct.pack("<I", len(value)))
        else:
            out.write(vr.encode() + struct.pack("<H", len(value)))
        out.write(value)
    return bytes(out.getvalue())


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
    return {**files, **EDGE_CASES}


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
