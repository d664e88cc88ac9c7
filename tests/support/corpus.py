"""Our own corpus of files in the original `anonapi`'s formats, so a fresh clone tests everything.

The text files (mappings with `,` and `;`, cp1252 and CRLF, settings of every historic layout,
file selections, csv input files, recorded server replies) live in `tests/fixtures/`. Binary files
are written here at test time instead of being committed: Excel input files with openpyxl and DICOM
trees with the server's sample-study generator. The layout is the one of the compatibility corpus
`../shared/compat`, so a test parametrized over both runs unchanged on either.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

from openpyxl import Workbook

from anonapi_server.sample_studies import write_study

FIXTURES_DIR = Path(__file__).resolve().parents[1] / "fixtures"
TWO_PATIENTS = [
    (900001, "Jan-05-2021", "1234567.12345678", "patient1"),
    (900002, "Feb-11-2021", "2234567.12345679", "patient2"),
]
FORM_HEADER = ["MDN", "Study Date", "Accession Number", "PseudoID"]


def _workbook(path: Path, rows: dict[int, list[object]], text_column: int | None = None) -> None:
    """Write `rows` (Excel row number -> values) to the first sheet, a column formatted as text."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Blad1"
    for row, values in rows.items():
        for column, value in enumerate(values, start=1):
            cell = sheet.cell(row=row, column=column, value=value)
            if column == text_column:
                cell.number_format = "@"
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)


def _request_form(path: Path) -> None:
    """A de-identification request form as hospitals hand them out: free text, table on row 15."""
    rows: dict[int, list[object]] = {
        1: ["REQUEST FOR DE-IDENTIFICATION OF IMAGING STUDIES"],
        3: ["Type accession numbers as text, e.g. 1234567.12345678 or DVD0001."],
        5: ["Columns MDN and Study Date are only there to help you check the list."],
        15: FORM_HEADER,
    }
    for row, values in enumerate(TWO_PATIENTS, start=16):
        rows[row] = list(values)
    _workbook(path, rows, text_column=3)


def _write_workbooks(fixtures: Path) -> None:
    inputs = fixtures / "test_inputfile"
    _request_form(inputs / "example_deid_form.xlsx")
    _request_form(inputs / "formats" / "test_excel_2007-2013_XML.xlsx")
    _workbook(
        inputs / "example_deid_form_missing_values.xlsx",
        {
            2: ["The form below lacks an accession number in its second row."],
            8: FORM_HEADER,
            9: list(TWO_PATIENTS[0]),
            12: [900002, None, None, "patient2"],
        },
        text_column=3,
    )
    folders = {
        1: ["folder", "Name"],
        2: ["Kees/01", "study1"],
        3: ["Henk/10", "study2"],
        4: ["Kees/02", "study3"],
    }
    _workbook(inputs / "some_folder_names.xlsx", folders)
    _workbook(fixtures / "test_cli_click_types" / "some_folder_names.xlsx", folders)
    _workbook(
        fixtures / "test_mapper" / "inputfile" / "some_accession_numbers.xlsx",
        {
            1: ["accession_number", "Name"],
            2: ["DVD123456.12321312", "study1"],
            3: [123456.12321314, "study2"],
            4: [123456.12321313, "study3"],
        },
    )
    _workbook(
        fixtures / "test_mapper" / "inputfile" / "some_folder_names.xlsx",
        {1: ["folder", "Name"], 2: ["1-SR-9001", "studyA"], 3: ["AiCE_3.000_CE-CT-6", "studyB"]},
    )


def _write_test_dir(folder: Path, patient_id: str) -> None:
    """Five candidate files of which three are DICOM, plus hidden files a scan must skip."""
    name = f"{patient_id}^Name"
    write_study(
        folder / "1-SR-9001", patient_id=patient_id, patient_name=name, n_files=1, rows=8, columns=8
    )
    write_study(
        folder / "2.0-CT-1",
        patient_id=patient_id,
        patient_name=name,
        n_files=2,
        rows=16,
        columns=16,
    )
    other = folder / "AiCE_3.000_CE-CT-6"
    other.mkdir()
    (other / "some_non_dicom_file.txt").write_bytes(b"")
    (other / ".directory").write_text("[Desktop Entry]\nIcon=folder-blue\n")
    (folder / ".fileselection.txt.kate-swp").write_bytes(b"\x00swap")
    with zipfile.ZipFile(folder / "somedoc.odt", "w") as document:
        document.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        document.writestr("content.xml", "<office:document-content/>")


def build_corpus(target: Path) -> Path:
    """Copy the text fixtures to `target` and write the binary ones next to them; returns it."""
    shutil.copytree(FIXTURES_DIR, target, dirs_exist_ok=True)
    fixtures = target / "original-fixtures"
    _write_workbooks(fixtures)
    for tree in ("test_selection", "test_cli"):
        _write_test_dir(fixtures / tree / "test_dir", patient_id=f"PID-{tree}")
    is_dicom = fixtures / "test_selection" / "test_is_dicom"
    write_study(
        is_dicom / "study",
        patient_id="PID-ISDICOM",
        patient_name="Is^Dicom",
        n_files=1,
        rows=8,
        columns=8,
    )
    (is_dicom / "study" / "1").rename(is_dicom / "dicom")
    (is_dicom / "study").rmdir()
    (is_dicom / "not_dicom").write_bytes(bytes(2 * 1024 * 1024))
    return target
