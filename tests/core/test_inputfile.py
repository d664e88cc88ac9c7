"""Input files for `map add-* -f`: the original's fixtures, more header names, Excel numbers as
the user sees them, and errors that keep their reason."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from anonapi_core.exceptions import InputFileError, InputFileParseException
from anonapi_core.inputfile import read_input_file

TWO_PATIENTS = [
    {"accession_number": "1234567.12345678", "pseudo_name": "patient1"},
    {"accession_number": "2234567.12345679", "pseudo_name": "patient2"},
]


@pytest.fixture(scope="module")
def inputs(corpus: Path) -> Path:
    return corpus / "original-fixtures" / "test_inputfile"


@pytest.mark.parametrize(
    "name",
    [
        "formats/test_colon_sep.csv",
        "formats/test_comma_sep.csv",
        "formats/test_comma_sep.txt",
        "formats/test_excel_2007-2013_XML.xlsx",
        "example_deid_form.xlsx",  # header on row 15 under free text
    ],
)
def test_every_format_gives_the_two_accession_numbers_and_pseudonyms(inputs, name):
    assert read_input_file(inputs / name, "accession_number") == TWO_PATIENTS


def test_a_half_filled_row_is_refused_with_its_excel_row_and_the_reason(inputs):
    with pytest.raises(InputFileParseException) as error:
        read_input_file(inputs / "example_deid_form_missing_values.xlsx", "accession_number")
    assert str(error.value) == (
        "example_deid_form_missing_values.xlsx, row 12: 'PseudoID' filled in but "
        "'Accession Number' empty; fill in both or neither"
    )


def test_a_single_column_csv_gives_its_folders(inputs):
    assert read_input_file(inputs / "test_single_line.csv", "folder") == [
        {"folder": "somefolder1/foo"},
        {"folder": "somefolder1/baz"},
        {"folder": "andanother"},
    ]


def test_folder_names_with_pseudonyms_from_excel(inputs):
    assert read_input_file(inputs / "some_folder_names.xlsx", "folder") == [
        {"folder": "Kees/01", "pseudo_name": "study1"},
        {"folder": "Henk/10", "pseudo_name": "study2"},
        {"folder": "Kees/02", "pseudo_name": "study3"},
    ]


def test_numeric_accession_numbers_in_excel_keep_their_digits(corpus):
    path = corpus / "original-fixtures/test_mapper/inputfile/some_accession_numbers.xlsx"
    assert [row["accession_number"] for row in read_input_file(path, "accession_number")] == [
        "DVD123456.12321312",
        "123456.12321314",
        "123456.12321313",
    ]


def test_excel_numbers_read_as_the_text_the_user_sees(tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Accession Number", "Pseudonym"])
    values = [
        (1234567.12345678, "General"),
        (1234567.1, "0.00"),
        (1234567, "00000000"),
        (12345678.0, "General"),
        ("00123", "@"),
    ]
    for number, (value, number_format) in enumerate(values, start=2):
        sheet.append([value, f"p{number}"])
        sheet.cell(row=number, column=1).number_format = number_format
    workbook.save(tmp_path / "numbers.xlsx")
    rows = read_input_file(tmp_path / "numbers.xlsx", "accession_number")
    assert [row["accession_number"] for row in rows] == [
        "1234567.12345678",
        "1234567.10",
        "01234567",
        "12345678",
        "00123",
    ]


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("pseudo_name", "pseudo_name"),
        ("Pseudo ID", "pseudo_name"),
        ("patient name", "pseudo_name"),
        ("Patient ID", "pseudo_id"),
        ("Name", "pseudo_name"),
    ],
)
def test_more_pseudonym_headers_are_recognised(tmp_path, header, column):
    path = tmp_path / "input.csv"
    path.write_text(f"Folder,{header}\nstudy1,p1\n")
    assert read_input_file(path, "folder") == [{"folder": "study1", column: "p1"}]


@pytest.mark.parametrize(
    "header", ["Study Instance UID", "StudyInstanceUID", "SUID", "study_instance_uid"]
)
def test_a_study_instance_uid_column_is_its_own_column_type(tmp_path, header):
    path = tmp_path / "input.csv"
    path.write_text(f"{header};pseudonym\n1.2.840.1;p1\n")
    assert read_input_file(path, ("accession_number", "study_instance_uid")) == [
        {"study_instance_uid": "1.2.840.1", "pseudo_name": "p1"}
    ]


def test_blank_lines_a_bom_and_cp1252_are_fine(tmp_path):
    bom = tmp_path / "bom.csv"
    bom.write_bytes("\ufeffaccession_number,name\n\n1,Jos\u00e9\n\n,\n".encode())
    cp1252 = tmp_path / "cp1252.txt"
    cp1252.write_bytes("accession_number;name\r\n\r\n1;Jos\u00e9\r\n".encode("cp1252"))
    expected = [{"accession_number": "1", "pseudo_name": "Jos\u00e9"}]
    assert read_input_file(bom, "accession_number") == expected
    assert read_input_file(cp1252, "accession_number") == expected


def test_free_text_with_commas_above_a_semicolon_table_does_not_fool_the_delimiter(tmp_path):
    path = tmp_path / "form.csv"
    path.write_text("Please, fill in, the table\nMDN;Accession Number;PseudoID\n9;1;p1\n")
    assert read_input_file(path, "accession_number") == [
        {"accession_number": "1", "pseudo_name": "p1"}
    ]


def test_a_missing_required_column_names_the_header_row(tmp_path):
    path = tmp_path / "input.csv"
    path.write_text("intro\nFolder,Name\na,b\n")
    with pytest.raises(InputFileParseException) as error:
        read_input_file(path, "accession_number")
    assert str(error.value) == (
        "input.csv, row 2: required column 'accession number' not found (found 'Folder', 'Name')"
    )


def test_a_file_without_any_known_header_says_what_was_looked_for(tmp_path):
    path = tmp_path / "input.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(InputFileParseException, match="^input.csv: no column headers found"):
        read_input_file(path, "folder")


def test_an_old_xls_workbook_is_refused_with_what_to_do(tmp_path):
    path = tmp_path / "form.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(InputFileError, match="save it as .xlsx"):
        read_input_file(path, "folder")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("input.json", b"{}", "unknown extension '.json'"),
        ("broken.xlsx", b"not a zip", "Cannot read '.*broken.xlsx' as an Excel workbook"),
        ("missing.csv", None, "Cannot read '.*missing.csv'"),
    ],
)
def test_unreadable_files_are_input_file_errors(tmp_path, name, content, message):
    if content is not None:
        (tmp_path / name).write_bytes(content)
    with pytest.raises(InputFileError, match=message):
        read_input_file(tmp_path / name, "folder")


def test_importing_the_module_does_not_import_openpyxl():
    code = "import sys, anonapi_core.inputfile; print('openpyxl' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


def test_an_oversized_csv_cell_is_a_parse_error_with_its_row(tmp_path):
    path = tmp_path / "input.csv"
    path.write_text(f'folder\n"{"x" * 200_000}"\n')
    with pytest.raises(InputFileParseException, match="^input.csv, row 2: field larger"):
        read_input_file(path, "folder")


def test_excel_unicode_text_is_read_utf16_and_tab_separated(tmp_path):
    path = tmp_path / "export.txt"
    path.write_bytes(
        "Accession Number\tPseudoID\r\n1234567.12345678\tpatient1\r\n".encode("utf-16")
    )
    assert read_input_file(path, "accession_number") == TWO_PATIENTS[:1]


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("Accession Nr", "accession_number"),
        ("Accession No.", "accession_number"),
        ("Acc #", "accession_number"),
        ("Accessionnumber", "accession_number"),
        ("Acc. No.", "accession_number"),
        ("acc.nr", "accession_number"),
        ("Study UID", "study_instance_uid"),
    ],
)
def test_headers_as_real_request_forms_write_them(tmp_path, header, column):
    path = tmp_path / "request.csv"
    path.write_text(f"MDN;{header};Pseudonym ID\n900001;1.2.3;p1\n")
    assert read_input_file(path, column) == [{column: "1.2.3", "pseudo_name": "p1"}]
