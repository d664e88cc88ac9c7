"""Mapping files: every fixture of the original loads or is refused as the compat README says,
Excel's quirks are tolerated, and what we write the original 2.1.2 reads back (and vice versa)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anonapi_core.exceptions import MapperError, MappingLoadError, ParameterParsingError
from anonapi_core.mapping import (
    Mapping,
    add_rows,
    format_mapping,
    generate_pseudonym,
    load_mapping,
    new_job_row,
    new_mapping,
    parse_mapping,
    save_mapping,
)
from anonapi_core.parameters import SourceIdentifier
from tests.core.conftest import run_original

FIXTURES = "original-fixtures"


@pytest.fixture(scope="module")
def fixtures(corpus: Path) -> Path:
    return corpus / FIXTURES


@pytest.mark.parametrize(
    ("name", "rows", "options", "delimiter"),
    [
        ("test_mapper/with_mapping_wide_settings.csv", 20, 2, ","),
        ("test_mapper/mapping_single_column.csv", 2, 3, ","),
        ("test_mapper/anon_mapping_os_error.csv", 1, 3, ","),
        ("test_mapper/mapping_with_missing_section.csv", 20, 2, ","),
        ("test_cli/anon_mapping.csv", 20, 3, ","),
        ("test_cli/anon_mapping_diverse.csv", 4, 2, ","),
        ("test_cli_create/trailing_space_in_mapping.csv", 3, 2, ","),
        # grid-only files: the `## Mapping ##` table alone
        ("test_mapper/example_job_grid.csv", 20, 0, ","),
        ("test_mapper/example_job_grid_colon.csv", 4, 0, ";"),
        ("test_mapper/example_pims_only_job_grid.csv", 1, 0, ","),
        ("test_mapper/job_grid_patient_id_only.csv", 20, 0, ","),
        ("test_mapper/mapping_list_folder/with_mapping/anon_mapping.csv", 20, 0, ","),
    ],
)
def test_the_originals_good_mappings_load_with_their_row_and_option_counts(
    fixtures, name, rows, options, delimiter
):
    mapping = load_mapping(fixtures / name)
    assert (len(mapping.rows), len(mapping.options), mapping.delimiter) == (
        rows,
        options,
        delimiter,
    )
    assert all(row["source"] for row in mapping.rows)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "example_job_grid_unknown_source_key.csv",
            "example_job_grid_unknown_source_key.csv, line 5, column 'source': unknown source "
            "type 'floldertypo'. Known: folder, fileselection, study_instance_uid, "
            "accession_number",
        ),
        (
            "example_corrupt_job_grid.csv",
            "example_corrupt_job_grid.csv, line 5, column 'source': 'OOPS' is not a source",
        ),
        (
            "example_job_grid_no_header.csv",
            "example_job_grid_no_header.csv, line 1, column 'folder:/folder/file0': unknown "
            "column (is the header row missing?)",
        ),
        (
            "example_job_grid_random_content.csv",
            "example_job_grid_random_content.csv, line 1, column 'o': unknown column",
        ),
        (
            "mapping_missing_column_header.csv",
            "mapping_missing_column_header.csv, line 11: 4 values but only 3 column headers "
            "(source, pseudo_id, pseudo_name); is a column header missing? (and 2 more problems)",
        ),
    ],
)
def test_the_originals_bad_mappings_are_refused_naming_file_and_line(fixtures, name, message):
    with pytest.raises(MappingLoadError) as error:
        load_mapping(fixtures / "test_mapper" / name)
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)


def test_legacy_column_names_are_read_as_the_current_names(fixtures):
    mapping = load_mapping(fixtures / "test_cli" / "anon_mapping.csv")
    assert mapping.rows[3] == {
        "source": "folder:folder/file3",
        "pseudo_id": "patient3",
        "pseudo_name": "patientName3",
        "description": "test description",
    }
    assert mapping.options == {
        "destination_path": r"\\someserver\share\folder1",
        "pims_key": "555",
        "root_source_path": r"\\otherserver\default_source_path",
    }
    assert mapping.description == "some comment by some person\nanother comment"


def test_rows_know_their_file_line_for_messages(fixtures):
    mapping = load_mapping(fixtures / "test_cli" / "anon_mapping.csv")
    assert (mapping.line_of(0), mapping.line_of(19)) == (12, 31)


def test_a_trailing_space_after_a_source_is_dropped_and_a_short_row_is_fine(fixtures):
    mapping = load_mapping(fixtures / "test_cli_create" / "trailing_space_in_mapping.csv")
    assert mapping.rows[2] == {
        "source": "accession_number:1234567.1234578dwe",
        "pseudo_id": "test description",
        "pseudo_name": "",
        "description": "",
    }


def test_a_semicolon_grid_holds_all_four_source_types(fixtures):
    mapping = load_mapping(fixtures / "test_mapper" / "example_job_grid_colon.csv")
    types = [SourceIdentifier.parse(row["source"]).type.value for row in mapping.rows]
    assert types == ["folder", "study_instance_uid", "accession_number", "fileselection"]
    assert mapping.rows[1]["description"].endswith(
        "retrieved from PACS, identified by StudyInstanceUID"
    )


GRID = (
    "source,patient_id,patient_name,description\nfolder:/folder/file0,patient0,patientName0,test\n"
)
OPTIONS = "destination_path,\\\\someserver\\share\\folder1\npims_key,555\n"


@pytest.mark.parametrize(
    "text",
    [
        f"\n## Description ##\nsome comment\n## Options ##\n{OPTIONS}## Mapping ##\n{GRID}",
        f"\n## description ##\nsome comment\n## options ##\n{OPTIONS}## mapping ##\n{GRID}",
        f"## DESCRIPTION ##,,,\nsome comment,,,\n,,,,\n## OPTIONS ##,,,\n ,,,\n"
        f"destination_path,\\\\someserver\\share\\folder1,,\npims_key,555,,\n"
        f"## MAPPING ##,,,\n{GRID}",
        "## Description ##;;;\nsome comment;;;\n## Options ##;;;\n"
        "destination_path;\\\\someserver\\share\\folder1;;\npims_key;555;;\n## Mapping ##;;;\n"
        "source;patient_id;patient_name;description\nfolder:/folder/file0;patient0;patientName0;test\n",
        f"text above the first section is ignored\n## Description ##\nsome comment\n"
        f"## Options ##\n{OPTIONS}\n\n## Mapping ##\n\n{GRID}\n,,,\n",
    ],
    ids=["upper", "lower", "excel-padding-and-space-line", "semicolons", "blank-lines"],
)
def test_sections_in_any_case_with_either_delimiter_and_excel_padding_load(text):
    mapping = parse_mapping(text)
    assert mapping.description == "some comment"
    assert mapping.options == {"destination_path": r"\\someserver\share\folder1", "pims_key": "555"}
    assert mapping.rows == [
        {
            "source": "folder:/folder/file0",
            "pseudo_id": "patient0",
            "pseudo_name": "patientName0",
            "description": "test",
        }
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            f"## Options ##\n{OPTIONS}## Mapping ##\n{GRID}",
            "mapping, line 1: found '## Options ##' where '## Description ##' was expected",
        ),
        (
            f"\n## Desc ##\nsome comment\n## options ##\n{OPTIONS}## Mapping ##\n{GRID}",
            "mapping, line 4: found '## Options ##' where '## Description ##' was expected",
        ),
        (
            f"## Description ##\nsome comment\n## options ##\n{OPTIONS}{GRID}",
            "mapping, line 7: no '## Mapping ##' section found",
        ),
        (
            "## Description ##\n## Options ##\nprojekt,P\n## Mapping ##\n",
            "mapping, line 3: unknown option",
        ),
        (
            "source,source\nfolder:a,folder:b\n",
            "mapping, line 1, column 'source': a second 'source'",
        ),
        (
            "source,patient_name\nfolder:a,p,,x\n",
            "mapping, line 2: 4 values but only 2 column headers",
        ),
        (
            "source,,description\nfolder:a,p,d\n",
            "mapping, line 2: column 2 has a value but no header",
        ),
        (" ,,\n\n", "mapping: the file is empty"),
    ],
)
def test_malformed_mappings_are_refused_with_the_line(text, message):
    with pytest.raises(MappingLoadError, match="^" + message.replace("(", r"\(")):
        parse_mapping(text)


def test_every_bad_row_is_counted_in_the_one_line_message():
    text = "source\nfolder:a\nfloder:b\nfolder:c\nOOPS\n"
    with pytest.raises(MappingLoadError) as error:
        parse_mapping(text)
    assert str(error.value) == (
        "mapping, line 3, column 'source': unknown source type 'floder'. Known: folder, "
        "fileselection, study_instance_uid, accession_number (and 1 more problems)"
    )


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        # A `;` in the description does not make a `,` file a `;` file (original bug §8.3 #7).
        (
            "## Description ##\nproject A; phase 2\n## Options ##\n## Mapping ##\nsource,project\n",
            ",",
        ),
        ("## Description ##\nA, B and C\n## Options ##\n## Mapping ##\nsource;pims_key\n", ";"),
        # One-column grid: the options say which delimiter the file uses.
        ("## Description ##\n## Options ##\nproject;P\n## Mapping ##\nsource\nfolder:a\n", ";"),
        # ... or else Excel's padding of the section headers.
        ("## Description ##;;\n## Options ##;;\n## Mapping ##;;\nsource\nfolder:a\n", ";"),
        ("source\nfolder:a\n", ","),
    ],
)
def test_the_delimiter_comes_from_the_grid_header_then_options_then_padding(text, delimiter):
    assert parse_mapping(text).delimiter == delimiter


def test_a_quoted_cell_with_a_line_break_keeps_later_line_numbers_right():
    text = 'source,description\nfolder:a,"two\nlines"\nOOPS,x\n'
    with pytest.raises(MappingLoadError, match="^mapping, line 4, column 'source'"):
        parse_mapping(text)


def test_column_names_are_matched_without_case_or_byte_order_marks():
    mapping = parse_mapping("\ufeffSOURCE,\ufeffPatient_Name\nfolder:a,p\n")
    assert mapping.rows == [{"source": "folder:a", "pseudo_name": "p"}]


def test_a_byte_order_mark_and_cp1252_text_load(tmp_path):
    utf8 = tmp_path / "utf8.csv"
    utf8.write_bytes("\ufeffsource,pseudo_name\nfolder:a,Jos\u00e9\n".encode())
    cp1252 = tmp_path / "cp1252.csv"
    cp1252.write_bytes("source,pseudo_name\nfolder:a,Jos\u00e9\n".encode("cp1252"))
    assert load_mapping(utf8).rows[0]["pseudo_name"] == "Jos\u00e9"
    loaded = load_mapping(cp1252)
    assert (loaded.rows[0]["pseudo_name"], loaded.encoding) == ("Jos\u00e9", "cp1252")


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(MappingLoadError, match="^No mapping file at '.*nothing.csv'$"):
        load_mapping(tmp_path / "nothing.csv")


def test_a_file_locked_by_an_editor_says_to_close_the_editor(tmp_path, monkeypatch):
    path = tmp_path / "anon_mapping.csv"
    path.write_text("source\n")

    def locked(self):
        raise PermissionError(13, "The process cannot access the file")

    monkeypatch.setattr(Path, "read_bytes", locked)
    with pytest.raises(MappingLoadError, match="Is it open in an editor such as Excel"):
        load_mapping(path)


def test_an_option_quoted_by_excel_loses_its_quotes_and_an_empty_one_is_kept_empty():
    text = (
        '## Description ##\n## Options ##\ndescription,"a, b"\npims_key,\n## Mapping ##\nsource\n'
    )
    assert parse_mapping(text).options == {"description": "a, b", "pims_key": ""}


# -- writing ---------------------------------------------------------------------------------


def test_a_saved_mapping_loads_back_equal_and_keeps_a_multi_line_description(fixtures, tmp_path):
    mapping = load_mapping(fixtures / "test_cli" / "anon_mapping.csv")
    mapping.description += "\nproject A; phase 2"
    saved = save_mapping(mapping, tmp_path / "anon_mapping.csv")
    again = load_mapping(saved)
    assert (again.description, again.options, again.rows, again.delimiter) == (
        "some comment by some person\nanother comment\nproject A; phase 2",
        mapping.options,
        mapping.rows,
        ",",
    )


def test_the_written_file_has_crlf_line_ends_and_the_originals_column_order(tmp_path):
    mapping = Mapping(
        description="first\nsecond",
        options={"project": "P", "pims_key": ""},
        rows=[{"project": "Q", "description": "a, b", "source": "folder:a", "pseudo_id": "1"}],
        delimiter=";",
    )
    save_mapping(mapping, tmp_path / "m.csv")
    assert (tmp_path / "m.csv").read_bytes().decode("utf-8-sig").split("\r\n") == [
        "## Description ##",
        "first",
        "second",
        "",
        "## Options ##",
        "project;P",
        "",
        "## Mapping ##",
        "source;pseudo_id;description;project",
        "folder:a;1;a, b;Q",
        "",
    ]


def test_a_semicolon_file_stays_semicolon_and_a_cell_with_the_delimiter_is_quoted(tmp_path):
    mapping = parse_mapping("source;description\nfolder:a;x\n")
    mapping.rows[0]["description"] = "one; two"
    text = format_mapping(mapping)
    assert text.endswith('source;description\r\nfolder:a;"one; two"\r\n')
    assert parse_mapping(text).rows == mapping.rows


def test_saving_is_atomic_and_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "anon_mapping.csv"
    target.write_text("old")
    save_mapping(parse_mapping("source\nfolder:a\n"), target)
    assert [p.name for p in tmp_path.iterdir()] == ["anon_mapping.csv"]
    assert load_mapping(target).rows == [{"source": "folder:a"}]


def test_saving_into_a_missing_folder_is_a_mapper_error(tmp_path):
    with pytest.raises(MapperError):
        save_mapping(parse_mapping("source\nfolder:a\n"), tmp_path / "no" / "anon_mapping.csv")


def test_a_cp1252_mapping_stays_cp1252_unless_it_gains_a_character_cp1252_lacks(tmp_path):
    path = tmp_path / "m.csv"
    path.write_bytes("source,pseudo_name\nfolder:a,Jos\u00e9\n".encode("cp1252"))
    mapping = load_mapping(path)
    save_mapping(mapping)
    assert "Jos\u00e9".encode("cp1252") in path.read_bytes()
    mapping.rows[0]["pseudo_name"] = "\u0141ukasz"
    save_mapping(mapping)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert load_mapping(path).rows[0]["pseudo_name"] == "\u0141ukasz"


# -- new mappings and added rows -----------------------------------------------------------


def test_a_new_mapping_holds_the_settings_defaults_and_no_example_rows(tmp_path):
    """The original's example rows became real ERROR jobs when nobody deleted them."""
    mapping = new_mapping(tmp_path, [("project", "Wetenschap"), ("pims_key", "1")], delimiter=",")
    assert mapping.options == {
        "root_source_path": str(tmp_path),
        "project": "Wetenschap",
        "destination_path": "NOT_SET",
    }
    assert mapping.rows == []
    assert mapping.description.startswith("Mapping created ")
    assert mapping.path == tmp_path / "anon_mapping.csv"
    assert load_mapping(save_mapping(mapping)).rows == mapping.rows


