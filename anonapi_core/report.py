"""The batch report a data manager sends on: one row per job, as xlsx, csv or json.

The xlsx opens in Excel ready to read (frozen header, filters, column widths, dates as dates,
counts as numbers). Text from the server never becomes a formula: a cell that starts with `=`
is stored as text in xlsx and quoted in csv, so an error message cannot run anything in Excel.
Every file is written atomically: a report is whole or absent.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from anonapi_core.atomic import atomic_write_bytes
from anonapi_core.exceptions import PersistenceError

if TYPE_CHECKING:
    from anonapi_core.models import JobInfo

ReportFormat = Literal["xlsx", "csv", "json"]
FORMATS: tuple[ReportFormat, ...] = ("xlsx", "csv", "json")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_MAX_WIDTH = 60
# Servers report dates as ISO text, with a `T` or a space; IDIS adds microseconds at times.
_DATE_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f")
# A finish time is not in the IDIS API; a server that sends one uses one of these names.
_FINISHED_FIELDS = ("finished", "date_finished", "finished_at")


@dataclass(frozen=True)
class ReportRow:
    """One job in the report; the field order is the column order."""

    job_id: int | str
    status: str
    pseudo_id: str | None
    pseudo_name: str | None
    source: str | None
    destination: str | None
    files_downloaded: int | None
    files_processed: int | None
    files_quarantined: int | None
    files_skipped: int | None
    error: str | None
    created: datetime | None
    finished: datetime | None


COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(ReportRow))


def parse_date(value: Any) -> datetime | None:
    """A server's date text as a datetime, None when absent or in a shape no server uses."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not value.strip():
        return None
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(value.strip(), pattern)
        except ValueError:
            continue
    return None


def _extra(job: JobInfo, name: str) -> Any:
    return (job.model_extra or {}).get(name)


def row_for(job: JobInfo) -> ReportRow:
    """The report row of one job (extended fields give source, destination and pseudonyms)."""
    finished = next((_extra(job, n) for n in _FINISHED_FIELDS if _extra(job, n)), None)
    return ReportRow(
        job_id=job.job_id,
        status=job.status,
        pseudo_id=job.source_anonymizedpatientid,
        pseudo_name=job.source_anonymizedpatientname,
        source=job.source_path or job.source_instance_id,
        destination=job.destination_path,
        files_downloaded=job.files_downloaded,
        files_processed=job.files_processed,
        files_quarantined=_extra(job, "files_quarantined"),
        files_skipped=_extra(job, "files_skipped"),
        error=job.error_text or None,
        created=parse_date(job.date),
        finished=parse_date(finished),
    )


def missing_row(job_id: str, status: str) -> ReportRow:
    """A row for a job id of the batch that the server does not know (any more)."""
    empty: dict[str, Any] = {name: None for name in COLUMNS}
    return ReportRow(**(empty | {"job_id": job_id, "status": status}))


def _values(row: ReportRow) -> list[Any]:
    return [getattr(row, name) for name in COLUMNS]


def _safe_text(value: str) -> str:
    """Quote text a spreadsheet would read as a formula."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, str):
        return _safe_text(value)
    return value


def report_csv(rows: Sequence[ReportRow], delimiter: str = ",") -> bytes:
    """CSV with a BOM (so Excel reads UTF-8), `\\r\\n` line ends, ISO dates."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_csv_value(v) for v in _values(row)])
    return out.getvalue().encode("utf-8-sig")


def report_json(rows: Sequence[ReportRow]) -> bytes:
    """A JSON list of objects, dates in ISO format."""
    data = [
        {
            name: value.isoformat() if isinstance(value, datetime) else value
            for name, value in zip(COLUMNS, _values(row), strict=True)
        }
        for row in rows
    ]
    return (json.dumps(data, indent=2) + "\n").encode("utf-8")


def report_xlsx(rows: Sequence[ReportRow], title: str = "Jobs") -> bytes:
    """An xlsx workbook: bold frozen header, autofilter, widths from the content, real dates."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.worksheet import Worksheet

    workbook = Workbook()
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)  # a new workbook has one worksheet, active
    sheet.title = title[:31]
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    widths = [len(name) for name in COLUMNS]
    for row in rows:
        values = _values(row)
        sheet.append([None] * len(values))
        for column, value in enumerate(values, start=1):
            cell = sheet.cell(row=sheet.max_row, column=column)
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
                shown = len(value)
            elif isinstance(value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
                shown = 19
            else:
                shown = len(str(value)) if value is not None else 0
            widths[column - 1] = max(widths[column - 1], shown)
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = min(width + 2, _MAX_WIDTH)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{max(sheet.max_row, 1)}"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def format_for(path: Path, given: str | None = None) -> ReportFormat:
    """The format asked for, else the one the file name's extension says."""
    name = (given or Path(path).suffix.lstrip(".")).lower()
    if name not in FORMATS:
        raise PersistenceError(
            f"Cannot tell the report format of '{path}': use --format with one of "
            f"{', '.join(FORMATS)}, or a file name ending in one of them"
        )
    return name


def write_report(
    rows: Sequence[ReportRow], path: Path, fmt: ReportFormat, *, delimiter: str = ","
) -> Path:
    """Write the report atomically; PersistenceError naming the file if that is impossible."""
    if fmt == "xlsx":
        data = report_xlsx(rows)
    elif fmt == "csv":
        data = report_csv(rows, delimiter)
    else:
        data = report_json(rows)
    try:
        atomic_write_bytes(Path(path), data)
    except OSError as e:
        raise PersistenceError(
            f"Cannot write report '{path}' ({e.strerror or e}). Is it open in Excel? "
            "Close it and try again"
        ) from e
    return Path(path)
