"""Input files for `map add-* -f`: tables (csv, txt, xlsx) of folders, accession numbers or UIDs,
with optional pseudonyms.

Such tables come from request forms with free text above the table, so the header row is the first
row holding a column name we recognise. Names are compared without spaces, `_`, `-`, `.` and case,
so `Accession-Number`, `acc.nr` and `PseudoID` all match.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Collection, Iterator
from pathlib import Path

from anonapi_core.exceptions import InputFileError, InputFileParseException

# Column type -> the names a user may give it. The first name is the one messages use.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "accession_number": ("accession number", "acc nr"),
    "study_instance_uid": ("study instance uid", "suid"),
    "folder": ("folder", "map", "path"),
    "pseudo_name": ("pseudonym", "pseudo id", "pseudo name", "name", "patient name"),
    "pseudo_id": ("patient id",),
}

_SEPARATORS = str.maketrans("", "", " _-.")


def _normalise(header: str) -> str:
    return header.translate(_SEPARATORS).lower()


_COLUMN_BY_HEADER: dict[str, str] = {
    _normalise(alias): column for column, aliases in COLUMN_ALIASES.items() for alias in aliases
}

# Number formats such as `0`, `00000000` or `0.00`: leading zeros and a fixed number of decimals.
_ZERO_FORMAT = re.compile(r"(0+)(?:\.(0+))?")

Rows = Iterator[tuple[int, list[str]]]


def read_input_file(path: Path, required: str | Collection[str]) -> list[dict[str, str]]:
    """Rows of `path` as `{column type: text}` for the recognised columns only.

    `required` is a column type (a key of COLUMN_ALIASES), or several of which at least one must
    be there. A row whose recognised cells are all empty is skipped; one with some empty is an
    error naming the row.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        rows = _csv_rows(path)
    elif suffix in (".xlsx", ".xlsm"):
        rows = _xlsx_rows(path)
    elif suffix == ".xls":
        raise InputFileError(
            f"'{path}' is an old-style .xls workbook, which cannot be read; "
            "open it in Excel and save it as .xlsx"
        )
    else:
        raise InputFileError(f"'{path}': unknown extension '{suffix}', use .csv, .txt or .xlsx")
    return _table(rows, path.name, (required,) if isinstance(required, str) else tuple(required))


def _table(rows: Rows, name: str, required: tuple[str, ...]) -> list[dict[str, str]]:
    header = next(((n, found) for n, cells in rows if (found := _recognised(cells))), None)
    if header is None:
        known = [alias for aliases in COLUMN_ALIASES.values() for alias in aliases]
        raise InputFileParseException(
            f"{name}: no column headers found; looked for any of {', '.join(known)}"
        )
    header_row, columns = header
    found_columns = {column for _, column, _ in columns}
    if not found_columns.intersection(required):
        wanted = " or ".join(f"'{COLUMN_ALIASES[column][0]}'" for column in required)
        headers = ", ".join(f"'{header}'" for _, _, header in columns)
        raise InputFileParseException(
            f"{name}, row {header_row}: required column {wanted} not found (found {headers})"
        )
    table: list[dict[str, str]] = []
    for row_number, cells in rows:
        values = [(column, header, _cell(cells, pos)) for pos, column, header in columns]
        empty = [header for _, header, value in values if not value]
        if len(empty) == len(values):
            continue
        if empty:
            filled = [header for _, header, value in values if value]
            raise InputFileParseException(
                f"{name}, row {row_number}: {_names(filled)} filled in but {_names(empty)} empty; "
                "fill in both or neither"
            )
        table.append({column: value for column, _, value in values})
    return table


def _recognised(cells: list[str]) -> list[tuple[int, str, str]]:
    """(position, column type, header as written) of each recognised header cell."""
    found = []
    for pos, cell in enumerate(cells):
        column = _COLUMN_BY_HEADER.get(_normalise(cell))
        if column is not None:
            found.append((pos, column, cell.strip()))
    return found


def _cell(cells: list[str], pos: int) -> str:
    return cells[pos].strip() if pos < len(cells) else ""


def _names(headers: list[str]) -> str:
    return ", ".join(f"'{header}'" for header in headers)


def _csv_rows(path: Path) -> Rows:
    """Lines as cells with the delimiter (`,`, `;` or a tab) that finds the richer header row."""
    text = _read_text(path)
    best: list[tuple[int, list[str]]] = []
    best_score = -1
    for delimiter in (",", ";", "\t"):
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            rows = [(reader.line_num, cells) for cells in reader if "".join(cells).strip()]
        except csv.Error as e:  # e.g. a cell beyond the csv module's field size limit
            raise InputFileParseException(f"{path.name}, row {reader.line_num}: {e}") from e
        score = next((len(found) for _, cells in rows if (found := _recognised(cells))), 0)
        if score > best_score:
            best, best_score = rows, score
    return iter(best)


def _read_text(path: Path) -> str:
    """UTF-8 with or without BOM; UTF-16 (Excel's "Unicode text", tab separated) by its BOM;
    otherwise cp1252, what Excel on Windows writes."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputFileError(f"Cannot read '{path}' ({e.strerror or e})") from e
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _xlsx_rows(path: Path) -> Rows:
    """Rows of the first sheet as the text a user sees in Excel."""
    import zipfile

    from openpyxl import load_workbook  # heavy: only when an Excel file is read
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (OSError, InvalidFileException, zipfile.BadZipFile, KeyError) as e:
        raise InputFileError(f"Cannot read '{path}' as an Excel workbook ({e})") from e
    try:
        sheet = workbook.worksheets[0]
        # Formatting often stretches a sheet to Excel's last row; find the last row with a
        # value cheaply first, so the slow conversion to text only sees the real table.
        last = 0
        for number, values in enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1):
            if values.count(None) < len(values):
                last = number
        rows = (
            [
                (
                    number,
                    [_excel_text(cell.value, getattr(cell, "number_format", "")) for cell in row],
                )
                for number, row in enumerate(sheet.iter_rows(min_row=1, max_row=last), start=1)
            ]
            if last
            else []
        )
    finally:
        workbook.close()
    return iter(rows)


def _excel_text(value: object, number_format: str | None) -> str:
    """A cell value as Excel shows it; numbers keep their digits (`str()` would drop leading zeros
    of a `00000000` format, and `repr` keeps every digit Excel stored)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        match = _ZERO_FORMAT.fullmatch(number_format or "")
        if match:
            decimals = len(match.group(2) or "")
            width = len(match.group(1)) + (decimals + 1 if decimals else 0)
            return f"{value:0{width}.{decimals}f}"
        if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime.datetime) and value.time() == datetime.time():
        return value.date().isoformat()
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value)