@pytest.mark.parametrize(("decimal_point", "delimiter"), [(",", ";"), (".", ",")])
def test_a_new_mapping_uses_semicolons_where_the_decimal_point_is_a_comma(
    tmp_path, monkeypatch, decimal_point, delimiter
):
    monkeypatch.setattr("locale.localeconv", lambda: {"decimal_point": decimal_point})
    assert new_mapping(tmp_path, []).delimiter == delimiter


def test_added_rows_take_legacy_names_and_are_checked():
    mapping = parse_mapping("source,pseudo_name\nfolder:a,p\n")
    add_rows(mapping, [{"source": "accession_number:12 ", "patient_id": "7"}])
    assert mapping.rows[1] == {"source": "accession_number:12", "pseudo_id": "7"}
    assert (mapping.line_of(0), mapping.line_of(1)) == (2, None)
    assert mapping.columns == ["source", "pseudo_id", "pseudo_name"]
    with pytest.raises(ParameterParsingError, match="unknown source type 'floder'"):
        add_rows(mapping, [{"source": "floder:x"}])
    with pytest.raises(ParameterParsingError, match="unknown parameter 'src'"):
        add_rows(mapping, [{"src": "folder:x"}])


def test_generated_rows_get_a_random_pseudonym_not_an_object_repr():
    source = SourceIdentifier.parse("fileselection:a/fileselection.txt")
    first, second = new_job_row(source), new_job_row(source)
    assert first["source"] == "fileselection:a/fileselection.txt"
    assert first["pseudo_name"] != second["pseudo_name"]
    assert first["pseudo_name"].isalnum() and len(first["pseudo_name"]) == 8
    assert "pseudo_id" not in first
    assert first["description"].startswith("generated_")
    assert new_job_row(source, pseudo_name="p1", pseudo_id="i1")["pseudo_id"] == "i1"
    assert len({generate_pseudonym() for _ in range(100)}) == 100


