"""The direct path (bytes to bytes, no Dataset) writes exactly what the reference path writes.

The third-party set compares every file once; these tests cover what it cannot: the files of one
study de-identified one after the other (so that replacements made for one file are reused for
the next), and headers the direct path must not copy as they were read.
"""

import io
import os
import struct
from pathlib import Path

import pydicom
import pytest
from pydicom.encaps import encapsulate
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, JPEG2000Lossless

from anonapi_server.deid import Deidentifier, ProjectProfile
from anonapi_server.deid import direct as direct_module
from anonapi_server.deid.direct import DirectPath
from anonapi_server.sample_studies import write_study
from tests.server.deid.conftest import PROJECT, SECRET


@pytest.fixture
def direct_outcomes(monkeypatch) -> list:
    """What the direct path returned for each file (None: it left the file to the Dataset path)."""
    seen: list = []
    real = DirectPath.deidentify

    def spy(self, *args, **kwargs):
        seen.append(real(self, *args, **kwargs))
        return seen[-1]

    monkeypatch.setattr(DirectPath, "deidentify", spy)
    return seen


def _study_as(folder: Path, syntax: str) -> list[Path]:
    files = write_study(folder, patient_id="PID1", patient_name="Doe^Jane", n_files=4, rows=16)
    for path in files:
        ds = pydicom.dcmread(path)
        ds.file_meta.TransferSyntaxUID = syntax
        if syntax == JPEG2000Lossless:
            ds.PixelData = encapsulate([ds.PixelData])
        ds.save_as(path, implicit_vr=syntax == ImplicitVRLittleEndian)
    return files


def _same_as_reference(files: list[Path], out: Path, engine: Deidentifier) -> list[str]:
    """The files whose output differs from the reference path's (pydicom decodes everything)."""
    reference = Deidentifier(ProjectProfile(PROJECT, SECRET), byte_paths=False)
    differ = []
    for index, src in enumerate(files):
        fast, slow = out / f"{index}.fast", out / f"{index}.slow"
        assert engine.deidentify_file(src, fast, "P1", "Pseudo^One").kind == "written"
        assert reference.deidentify_file(src, slow, "P1", "Pseudo^One").kind == "written"
        if fast.read_bytes() != slow.read_bytes():
            differ.append(src.name)
    return differ


@pytest.mark.parametrize(
    "syntax", [ExplicitVRLittleEndian, ImplicitVRLittleEndian, JPEG2000Lossless]
)
def test_every_file_of_a_study_comes_out_as_the_reference_writes_it(
    tmp_path, direct_outcomes, syntax
):
    files = _study_as(tmp_path / "in", syntax)
    engine = Deidentifier(ProjectProfile(PROJECT, SECRET))
    twice = files + files  # the second time round, every replacement was made before
    assert _same_as_reference(twice, tmp_path, engine) == []
    assert len(direct_outcomes) == len(twice) and None not in direct_outcomes


def test_headers_it_cannot_copy_as_read_are_written_as_the_reference_writes_them(
    tmp_path, direct_outcomes
):
    (src,) = _study_as(tmp_path / "in", JPEG2000Lossless)[:1]
    data = bytearray(src.read_bytes())
    # Non-zero reserved bytes in the pixel data's OW header, and a sequence delimiter whose
    # length is not zero: both legal to read, both written anew by the engine's writer.
    header = b"\xe0\x7f\x10\x00OW\x00\x00\xff\xff\xff\xff"  # undefined length: encapsulated
    pixel = data.index(header)
    data[pixel + 6 : pixel + 8] = b"\x01\x02"
    assert data[-8:] == struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
    data[-4:] = struct.pack("<I", 4)
    src.write_bytes(bytes(data))
    engine = Deidentifier(ProjectProfile(PROJECT, SECRET))
    assert _same_as_reference([src], tmp_path, engine) == []
    assert direct_outcomes[0] is not None
    out = (tmp_path / "0.fast").read_bytes()
    assert header in out and out.endswith(struct.pack("<HHI", 0xFFFE, 0xE0DD, 0))


