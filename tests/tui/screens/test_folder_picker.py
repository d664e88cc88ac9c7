"""The folder picker: mark folders, scan them in a worker, selections and mapping rows written."""

from __future__ import annotations

from pathlib import Path

import pytest

from anonapi_core.mapping import Mapping, load_mapping, save_mapping
from anonapi_core.selection import load_selection
from anonapi_core.settings import Settings
from anonapi_server.sample_studies import write_study
from anonapi_tui.main import build_app
from tests.tui.conftest import running, settle


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A study folder of two DICOM files and a folder of notes, nothing else."""
    folder = tmp_path / "work"
    write_study(
        folder / "a_study", patient_id="P1", patient_name="A^B", n_files=2, rows=16, columns=16
    )
    (folder / "b_notes").mkdir()
    (folder / "b_notes" / "readme.txt").write_text("not DICOM")
    return folder


async def test_marked_study_folders_get_selections_and_mapping_rows(
    folder: Path, private_settings: Path
) -> None:
    app = build_app(Settings(path=private_settings), folder, start="folders")
    async with running(app) as pilot:
        await pilot.press("down", "m", "down", "m")
        assert [p.name for p in app.screen.marked] == ["a_study", "b_notes"]
        await pilot.press("ctrl+s")
        await settle(pilot, rounds=5)
        state = str(app.screen.query_one("#scan-state").render())
        assert "Added 2 folders (2 DICOM files)" in state
        assert "no DICOM found in: b_notes" in state
        assert app.screen.marked == []
    assert len(load_selection(folder / "a_study" / "fileselection.txt").selected_paths) == 2
    sources = [row["source"] for row in load_mapping(folder / "anon_mapping.csv").rows]
    assert sources[0] == "fileselection:a_study/fileselection.txt"


async def test_the_mapping_editor_shows_rows_the_picker_added(
    folder: Path, private_settings: Path
) -> None:
    app = build_app(Settings(path=private_settings), folder, start="mapping")
    async with running(app) as pilot:
        assert app.screen.mapping.rows == []
        await pilot.press("f6")
        await settle(pilot)
        await pilot.press("down", "m", "ctrl+s")
        await settle(pilot, rounds=5)
        state = str(app.screen.query_one("#scan-state").render())
        assert state.startswith("Added 1 folder (2 DICOM files) to ")
        await pilot.press("f5")
        await settle(pilot)
        assert [row["source"] for row in app.screen.mapping.rows] == [
            "fileselection:a_study/fileselection.txt"
        ]


def summary_shown(app) -> str:
    return str(app.screen.query_one("#folder-summary").render())


async def test_the_folder_under_the_cursor_is_summarised_in_a_worker(
    folder: Path, private_settings: Path
) -> None:
    """Counts, one header's study (no patient id) and the mapping state, per folder; a folder
    the picker added shows up as held by its file selection after the scan."""
    (folder / "c_empty").mkdir()
    app = build_app(Settings(path=private_settings), folder, start="folders")
    async with running(app) as pilot:
        await pilot.press("down")
        await settle(pilot, rounds=4)
        shown = summary_shown(app)
        assert shown.splitlines() == [
            "a_study",
            "2 files, 2 DICOM",
            "CT 2024-01-02 CT THORAX for A^B",
            "not in the mapping",
        ]
        assert "P1" not in shown
        assert app.screen.ready  # what `--screenshot` waits for
        await pilot.press("down")
        await settle(pilot, rounds=4)
        assert summary_shown(app).splitlines()[1:3] == ["1 file, 0 DICOM", "no DICOM header read"]
        await pilot.press("down")
        await settle(pilot, rounds=4)
        assert summary_shown(app).splitlines()[:2] == ["c_empty", "0 files, 0 DICOM"]
        await pilot.press("up", "up", "m", "ctrl+s")
        await settle(pilot, rounds=6)
        assert summary_shown(app).splitlines()[-1] == "in the mapping (file selection)"


async def test_a_mapping_that_cannot_be_read_still_leaves_the_counts(
    folder: Path, private_settings: Path
) -> None:
    mapping = Mapping(path=folder / "anon_mapping.csv", options={"root_source_path": str(folder)})
    mapping.rows = [{"source": "not a source", "pseudo_name": "x", "pseudo_id": "1"}]
    save_mapping(mapping, mapping.path)
    app = build_app(Settings(path=private_settings), folder, start="folders")
    async with running(app) as pilot:
        await pilot.press("down")
        await settle(pilot, rounds=4)
        lines = summary_shown(app).splitlines()
        assert lines[1] == "2 files, 2 DICOM"
        assert lines[3].startswith("mapping not read: anon_mapping.csv, line")
