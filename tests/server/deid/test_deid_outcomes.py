"""Every file ends written, quarantined or skipped with a cause; nothing damaged is published."""

import shutil
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file

from anonapi_server.deid import Cause, Deidentifier, FileOutcome, ProjectProfile, summary
from anonapi_server.deid import engine as engine_module
from anonapi_server.deid.engine import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME
from anonapi_server.sample_studies import write_study
from tests.server.deid.conftest import PROJECT, SECRET


def _pydicom_file(name: str, tmp_path: Path) -> Path:
    """A copy of one of pydicom's bundled test files (never downloaded)."""
    src = get_testdata_file(name, download=False)
    assert src, name
    return Path(shutil.copyfile(src, tmp_path / name))


@pytest.mark.parametrize("name", ["empty_charset_LEI.dcm", "nested_priv_SQ.dcm"])
def test_a_file_without_sop_uids_is_skipped_not_raised(engine, tmp_path, name):
    src = _pydicom_file(name, tmp_path)
    outcome = engine.deidentify_file(src, tmp_path / "out.dcm", "P1", "P")
    assert outcome.kind == "skipped" and outcome.cause is Cause.NOT_AN_INSTANCE
    assert not (tmp_path / "out.dcm").exists()


def test_a_jpeg2000_file_cut_inside_its_pixel_data_is_skipped_as_damaged(engine, tmp_path):
    # pydicom reads this as an empty data set, with only a warning.
    whole = _pydicom_file("JPEG2000.dcm", tmp_path).read_bytes()
    src = tmp_path / "cut.dcm"
    src.write_bytes(whole[:3100])
    assert len(pydicom.dcmread(src)) == 0
    outcome = engine.deidentify_file(src, tmp_path / "out.dcm", "P1", "P")
    assert outcome.kind == "skipped" and outcome.cause is Cause.DAMAGED
    assert not (tmp_path / "out.dcm").exists()


@pytest.mark.parametrize("where", ["after the file meta", "between elements"])
def test_a_file_cut_where_nothing_looks_truncated_is_skipped_as_damaged(engine, tmp_path, where):
    (src,) = write_study(tmp_path / "in", patient_id="P", patient_name="N", n_files=1, rows=8)
    data = src.read_bytes()
    ds = pydicom.dcmread(src)
    meta_end = 132 + 12 + ds.file_meta[0x00020000].value
    pixel_start = data.rindex(b"\xe0\x7f\x10\x00")
    src.write_bytes(data[: meta_end if where == "after the file meta" else pixel_start])
    outcome = engine.deidentify_file(src, tmp_path / "out.dcm", "P1", "P")
    assert outcome.cause is Cause.DAMAGED, outcome
    assert not (tmp_path / "out.dcm").exists()


def test_a_file_that_raises_while_being_de_identified_is_skipped_and_the_next_goes_on(
    tmp_path, monkeypatch
):
    engine = Deidentifier(ProjectProfile(PROJECT, SECRET))  # nothing made for other tests yet
    first, second = write_study(tmp_path / "in", patient_id="P", patient_name="N", n_files=2)

    def broken(*args):
        raise ValueError("a defect")

    monkeypatch.setattr(engine_module, "shift_encoded", broken)  # on every path
    outcome = engine.deidentify_file(first, tmp_path / "1.dcm", "P1", "P")
    assert outcome == FileOutcome.skipped(Cause.FAILED, "could not be de-identified (ValueError)")
    monkeypatch.undo()
    assert engine.deidentify_file(second, tmp_path / "2.dcm", "P1", "P").kind == "written"


def test_output_names_the_project_as_its_implementation(engine, tmp_path):
    (src,) = write_study(tmp_path / "in", patient_id="P", patient_name="N", n_files=1, rows=8)
    engine.deidentify_file(src, tmp_path / "out.dcm", "P1", "P")
    meta = pydicom.dcmread(tmp_path / "out.dcm").file_meta
    assert meta.ImplementationClassUID == IMPLEMENTATION_CLASS_UID
    assert IMPLEMENTATION_CLASS_UID.startswith("2.25.") and meta.ImplementationClassUID.is_valid
    assert meta.ImplementationVersionName == IMPLEMENTATION_VERSION_NAME
    assert not meta.ImplementationClassUID.startswith(pydicom.uid.PYDICOM_ROOT_UID)


def test_quarantine_marked_only_holds_only_files_that_say_yes(tmp_path):
    engine = Deidentifier(
        ProjectProfile(PROJECT, SECRET, options=frozenset({"quarantine_marked_only"}))
    )
    (us,) = write_study(
        tmp_path / "us", patient_id="P", patient_name="N", n_files=1, rows=8, modality="US"
    )
    ds = pydicom.dcmread(us)
    del ds.BurnedInAnnotation
    ds.save_as(us)
    assert engine.deidentify_file(us, tmp_path / "us.dcm", "P1", "P").kind == "written"
    codes = pydicom.dcmread(tmp_path / "us.dcm").DeidentificationMethodCodeSequence
    assert [c.CodeValue for c in codes] == ["113100", "113107"]  # not a PS3.15 option
    (yes,) = write_study(
        tmp_path / "yes", patient_id="P", patient_name="N", n_files=1, rows=8, burned_in=True
    )
    assert engine.deidentify_file(yes, tmp_path / "yes.dcm", "P1", "P").cause is Cause.BURNED_IN


def test_a_released_file_is_written_despite_the_burned_in_rule(engine, tmp_path):
    (src,) = write_study(
        tmp_path / "in", patient_id="P", patient_name="N", n_files=1, rows=8, burned_in=True
    )
    assert engine.deidentify_file(src, tmp_path / "held.dcm", "P1", "P").kind == "quarantined"
    outcome = engine.deidentify_file(src, tmp_path / "out.dcm", "P1", "P", release=True)
    assert outcome.kind == "written" and (tmp_path / "out.dcm").exists()


def test_the_job_summary_groups_reasons_and_names_no_files():
    outcomes = [
        FileOutcome("written"),
        FileOutcome.quarantined(Cause.BURNED_IN, "burned-in annotation: modality US"),
        FileOutcome.quarantined(Cause.BURNED_IN, "burned-in annotation: modality US"),
        FileOutcome.skipped(Cause.DAMAGED, "damaged DICOM file: no data set after the file meta"),
    ]
    assert summary(outcomes) == (
        "2 file(s) quarantined (burned-in annotation: modality US: 2); "
        "1 file(s) skipped (damaged DICOM file: no data set after the file meta: 1)"
    )
    assert summary([FileOutcome("written")]) is None