def test_a_pseudonym_outside_ascii_takes_the_dataset_path(tmp_path, direct_outcomes):
    (src,) = write_study(tmp_path / "in", patient_id="P", patient_name="N", n_files=1, rows=8)
    engine = Deidentifier(ProjectProfile(PROJECT, SECRET))
    assert (
        engine.deidentify_file(src, tmp_path / "out.dcm", "P1", "Müller^Jürgen").kind == "written"
    )
    assert direct_outcomes == [None]
    assert pydicom.dcmread(tmp_path / "out.dcm").PatientName == "Müller^Jürgen"


@pytest.fixture
def tails(monkeypatch) -> list:
    """The tails copied from a source by the system; every file is read head first, as a file
    larger than `_WHOLE` is."""
    monkeypatch.setattr(direct_module, "_WHOLE", 0)
    copied: list = []
    real = direct_module._copy_tail
    monkeypatch.setattr(direct_module, "_copy_tail", lambda *a: copied.append(a) or real(*a))
    return copied


@pytest.mark.parametrize("writev", ["one call", "short writes", "none, as on Windows"])
def test_a_file_up_to_the_whole_size_is_read_in_one_call_and_written_in_one(
    tmp_path, direct_outcomes, monkeypatch, writev
):
    files = write_study(tmp_path / "in", patient_id="P", patient_name="N", n_files=2, rows=256)
    assert direct_module._HEAD < files[0].stat().st_size <= direct_module._WHOLE
    copied: list = []
    monkeypatch.setattr(direct_module, "_copy_tail", lambda *a: copied.append(a))
    calls: list = []
    real = direct_module.os.writev

    def recording(fd, parts):  # a short write: at most 1,000 bytes per call
        calls.append(parts)
        if writev == "short writes":
            return os.write(fd, b"".join(parts)[:1000])
        return real(fd, parts)

    if writev == "none, as on Windows":
        monkeypatch.delattr(direct_module.os, "writev")
    else:
        monkeypatch.setattr(direct_module.os, "writev", recording)
    engine = Deidentifier(ProjectProfile(PROJECT, SECRET))
    assert _same_as_reference(files, tmp_path, engine) == []
    assert None not in direct_outcomes and copied == []
    if writev == "one call":
        assert len(calls) == len(files)
    elif writev == "short writes":  # what each short write left was written, in order
        assert len(calls) > len(files)


@pytest.mark.parametrize("kernel_copy", [True, False])
def test_pixel_data_past_the_head_is_copied_from_the_source_as_it_is(
    tmp_path, direct_outcomes, tails, monkeypatch, kernel_copy
):
    files = write_study(tmp_path / "in", patient_id="P", patient_name="N", n_files=2, rows=256)
    assert files[0].stat().st_size > direct_module._HEAD  # 128 KiB of pixels after the head
    if not kernel_copy:  # as on Windows and macOS: copied in steps through Python
        monkeypatch.delattr(direct_module.os, "copy_file_range", raising=False)
    engine = Deidentifier(ProjectProfile(PROJECT, SECRET))
    assert _same_as_reference(files, tmp_path, engine) == []
    assert None not in direct_outcomes and len(tails) == len(files)


@pytest.mark.parametrize("head", [100, 1000, 2000, 3000])
def test_a_head_that_ends_anywhere_before_the_pixel_data_reads_the_whole_file(
    tmp_path, direct_outcomes, tails, monkeypatch, head
):
    files = write_study(tmp_path / "in", patient_id="P", patient_name="N", n_files=1, rows=64)
    monkeypatch.setattr(direct_module, "_HEAD", head)  # inside the meta, elements, sequences
    engine = Deidentifier(ProjectProfile(PROJECT, SECRET))
    assert _same_as_reference(files, tmp_path, engine) == []
    assert direct_outcomes[0] is not None


