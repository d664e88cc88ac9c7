"""Folder summaries for the picker: counts, one header's study, whether the mapping holds it."""

from __future__ import annotations

from pathlib import Path

import pytest

from anonapi_core import folder_summary as fs
from anonapi_core.actions.folders import folder_summary
from anonapi_core.actions.mapping import add_study_folders
from anonapi_core.mapping import Mapping, load_mapping, save_mapping
from anonapi_core.selection import SELECTION_FILE_NAME
from anonapi_server.sample_studies import write_study


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A study with a series subfolder and a note, an empty folder, a folder of text only."""
    work = tmp_path / "work"
    study = work / "study"
    for folder, n_files in ((study, 2), (study / "series2", 1)):
        write_study(
            folder,
            patient_id="P1",
            patient_name="A^B",
            n_files=n_files,
            rows=8,
            columns=8,
            modality="MR",
            study_date="20231130",
        )
    (study / "notes.txt").write_text("not DICOM")
    (work / "empty").mkdir()
    (work / "text").mkdir()
    (work / "text" / "a.txt").write_text("DICM but not at 128")
    return work


def test_a_study_folder_is_counted_with_its_subfolders_and_one_header_read(work: Path) -> None:
    summary = fs.summarize_folder(work / "study")
    assert summary == fs.FolderSummary(
        files=4,
        dicom_files=3,
        modality="MR",
        study_date="20231130",
        study_description="MR THORAX for A^B",
    )
    assert summary.counts() == "4 files, 3 DICOM"
    assert summary.study() == "MR 2023-11-30 MR THORAX for A^B"
    assert summary.mapping_state() == "not in the mapping"


def test_empty_and_non_dicom_folders_have_counts_and_no_study(work: Path) -> None:
    empty = fs.summarize_folder(work / "empty")
    assert empty == fs.FolderSummary(0, 0)
    assert empty.study() is None
    text = fs.summarize_folder(work / "text")
    assert (text.files, text.dicom_files, text.study()) == (1, 0, None)


def test_a_file_the_check_accepts_but_pydicom_cannot_read_gives_no_study(work: Path) -> None:
    broken = work / "broken"
    broken.mkdir()
    (broken / "x.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"\xff" * 40)
    summary = fs.summarize_folder(broken)
    assert (summary.dicom_files, summary.study()) == (1, None)


def test_counting_stops_at_the_bound(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fs, "MAX_FILES", 2)
    summary = fs.summarize_folder(work / "study")
    assert (summary.files, summary.capped) == (2, True)
    assert summary.counts() == "2+ files, 2+ DICOM"


def test_a_stopped_summary_is_none(work: Path) -> None:
    assert fs.summarize_folder(work / "study", stop=lambda: True) is None


def test_a_large_folder_is_stopped_between_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One listing of many files is not counted to its end once the user moved on."""
    for n in range(200):
        (tmp_path / f"{n}.txt").write_text("x")
    checked: list[object] = []
    monkeypatch.setattr(fs, "is_dicom", lambda path: checked.append(path) or False)
    asked = iter([False, False])  # the listing and the first files pass; then stopped
    assert fs.summarize_folder(tmp_path, stop=lambda: next(asked, True)) is None
    assert len(checked) == 127  # stopped at the 128th, before its check


def test_the_mapping_holds_a_folder_as_a_folder_row_or_as_its_file_selection(work: Path) -> None:
    mapping_file = work / "anon_mapping.csv"
    mapping = Mapping(path=mapping_file, options={"root_source_path": str(work)})
    mapping.rows = [{"source": "folder:text", "pseudo_name": "x", "pseudo_id": "1"}]
    save_mapping(mapping, mapping_file)
    add_study_folders(mapping_file, [work / "study"])
    assert (work / "study" / SELECTION_FILE_NAME).exists()
    mapping = load_mapping(mapping_file)
    assert folder_summary(mapping, work / "study").in_mapping == "selection"
    assert folder_summary(mapping, work / "text").in_mapping == "folder"
    assert folder_summary(mapping, work / "empty").in_mapping is None
    # the selection written in the study folder is not one of its files
    assert folder_summary(mapping, work / "study").files == 4


def test_summaries_name_no_patient_id(work: Path) -> None:
    summary = fs.summarize_folder(work / "study")
    assert "P1" not in f"{summary.counts()} {summary.study()} {summary.mapping_state()}"
