"""Which mapping a command acts on: the current folder's, never another folder's without asking,
the same for the dashboard; `map activate` activates what the user named; studies are not added
twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anonapi_core.mapping import load_mapping
from anonapi_core.settings import load_settings
from anonapi_tui.screens.mapping_editor import mapping_for, problems_of
from tests.cli.conftest import Anon

UNC_OPTIONS = (
    "## Description ##\r\n{name}\r\n## Options ##\r\nroot_source_path,\\\\srv\\share\\{name}\r\n"
    "project,P\r\ndestination_path,\\\\srv\\share\\out\r\n## Mapping ##\r\n"
    "source,pseudo_name\r\n{rows}"
)


def _write_mapping(folder: Path, rows: str, name: str = "anon_mapping.csv") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(UNC_OPTIONS.format(name=folder.name, rows=rows))
    return path


@pytest.fixture
def folder_a(anon: Anon, workdir: Path) -> Path:
    """Folder A with a mapping of its own, activated there."""
    path = _write_mapping(workdir / "A", "folder:a1,PA1\r\nfolder:a2,PA2\r\n")
    assert anon("map", "activate", str(path)).exit_code == 0
    return path.parent


def test_the_current_folders_mapping_wins_over_the_active_one_elsewhere(
    anon: Anon, folder_a: Path, workdir: Path, monkeypatch
) -> None:
    folder_b = _write_mapping(workdir / "B", "folder:b1,PB1\r\n").parent
    monkeypatch.chdir(folder_b)

    status = anon("map", "status")
    dry_run = anon("create", "from-mapping", "--dry-run")

    assert status.exit_code == 0
    assert f"Using mapping {folder_b / 'anon_mapping.csv'}" in status.output
    assert "folder:b1" in status.output and "folder:a1" not in status.output
    assert f"Using mapping {folder_b / 'anon_mapping.csv'}" in dry_run.output
    assert "a1" not in dry_run.output


def test_another_folders_mapping_is_refused_under_yes_and_nothing_is_written(
    anon: Anon, folder_a: Path, workdir: Path, monkeypatch
) -> None:
    folder_b = workdir / "B"
    folder_b.mkdir()
    monkeypatch.chdir(folder_b)

    result = anon("create", "from-mapping", "--yes")

    assert result.exit_code == 1
    assert "not using the active mapping" in result.output
    assert str(folder_a / "anon_mapping.csv") in result.output
    assert list(folder_b.iterdir()) == []


def test_another_folders_mapping_is_used_only_when_the_user_says_so(
    anon: Anon, folder_a: Path, workdir: Path, monkeypatch
) -> None:
    folder_b = workdir / "B"
    folder_b.mkdir()
    monkeypatch.chdir(folder_b)

    declined = anon("map", "status", input="n\n")
    accepted = anon("map", "status", input="y\n")

    assert declined.exit_code == 1
    assert "the active mapping is in another folder" in declined.output
    assert "folder:a1" not in declined.output
    assert accepted.exit_code == 0
    assert "folder:a1" in accepted.output


def test_the_dashboard_chooses_by_the_same_rule(
    anon: Anon, folder_a: Path, workdir: Path, settings_file: Path
) -> None:
    settings = load_settings(settings_file)
    folder_b = workdir / "B"
    folder_b.mkdir()
    assert mapping_for(settings, folder_a).rows[0]["source"] == "folder:a1"
    assert mapping_for(settings, folder_b).rows == []  # not A's: a new one for B
    other = _write_mapping(folder_b, "folder:b9,PB9\r\n", name="other.csv")
    settings.active_mapping_file = other
    assert mapping_for(settings, folder_b).path == other


def test_activate_takes_a_mapping_with_problems_and_lists_every_one(
    anon: Anon, folder_a: Path, workdir: Path
) -> None:
    bad = _write_mapping(workdir / "C", "folder:c1,\r\nfloder:c2,PC2\r\nfolder:c3,PC3\r\n")

    result = anon("map", "activate", str(bad))

    assert result.exit_code == 0
    assert f"Activated mapping at {bad}" in result.output
    assert "mapping" in result.output and "floder" in result.output
    assert json.loads(anon("settings", "show", "--json").output)["active_mapping_file"] == str(bad)


def test_cli_and_dashboard_report_the_same_problems(
    anon: Anon, workdir: Path, settings_file: Path
) -> None:
    """Today's dashboard refused a missing pseudonym that the CLI let through."""
    path = _write_mapping(workdir, "folder:x1,\r\nfolder:x2,P2\r\n")
    status = anon("map", "status")
    shown = [line.strip() for line in status.output.splitlines() if line.startswith("  ")]

    expected = [str(p) for p in problems_of(load_mapping(path), load_settings(settings_file))]

    assert shown == expected
    assert shown == [
        "anon_mapping.csv, line 9, column 'pseudo_name': missing pseudonym: set pseudo_name "
        "or pseudo_id"
    ]
    anon("server", "add", "local", "http://127.0.0.1:9")
    anon("server", "activate", "local")
    create = anon("create", "from-mapping", "--yes")
    assert create.exit_code == 1
    assert "missing pseudonym" in create.output
    assert "no jobs were created" in create.output


def test_a_folder_and_its_file_selection_are_one_study(anon: Anon, workdir: Path) -> None:
    path = _write_mapping(workdir, "folder:s1,P1\r\nfileselection:S1/fileselection.txt,P2\r\n")

    status = anon("map", "status")

    assert "the same study as line 9 under another pseudonym" in status.output
    assert load_mapping(path).rows[1]["pseudo_name"] == "P2"


def test_adding_a_study_already_in_the_mapping_is_refused(anon: Anon, workdir: Path) -> None:
    path = _write_mapping(workdir, "accession_number:123.4,P1\r\n")
    (workdir / "s1").mkdir()
    (workdir / "s1" / "fileselection.txt").write_text(
        "description: x\nid: 1\nselected_paths:\n- a.dcm\n"
    )
    before = path.read_bytes()

    again = anon("map", "add-accession-numbers", "123.4")
    assert anon("map", "add-study-folders", "--no-check-dicom", "s1").exit_code == 0
    selection = anon("map", "add-selection", "s1/fileselection.txt")
    folder = anon("map", "add-study-folders", "--no-check-dicom", "s1")

    assert again.exit_code == 1
    assert "already in the mapping at line 9" in again.output
    assert (selection.exit_code, folder.exit_code) == (1, 1)
    assert "already in the mapping at line" in selection.output
    sources = [row["source"] for row in load_mapping(path).rows]
    assert sources == ["accession_number:123.4", "fileselection:s1/fileselection.txt"]
    assert before != path.read_bytes()


def test_add_study_folders_of_a_pattern_matching_nothing_says_so(anon: Anon, workdir: Path) -> None:
    path = _write_mapping(workdir, "")
    before = path.read_bytes()

    result = anon("map", "add-study-folders", "nomatch*")

    assert result.exit_code == 1
    assert "No folder" in result.output and "matches nomatch*" in result.output
    assert path.read_bytes() == before
