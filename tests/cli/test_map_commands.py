"""`anon map ...`: the mapping file, which one is used, and adding rows to it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anonapi_core.mapping import load_mapping
from anonapi_server.sample_studies import write_study
from tests.cli.conftest import Anon


def _study(folder: Path, n_files: int = 2, **kw) -> Path:
    write_study(
        folder,
        patient_id=folder.name,
        patient_name=folder.name,
        n_files=n_files,
        rows=16,
        columns=16,
        **kw,
    )
    return folder


@pytest.fixture
def mapped(anon: Anon, workdir: Path) -> Path:
    """A fresh mapping in the working folder, made by `map init`."""
    assert anon("map", "init").exit_code == 0
    return workdir / "anon_mapping.csv"


def test_init_writes_a_mapping_without_example_rows_and_activates_it(
    anon: Anon, workdir: Path, settings_file: Path
) -> None:
    """The original's example rows PatientA/PatientB became two real ERROR jobs."""
    result = anon("map", "init", "--root-source-path", r"\\srv\share\m1", "--project", "P")

    path = workdir / "anon_mapping.csv"
    assert result.exit_code == 0
    assert f"Initialised an empty mapping in {path}" in result.output
    mapping = load_mapping(path)
    assert mapping.options["root_source_path"] == r"\\srv\share\m1"
    assert mapping.options["project"] == "P"
    assert len(mapping) == 0
    assert json.loads(anon("settings", "show", "--json").output)["active_mapping_file"] == str(path)


def test_init_never_overwrites_when_the_answer_is_no(anon: Anon, mapped: Path) -> None:
    mapped.write_text("## Description ##\r\nmine\r\n## Options ##\r\n## Mapping ##\r\nsource\r\n")
    before = mapped.read_text()

    result = anon("map", "init", input="n\n")

    assert result.exit_code == 1
    assert "already exists. Overwrite?" in result.output
    assert mapped.read_text() == before


def test_init_overwrites_with_yes(anon: Anon, mapped: Path) -> None:
    mapped.write_text("junk")

    result = anon("map", "init", "--yes")

    assert result.exit_code == 0
    assert len(load_mapping(mapped)) == 0


def test_commands_use_the_mapping_of_the_current_folder_when_none_is_active(
    anon: Anon, mapped: Path, settings_file: Path
) -> None:
    anon("settings", "show")  # the mapping is active now; forget that, as a fresh install would
    text = settings_file.read_text().replace(str(mapped), "null")
    settings_file.write_text(text)

    result = anon("map", "status")

    assert result.exit_code == 0
    assert f"Using mapping {mapped}" in result.output


def test_status_shows_rows_and_the_problems_to_fix(anon: Anon, mapped: Path) -> None:
    anon("map", "add-accession-numbers", "12345678.1234567")

    result = anon("map", "status")

    assert result.exit_code == 0
    assert "Parameter grid with 1 row (" in result.output
    assert "accession_number:12345678.1234567" in result.output
    assert "3 problems in " in result.output and "(no jobs until fixed)" in result.output
    assert "project" in result.output


def test_init_shows_at_once_that_its_options_are_not_usable_yet(anon: Anon, workdir: Path) -> None:
    """A local root_source_path is no path the server can read: said at init, not at create."""
    result = anon("map", "init")

    problems = [line.strip() for line in result.output.splitlines() if line.startswith("  ")]
    assert result.exit_code == 0
    assert len(problems) == 3
    assert problems[0].startswith("anon_mapping.csv, line 5, option 'root_source_path': ")
    assert "is not a UNC path" in problems[0]
    assert problems[1].startswith("anon_mapping.csv, line 6, option 'project': not set (NOT_SET)")
    assert problems[2].startswith("anon_mapping.csv, line 7, option 'destination_path'")
    assert anon("map", "status").output.count("(no row uses it yet)") == 3


def test_without_any_mapping_the_error_says_how_to_start(anon: Anon) -> None:
    result = anon("map", "status")

    assert result.exit_code == 1
    assert "anon map init" in result.output


def test_an_unreadable_mapping_is_one_line_naming_the_file(anon: Anon, mapped: Path) -> None:
    mapped.write_text("## Description ##\nx\n## Mapping ##\nsource\nfloder:a\n")

    result = anon("map", "status")

    assert result.exit_code == 1
    error = result.output.splitlines()[-1]
    assert error.startswith("Error: ") and "anon_mapping.csv" in error


def test_activate_a_missing_mapping_fails(anon: Anon) -> None:
    result = anon("map", "activate")

    assert result.exit_code == 1
    assert "Could not find mapping file" in result.output


def test_activate_and_delete(anon: Anon, mapped: Path, settings_file: Path) -> None:
    assert anon("map", "activate").exit_code == 0

    result = anon("map", "delete", "--yes")

    assert result.exit_code == 0
    assert not mapped.exists()
    assert json.loads(anon("settings", "show", "--json").output)["active_mapping_file"] is None


