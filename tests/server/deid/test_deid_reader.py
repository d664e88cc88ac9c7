"""The engine's own reader holds exactly what pydicom reads, or leaves the file to pydicom."""

from pathlib import Path

import pydicom
import pytest
from pydicom.uid import ImplicitVRLittleEndian

from anonapi_server.deid import reader as reader_module
from anonapi_server.deid.reader import read_little_endian
from anonapi_server.sample_studies import write_study


def _read(path: Path):
    with path.open("rb") as fp:
        return read_little_endian(fp, path.stat().st_size)


@pytest.mark.parametrize("implicit", [False, True])
def test_it_reads_what_pydicom_reads(tmp_path, implicit):
    (src,) = write_study(tmp_path, patient_id="P", patient_name="N", n_files=1, rows=8)
    if implicit:
        ds = pydicom.dcmread(src)
        ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
        ds.save_as(src, implicit_vr=True)
    ours, theirs = _read(src), pydicom.dcmread(src)
    assert ours is not None and ours.original_encoding == (implicit, True)
    assert ours == theirs and ours.file_meta == theirs.file_meta
    assert ours.ReferencedSeriesSequence[0].SeriesInstanceUID  # sequences decode on demand


def test_what_it_does_not_handle_is_left_to_pydicom(tmp_path, monkeypatch):
    (src,) = write_study(tmp_path, patient_id="P", patient_name="N", n_files=1, rows=8)
    data = src.read_bytes()
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(data[:-100])  # pixel data cut short
    assert _read(cut) is None
    swapped = tmp_path / "odd-vr.dcm"
    at = data.index(b"\x10\x00\x10\x00PN")
    swapped.write_bytes(data[: at + 4] + b"ZZ" + data[at + 6 :])  # not a VR
    assert _read(swapped) is None
    monkeypatch.setattr(reader_module, "MAX_IN_MEMORY", len(data) - 1)
    assert _read(src) is None  # too large to hold: pydicom leaves big values in the file