# -- compatibility with the original anonapi 2.1.2 -----------------------------------------

_ORIGINAL_LOAD = """
import json, sys
from pathlib import Path
from anonapi.mapper import MappingFile
m = MappingFile(Path(sys.argv[1])).load_mapping()
print(json.dumps({
    "description": m.description,
    "options": {p.field_name: str(p.value) for p in m.options},
    "rows": [{p.field_name: str(p.value) for p in row} for row in m.grid.rows],
}))
"""

_ORIGINAL_RESAVE = """
import sys
from pathlib import Path
from anonapi.mapper import MappingFile
MappingFile(Path(sys.argv[2])).save_mapping(MappingFile(Path(sys.argv[1])).load_mapping())
"""


def test_the_original_reads_what_we_write(tmp_path):
    mapping = new_mapping(Path("//server/share/study"), [("project", "P")], delimiter=";")
    mapping.description += "\nsecond line; with a semicolon"
    row = {"source": "folder:a/b", "pseudo_id": "ID1", "pseudo_name": "N1", "description": "x, y"}
    add_rows(mapping, [row])
    path = save_mapping(mapping, tmp_path / "anon_mapping.csv")
    read = json.loads(run_original(_ORIGINAL_LOAD, path))
    assert read["description"] == mapping.description.replace("\n", "")
    assert read["options"] == {
        "root_source_path": r"\\server\share\study",
        "project": "P",
        "destination_path": "NOT_SET",
    }
    assert read["rows"] == [row]


@pytest.mark.parametrize("name", ["test_cli/anon_mapping.csv", "test_cli/anon_mapping_diverse.csv"])
def test_we_read_what_the_original_writes(fixtures, tmp_path, name):
    written = tmp_path / "anon_mapping.csv"
    run_original(_ORIGINAL_RESAVE, fixtures / name, written)
    ours = load_mapping(written)
    source = load_mapping(fixtures / name)
    assert ours.rows == source.rows
    assert ours.description == source.description.replace("\n", "")
    assert {key: value.rstrip("\\") for key, value in ours.options.items()} == source.options


def test_a_folder_or_an_oversized_cell_is_a_load_error_not_a_traceback(tmp_path):
    with pytest.raises(MappingLoadError, match="is a folder, not a mapping file"):
        load_mapping(tmp_path)
    with pytest.raises(MappingLoadError, match="^mapping, line 2: field larger than field limit"):
        parse_mapping(f'source,description\nfolder:a,"{"x" * 200_000}"\n')
