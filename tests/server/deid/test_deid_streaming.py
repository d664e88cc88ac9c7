"""Large values stay in the source and are streamed to the output; hostile sizes stay bounded.

The defer size is lowered here so that small files exercise what a 2 GB multi-frame image does
(bench/deid_memory.py measures the real thing: peak RSS of a worker on 2 GiB inputs).
"""

import struct
import zlib
from pathlib import Path

import pydicom
import pytest
from pydicom.encaps import encapsulate
from pydicom.uid import ImplicitVRLittleEndian, JPEG2000Lossless

from anonapi_server.deid import Cause, Deidentifier, ProjectProfile
from anonapi_server.deid import engine as engine_module
from anonapi_server.deid import source as source_module
from anonapi_server.sample_studies import write_study
from tests.server.deid.conftest import PROJECT, SECRET


def _study(folder: Path, syntax: str | None = None) -> Path:
    (src,) = write_study(folder, patient_id="P", patient_name="N", n_files=1, rows=64, columns=64)
    if syntax == JPEG2000Lossless:
        ds = pydicom.dcmread(src)
        frames = [ds.PixelData[:4000], ds.PixelData[4000:]]
        ds.PixelData = encapsulate(frames)
        ds.file_meta.TransferSyntaxUID = syntax
        ds.save_as(src)
    elif syntax == ImplicitVRLittleEndian:
        ds = pydicom.dcmread(src)
        ds.file_meta.TransferSyntaxUID = syntax
        ds.save_as(src, implicit_vr=True, little_endian=True)
    return src


@pytest.mark.parametrize("syntax", [None, ImplicitVRLittleEndian, JPEG2000Lossless])
def test_values_left_in_the_source_are_copied_byte_for_byte(monkeypatch, tmp_path, syntax):
    src = _study(tmp_path / "in", syntax)
    reference = Deidentifier(ProjectProfile(PROJECT, SECRET), byte_paths=False)
    assert reference.deidentify_file(src, tmp_path / "ref.dcm", "P1", "P").kind == "written"
    monkeypatch.setattr(engine_module, "DEFER_BYTES", 1024)  # pixel data is 8 KiB
    streamed = Deidentifier(ProjectProfile(PROJECT, SECRET))
    assert streamed.deidentify_file(src, tmp_path / "out.dcm", "P1", "P").kind == "written"
    assert (tmp_path / "out.dcm").read_bytes() == (tmp_path / "ref.dcm").read_bytes()
    assert pydicom.dcmread(tmp_path / "out.dcm").PixelData == pydicom.dcmread(src).PixelData


def test_a_value_declared_beyond_the_end_of_the_file_is_damage(monkeypatch, engine, tmp_path):
    src = _study(tmp_path / "in")
    data = src.read_bytes()
    at = data.rindex(b"\xe0\x7f\x10\x00OW")  # declare 1 GiB of pixel data in a 9 KB file
    src.write_bytes(data[: at + 8] + struct.pack("<I", 1 << 30) + data[at + 12 :])
    monkeypatch.setattr(engine_module, "DEFER_BYTES", 1024)
    outcome = engine.deidentify_file(src, tmp_path / "out.dcm", "P1", "P")
    assert outcome.cause is Cause.DAMAGED and not (tmp_path / "out.dcm").exists()


def test_a_deflated_file_inflating_beyond_the_limit_is_skipped_unread(monkeypatch, tmp_path):
    src = _study(tmp_path / "in")
    ds = pydicom.dcmread(src)
    ds.file_meta.TransferSyntaxUID = pydicom.uid.DeflatedExplicitVRLittleEndian
    ds.save_as(src)
    data = src.read_bytes()
    meta_end = 144 + struct.unpack("<I", data[140:144])[0]
    inflated = len(zlib.decompress(data[meta_end:], -zlib.MAX_WBITS))
    monkeypatch.setattr(source_module, "PYDICOM_PATH_LIMIT", inflated - 1)
    engine = Deidentifier(ProjectProfile(PROJECT, SECRET))
    outcome = engine.deidentify_file(src, tmp_path / "out.dcm", "P1", "P")
    assert outcome.cause is Cause.TOO_LARGE and not (tmp_path / "out.dcm").exists()
    monkeypatch.setattr(source_module, "PYDICOM_PATH_LIMIT", inflated)
    assert engine.deidentify_file(src, tmp_path / "out.dcm", "P1", "P").kind == "written"


def test_an_open_file_handle_is_accepted_as_the_source(engine, tmp_path):
    src = _study(tmp_path / "in")
    with src.open("rb") as fp:
        assert engine.deidentify_file(fp, tmp_path / "out.dcm", "P1", "P").kind == "written"
    assert pydicom.dcmread(tmp_path / "out.dcm").PixelData == pydicom.dcmread(src).PixelData