def test_add_accession_numbers_from_arguments(anon: Anon, mapped: Path) -> None:
    result = anon("map", "add-accession-numbers", "1234567.12345678", "2234567.1")

    assert result.exit_code == 0
    sources = [row["source"] for row in load_mapping(mapped).rows]
    assert sources[-2:] == ["accession_number:1234567.12345678", "accession_number:2234567.1"]


@pytest.mark.parametrize("name", ["test_comma_sep.csv", "test_colon_sep.csv"])
def test_add_accession_numbers_from_an_input_file_keeps_pseudonyms(
    anon: Anon, mapped: Path, corpus: Path, name: str
) -> None:
    path = corpus / "original-fixtures" / "test_inputfile" / "formats" / name

    result = anon("map", "add-accession-numbers", "-f", str(path))

    assert result.exit_code == 0
    rows = load_mapping(mapped).rows
    assert [(r["source"], r["pseudo_name"]) for r in rows] == [
        ("accession_number:1234567.12345678", "patient1"),
        ("accession_number:2234567.12345679", "patient2"),
    ]


def test_add_accession_numbers_with_a_bad_input_file_names_the_row(
    anon: Anon, mapped: Path, workdir: Path
) -> None:
    bad = workdir / "numbers.csv"
    bad.write_text("accession number,pseudonym\n1234567.1,p1\n,p2\n")

    result = anon("map", "add-accession-numbers", "-f", str(bad))

    assert result.exit_code == 1
    assert "numbers.csv" in result.output and "3" in result.output
    assert len(load_mapping(mapped)) == 0


def test_add_study_folders_with_wildcards_writes_selections_of_dicom_files(
    anon: Anon, mapped: Path, workdir: Path
) -> None:
    _study(workdir / "studyA")
    _study(workdir / "studyB", n_files=3)
    (workdir / "studyB" / "notes.txt").write_text("not dicom")
    _study(workdir / "other")

    result = anon("map", "add-study-folders", "study*")

    assert result.exit_code == 0, result.output
    rows = load_mapping(mapped).rows
    assert [r["source"] for r in rows] == [
        "fileselection:studyA/fileselection.txt",
        "fileselection:studyB/fileselection.txt",
    ]
    assert all(len(r["pseudo_name"]) == 8 for r in rows)
    assert "3 DICOM files of 4 found" in result.output
    selection = (workdir / "studyB" / "fileselection.txt").read_text()
    assert "notes.txt" not in selection


def test_add_study_folders_refuses_a_missing_folder_before_any_work(
    anon: Anon, mapped: Path, workdir: Path
) -> None:
    _study(workdir / "studyA")

    result = anon("map", "add-study-folders", "studyA", "nope")

    assert result.exit_code == 2
    assert "nope" in result.output
    assert not (workdir / "studyA" / "fileselection.txt").exists()
    assert len(load_mapping(mapped)) == 0


def test_add_study_folders_refuses_a_folder_outside_the_mapping_folder(
    anon: Anon, mapped: Path, tmp_path: Path
) -> None:
    outside = _study(tmp_path / "elsewhere")

    result = anon("map", "add-study-folders", str(outside))

    assert result.exit_code == 1
    assert "not inside the mapping's folder" in result.output
    assert not (outside / "fileselection.txt").exists()


def test_add_study_folders_from_an_xlsx_input_file(anon: Anon, mapped: Path, workdir: Path) -> None:
    import openpyxl

    _study(workdir / "s1")
    _study(workdir / "deep" / "s2")
    book = openpyxl.Workbook()
    book.active.append(["Some text above the header"])
    book.active.append(["folder", "pseudonym"])
    book.active.append(["s1", "Alice"])
    book.active.append(["deep\\s2", "Bob"])
    book.save(workdir / "folders.xlsx")

    result = anon("map", "add-study-folders", "-f", "folders.xlsx")

    assert result.exit_code == 0, result.output
    rows = load_mapping(mapped).rows
    assert [(r["source"], r["pseudo_name"]) for r in rows] == [
        ("fileselection:s1/fileselection.txt", "Alice"),
        ("fileselection:deep/s2/fileselection.txt", "Bob"),
    ]


def test_add_selection_accepts_a_relative_path(anon: Anon, mapped: Path, workdir: Path) -> None:
    (workdir / "sub").mkdir()
    (workdir / "sub" / "fileselection.txt").write_text(
        "description: by hand\nid: 1\nselected_paths:\n- a.dcm\n"
    )

    result = anon("map", "add-selection", "sub/fileselection.txt")

    assert result.exit_code == 0
    row = load_mapping(mapped).rows[-1]
    assert row["source"] == "fileselection:sub/fileselection.txt"
    assert "map object" not in row.get("pseudo_id", "")


def test_add_selection_of_a_missing_file_fails(anon: Anon, mapped: Path) -> None:
    result = anon("map", "add-selection", "nothing/fileselection.txt")

    assert result.exit_code == 1
    assert "No file selection found" in result.output