def _encapsulated_past_the_head(folder: Path, fragments: int) -> Path:
    """A JPEG 2000 file whose pixel data (`fragments` fragments) starts in the head and ends the
    file far past it."""
    (src,) = write_study(folder, patient_id="P", patient_name="N", n_files=1, rows=256)
    ds = pydicom.dcmread(src)
    ds.file_meta.TransferSyntaxUID = JPEG2000Lossless
    pixels = ds.PixelData
    step = len(pixels) // fragments
    ds.PixelData = encapsulate([pixels[i * step : (i + 1) * step] for i in range(fragments)], 1)
    ds.save_as(src, implicit_vr=False)
    assert src.stat().st_size > 2 * direct_module._HEAD
    return src


@pytest.mark.parametrize("fragments", [1, 3])
def test_encapsulated_pixel_data_that_ends_the_file_is_copied_from_the_source_as_it_is(
    tmp_path, direct_outcomes, tails, fragments
):
    src = _encapsulated_past_the_head(tmp_path / "in", fragments)
    engine = Deidentifier(ProjectProfile(PROJECT, SECRET))
    assert _same_as_reference([src, src], tmp_path, engine) == []
    assert None not in direct_outcomes and len(tails) == 2


_DELIMITER = struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data + b"\xfc\xff\xfc\xffOB\0\0" + struct.pack("<I", 4) + b"\0" * 4,
        lambda data: data[:-8],  # no delimiter
        lambda data: data[:-4],  # half a delimiter
        lambda data: data[:-1000] + _DELIMITER,  # the last fragment cut short
        lambda data: data[:-4] + struct.pack("<I", 4),  # a delimiter with a length
        lambda data: data + _DELIMITER,  # a second delimiter
    ],
    ids=["trailing element", "no delimiter", "half a delimiter", "cut", "long delimiter", "two"],
)
def test_encapsulated_pixel_data_that_does_not_end_the_file_cleanly_is_judged_as_before(
    tmp_path, direct_outcomes, tails, monkeypatch, damage
):
    src = _encapsulated_past_the_head(tmp_path / "in", 2)
    data = src.read_bytes()
    assert data.endswith(_DELIMITER)
    src.write_bytes(damage(data))
    engine = Deidentifier(ProjectProfile(PROJECT, SECRET))
    outcome = engine.deidentify_file(src, tmp_path / "head.dcm", "P1", "Pseudo^One")
    assert tails == []  # never trusted as a tail
    monkeypatch.setattr(direct_module, "_WHOLE", 1 << 30)  # as before: the whole file read
    before = Deidentifier(ProjectProfile(PROJECT, SECRET))
    assert before.deidentify_file(src, tmp_path / "whole.dcm", "P1", "Pseudo^One") == outcome
    assert (tmp_path / "head.dcm").exists() == (tmp_path / "whole.dcm").exists()
    if outcome.kind == "written":
        assert (tmp_path / "head.dcm").read_bytes() == (tmp_path / "whole.dcm").read_bytes()


def test_a_file_in_memory_comes_out_as_the_same_file_on_disk(tmp_path, direct_outcomes):
    # A PACS instance reaches the engine as bytes; a BytesIO has `fileno` but refuses it.
    [src] = write_study(tmp_path / "in", patient_id="PID1", patient_name="Doe^Jane", n_files=1)
    engine = Deidentifier(ProjectProfile(PROJECT, SECRET))

    from_memory = engine.deidentify_file(io.BytesIO(src.read_bytes()), tmp_path / "m", "P", "P")
    from_disk = engine.deidentify_file(src, tmp_path / "d", "P", "P")

    assert from_memory.kind == from_disk.kind == "written"
    assert direct_outcomes[0] is not None  # the direct path wrote it, not the Dataset path
    assert (tmp_path / "m").read_bytes() == (tmp_path / "d").read_bytes()
