"""Sequences rewritten from their bytes give what decoding them with pydicom gives."""

import random
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

import anonapi_server.deid.direct as direct_module
import anonapi_server.deid.engine as engine_module
from anonapi_server.deid import Deidentifier
from anonapi_server.deid.sequences import rewrite_items
from anonapi_server.deid.steps import StepPlanner
from anonapi_server.sample_studies import write_study


def _reference(uid: str) -> Dataset:
    item = Dataset()
    item.ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    item.ReferencedSOPInstanceUID = uid
    item.add_new(0x00091010, "LO", "private inside an item")
    return item


def _tricky_file(folder: Path, undefined_lengths: bool) -> Path:
    """A file whose sequences nest, hold private tags, dates, removals and empties."""
    (path,) = write_study(
        folder, patient_id="PID", patient_name="Doe^J", n_files=1, rows=4, columns=4
    )
    ds = pydicom.dcmread(path)
    series = Dataset()
    series.SeriesInstanceUID = "1.2.3.4.5.100"
    series.SeriesDate = "20230405"
    series.StudyDescription = "removed (X)"
    series.AccessionNumber = "A123"  # emptied (Z)
    series.ReferencedStudySequence = Sequence([_reference("1.2.3.4.5.101")])  # emptied (X/Z)
    series.ReferencedInstanceSequence = Sequence([_reference(f"1.2.3.4.5.{i}") for i in (7, 8)])
    private = Dataset()
    private.PatientName = "Hidden^InPrivateSequence"
    series.add_new(0x00111010, "SQ", Sequence([private]))
    ds.ReferencedSeriesSequence = Sequence([series, Dataset()])
    content = Dataset()
    content.TextValue = "free text about Doe"
    content.ConceptNameCodeSequence = Sequence([Dataset()])
    content.ConceptNameCodeSequence[0].CodeValue = "121106"
    ds.ContentSequence = Sequence([content])
    if undefined_lengths:  # inside the top-level sequences, which pydicom reads undecoded
        for top in ds.ReferencedSeriesSequence, ds.ContentSequence:
            for item in top:
                item.is_undefined_length_sequence_item = True
                for elem in item.iterall():
                    if elem.VR == "SQ":
                        elem.is_undefined_length = True
                        for nested in elem.value:
                            nested.is_undefined_length_sequence_item = True
    ds.save_as(path, enforce_file_format=True)
    return path


@pytest.mark.parametrize("undefined_lengths", [False, True])
def test_byte_rewrite_equals_the_pydicom_walk(
    engine: Deidentifier, tmp_path, monkeypatch, undefined_lengths
):
    src = _tricky_file(tmp_path / "in", undefined_lengths)
    fast, slow = tmp_path / "fast", tmp_path / "slow"
    rewritten = []

    def spy(*args, **kwargs):
        rewritten.append(rewrite_items(*args, **kwargs))
        return rewritten[-1]

    for module in (engine_module, direct_module):  # the direct path and the Dataset path
        monkeypatch.setattr(module, "rewrite_items", spy)
    assert engine.deidentify_file(src, fast, "P1", "Pseudo^One").kind == "written"
    assert len(rewritten) >= 2 and None not in rewritten  # the byte walk did the work
    for module in (engine_module, direct_module):
        monkeypatch.setattr(module, "rewrite_items", lambda *args, **kwargs: None)
    assert engine.deidentify_file(src, slow, "P1", "Pseudo^One").kind == "written"
    out = pydicom.dcmread(fast)
    assert out == pydicom.dcmread(slow)
    series = out.ReferencedSeriesSequence[0]
    assert series.SeriesInstanceUID.startswith("2.25.") and series.SeriesDate != "20230405"
    assert "StudyDescription" not in series and series.AccessionNumber == ""
    assert len(series.ReferencedStudySequence) == 0
    assert [i.ReferencedSOPClassUID for i in series.ReferencedInstanceSequence] == [
        "1.2.840.10008.5.1.4.1.1.2"
    ] * 2
    assert not any(elem.tag.is_private for elem in out.iterall())
    assert out.ContentSequence[0].TextValue == "ANONYMIZED"
    assert out.ContentSequence[0].ConceptNameCodeSequence[0].CodeValue == "121106"
    assert b"Hidden" not in fast.read_bytes() and b"1.2.3.4.5.7" not in fast.read_bytes()


def test_bytes_it_cannot_follow_are_left_to_pydicom(engine: Deidentifier):
    planner = StepPlanner(engine.rules)
    truncated_item = b"\xfe\xff\x00\xe0\x10\x00\x00\x00" + b"\x08\x00\x50\x00SH\x04\x00"
    assert rewrite_items(truncated_item, False, planner, lambda *a: b"") is None
    not_an_item = b"\x08\x00\x50\x00SH\x02\x00AB"
    assert rewrite_items(not_an_item, False, planner, lambda *a: b"") is None
    undefined_un = (
        b"\xfe\xff\x00\xe0\xff\xff\xff\xff" + b"\x09\x00\x10\x10UN\x00\x00\xff\xff\xff\xff"
    )
    assert rewrite_items(undefined_un, False, planner, lambda *a: b"") is None


def test_corrupted_sequence_bytes_never_raise(engine: Deidentifier, tmp_path):
    src = _tricky_file(tmp_path / "in", undefined_lengths=True)
    data = pydicom.dcmread(src).get_item(0x00081115).value
    planner = StepPlanner(engine.rules)
    rng = random.Random(0)
    outcomes = set()
    for _ in range(300):
        corrupt = bytearray(data)
        for _ in range(rng.randrange(1, 4)):
            corrupt[rng.randrange(len(corrupt))] = rng.randrange(256)
        result = rewrite_items(bytes(corrupt), False, planner, lambda *a: b"")
        outcomes.add(result is None)
    assert outcomes == {True, False}  # some damage is survivable, some is left to pydicom
