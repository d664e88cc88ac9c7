"""The batch report: xlsx that opens in openpyxl with the right types, csv, json, formula safety."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from anonapi_core.exceptions import PersistenceError
from anonapi_core.models import JobInfo
from anonapi_core.report import (
    COLUMNS,
    format_for,
    missing_row,
    report_csv,
    row_for,
    write_report,
)


def job(job_id: int, **fields) -> JobInfo:
    base = {
        "job_id": job_id,
        "date": "2026-11-29T10:15:00",
        "user_name": "z123456",
        "status": "DONE",
        "error": None,
        "description": "test",
        "project_name": "Wetenschap-Algemeen",
        "priority": 0,
        "files_downloaded": 3,
        "files_processed": 3,
        "source_type": "PATH",
        "source_path": "folder:\\\\server\\share\\in\\s1",
        "destination_path": "\\\\server\\share\\out",
        "source_anonymizedpatientid": f"P{job_id}",
        "source_anonymizedpatientname": f"Name{job_id}",
        "files_quarantined": 1,
        "files_skipped": 0,
    }
    return JobInfo.parse(base | fields)


ROWS = [
    row_for(job(1)),
    row_for(job(2, status="ERROR", error='=HYPERLINK("http://x")', date="2026-11-30 08:00:00")),
    missing_row("3", "NOT_FOUND"),
]


def test_xlsx_opens_with_header_filters_widths_and_typed_cells(tmp_path: Path) -> None:
    path = write_report(ROWS, tmp_path / "report.xlsx", "xlsx")
    sheet = load_workbook(path).active
    assert [c.value for c in sheet[1]] == list(COLUMNS)
    assert all(c.font.b for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:M4"
    header = {name: n for n, name in enumerate(COLUMNS)}
    first = [c.value for c in sheet[2]]
    assert first[header["job_id"]] == 1
    assert first[header["files_processed"]] == 3 and first[header["files_quarantined"]] == 1
    assert first[header["created"]] == datetime(2026, 11, 29, 10, 15)
    assert sheet[2][header["created"]].is_date
    assert first[header["source"]] == "folder:\\\\server\\share\\in\\s1"
    assert first[header["finished"]] is None  # the IDIS API has no finish time
    second = sheet[3]
    assert second[header["error"]].data_type == "s"  # text, never a formula
    assert second[header["error"]].value.startswith("=HYPERLINK")
    assert [c.value for c in sheet[4]][:2] == ["3", "NOT_FOUND"]
    widths = {k: v.width for k, v in sheet.column_dimensions.items()}
    assert widths["E"] == len("folder:\\\\server\\share\\in\\s1") + 2
    assert max(widths.values()) <= 60


def test_csv_has_a_bom_iso_dates_and_quotes_formulas() -> None:
    data = report_csv(ROWS, ";")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == list(COLUMNS)
    assert rows[1][COLUMNS.index("created")] == "2026-11-29 10:15:00"
    assert rows[2][COLUMNS.index("error")].startswith("'=HYPERLINK")
    assert rows[3][:2] == ["3", "NOT_FOUND"]


def test_json_lists_one_object_per_job(tmp_path: Path) -> None:
    path = write_report(ROWS, tmp_path / "r.json", "json")
    data = json.loads(path.read_text())
    assert data[0]["created"] == "2026-11-29T10:15:00"
    assert data[1]["status"] == "ERROR" and data[1]["pseudo_name"] == "Name2"


def test_the_format_comes_from_the_option_or_the_extension() -> None:
    assert format_for(Path("x.XLSX")) == "xlsx"
    assert format_for(Path("x.txt"), "csv") == "csv"
    with pytest.raises(PersistenceError, match="Cannot tell the report format of 'x.txt'"):
        format_for(Path("x.txt"))


def test_a_report_that_cannot_be_written_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "missing-folder" / "r.csv"
    with pytest.raises(PersistenceError, match="Cannot write report"):
        write_report(ROWS, target, "csv")
    assert not target.parent.exists()
