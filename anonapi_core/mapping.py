r"""The mapping file `anon_mapping.csv`: read, write, start a new one, add rows.

The file has three sections, `## Description ##`, `## Options ##` and `## Mapping ##` (the grid, one
job per row). Users edit it in Excel, so reading is forgiving: section headers in any case, `,` or
`;` as delimiter, Excel's trailing `,,,` padding, legacy column names, a BOM, cp1252 text. A file
with only the grid (no section headers) loads as a mapping without description or options.

Writing keeps what the original `anonapi` 2.1.2 can read back: the same sections, `\r\n` line ends,
columns in its order, the file's own delimiter, and a multi-line description as separate lines.
Rows are plain `dict[str, str]` keyed by the current parameter names; an empty cell means "not set
in this row", so the option or settings default applies (see `anonapi_core.jobrequests`).
"""

from __future__ import annotations

import csv
import io
import locale
import re
import secrets
import string
from collections.abc import Iterable
from collections.abc import Mapping as MappingType
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from anonapi_core.atomic import atomic_write_bytes
from anonapi_core.exceptions import MapperError, MappingLoadError, ParameterParsingError
from anonapi_core.parameters import (
    DESCRIPTION,
    PARAMETER_NAMES,
    PROJECT,
    PSEUDO_ID,
    PSEUDO_NAME,
    SOURCE,
    SOURCE_TYPE_KEYS,
    SourceIdentifier,
    canonical_name,
    parameter_name,
)

DEFAULT_MAPPING_NAME = "anon_mapping.csv"
DESCRIPTION_HEADER = "## Description ##"
OPTIONS_HEADER = "## Options ##"
GRID_HEADER = "## Mapping ##"
SECTION_HEADERS = (DESCRIPTION_HEADER, OPTIONS_HEADER, GRID_HEADER)
LINE_END = "\r\n"
NOT_SET = "NOT_SET"

_LOWER_HEADERS = tuple(h.lower() for h in SECTION_HEADERS)
_SECTION_ORDER = ", ".join(SECTION_HEADERS)
_KNOWN_COLUMNS = ", ".join(PARAMETER_NAMES)
_DELIMITER = re.compile("[,;]")


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One thing wrong with a mapping, located as precisely as possible for a one-line message."""

    file: str
    line: int | None
    column: str | None
    message: str
    row: int | None = None  # 1-based grid row, named when the row has no file line (added since)
    option: str | None = None  # a problem of the Options section, shared by the rows using it
    duplicate: bool = False  # the row repeats an earlier row's study (the pre-flight words it)

    def __str__(self) -> str:
        where = [self.file]
        if self.line is not None:
            where.append(f"line {self.line}")
        elif self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        if self.option is not None:
            where.append(f"option '{self.option}'")
        return f"{', '.join(where)}: {self.message}"


@dataclass
class Mapping:
    """A mapping in memory: what the file says, and what it takes to write it back the same way."""

    description: str = ""
    options: dict[str, str] = field(default_factory=dict)
    rows: list[dict[str, str]] = field(default_factory=list)
    delimiter: str = ","
    path: Path | None = None
    encoding: str = "utf-8-sig"
    # File line of each row, for messages; None for rows added since loading.
    row_lines: list[int | None] = field(default_factory=list)
    # File line of each option, for messages; options added since loading have none.
    option_lines: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def file_name(self) -> str:
        """How messages name this mapping."""
        return self.path.name if self.path else "mapping"

    @property
    def columns(self) -> list[str]:
        """Grid columns in the original's write order; only those some row has."""
        present = {name for row in self.rows for name in row}
        return [name for name in PARAMETER_NAMES if name in present]

    def line_of(self, index: int) -> int | None:
        """The file line grid row `index` came from, if it came from a file."""
        return self.row_lines[index] if index < len(self.row_lines) else None


def load_mapping(path: Path) -> Mapping:
    """Read a mapping file; a user mistake raises MappingLoadError naming file, line and column."""
    path = Path(path)
    text, encoding = _read_text(path)
    return parse_mapping(text, path=path, encoding=encoding)


def _read_text(path: Path) -> tuple[str, str]:
    """Decode as UTF-8 (BOM or not) and fall back to cp1252, what Excel on Windows writes."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise MappingLoadError(f"No mapping file at '{path}'") from None
    except IsADirectoryError:
        raise MappingLoadError(f"'{path}' is a folder, not a mapping file") from None
    except OSError as e:
        raise MappingLoadError(
            f"Cannot read mapping '{path}' ({e.strerror or e}). "
            "Is it open in an editor such as Excel? Close it and try again."
        ) from e
    encoding = "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), "cp1252"


def parse_mapping(text: str, *, path: Path | None = None, encoding: str = "utf-8-sig") -> Mapping:
    """Parse mapping text (see `load_mapping`); `path` only names the file in messages."""
    name = path.name if path else "mapping"
    # A BOM is harmless wherever it is: files get concatenated, Excel adds one per save.
    lines = io.StringIO(text.replace("\ufeff", ""), newline="").readlines()
    description: list[str] = []
    option_lines: list[tuple[int, str]] = []
    found = 0
    grid_start = 0
    padding = ""
    for index, raw in enumerate(lines):
        clean = raw.rstrip("\r\n").rstrip(",;")
        if "##" in clean:
            section = _section_of(clean)
            if section is not None:
                if section != found:
                    raise MappingLoadError(
                        f"{name}, line {index + 1}: found '{SECTION_HEADERS[section]}' where "
                        f"'{SECTION_HEADERS[found]}' was expected; a mapping has the sections "
                        f"{_SECTION_ORDER}, in that order"
                    )
                padding = padding or raw.rstrip("\r\n")[len(clean) :][:1]
                found += 1
                if found == len(SECTION_HEADERS):
                    grid_start = index + 1
                    break
                continue
        if found == 1 and clean.strip():
            description.append(clean)
        elif found == 2:
            option_lines.append((index + 1, clean))
    else:
        if found:
            raise MappingLoadError(
                f"{name}, line {len(lines)}: no '{SECTION_HEADERS[found]}' section found; "
                f"a mapping has the sections {_SECTION_ORDER}, in that order"
            )
        if not any(line.strip(" ,;\r\n") for line in lines):
            raise MappingLoadError(f"{name}: the file is empty, it holds no mapping")
    options, option_delimiter, option_line_of = _parse_options(option_lines, name)
    grid_lines = lines[grid_start:]
    delimiter = _grid_delimiter(grid_lines) or option_delimiter or padding or ","
    rows, row_lines = _parse_grid(grid_lines, grid_start, delimiter, name)
    return Mapping(
        description="\n".join(description),
        options=options,
        rows=rows,
        delimiter=delimiter,
        path=path,
        encoding=encoding,
        row_lines=row_lines,
        option_lines=option_line_of,
    )


def _section_of(clean_line: str) -> int | None:
    """Which section header this line is, by case-insensitive substring as the original does."""
    lower = clean_line.lower()
    for section, header in enumerate(_LOWER_HEADERS):
        if header in lower:
            return section
    return None


def _parse_options(
    lines: list[tuple[int, str]], name: str
) -> tuple[dict[str, str], str, dict[str, int]]:
    """`key,value` lines; the first `,` or `;` splits, so a value may hold the other one.

    Also returns each option's file line: a bad option is reported once, there.
    """
    options: dict[str, str] = {}
    line_of: dict[str, int] = {}
    delimiter = ""
    for line_no, line in lines:
        if not line.strip(" ,;"):
            continue
        match = _DELIMITER.search(line)
        key, value = (line[: match.start()], line[match.end() :]) if match else (line, "")
        option = canonical_name(key)
        if option is None:
            raise MappingLoadError(
                f"{name}, line {line_no}: unknown option '{key.strip()}'. Known: {_KNOWN_COLUMNS}"
            )
        delimiter = delimiter or (match.group() if match else "")
        options[option] = _unquote(value.strip())
        line_of[option] = line_no
    return options, delimiter, line_of


def _unquote(value: str) -> str:
    """Excel quotes a value that holds the delimiter; the original kept the quotes, we drop them."""
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1].replace('""', '"')
    return value


def _grid_delimiter(grid_lines: list[str]) -> str:
    """The delimiter of the grid's header row; column names never contain `,` or `;`."""
    for line in grid_lines:
        if line.strip(" ,;\r\n"):
            match = _DELIMITER.search(line.rstrip("\r\n").rstrip(",;"))
            return match.group() if match else ""
    return ""


def _parse_grid(
    lines: list[str], offset: int, delimiter: str, name: str
) -> tuple[list[dict[str, str]], list[int | None]]:
    """Parse the grid with the csv module: one dict per non-empty row, and each row's file line."""
    reader = csv.reader(lines, delimiter=delimiter)
    try:
        return _read_grid(reader, offset, name)
    except csv.Error as e:  # e.g. a cell beyond the csv module's field size limit
        raise MappingLoadError(f"{name}, line {offset + reader.line_num}: {e}") from e


def _read_grid(reader, offset: int, name: str) -> tuple[list[dict[str, str]], list[int | None]]:
    problems: list[RowProblem] = []
    columns: list[str | None] | None = None
    rows: list[dict[str, str]] = []
    row_lines: list[int | None] = []
    named: list[tuple[int, str]] = []
    unnamed: list[int] = []
    width = 0
    line_no = offset + 1
    for cells in reader:
        row_line, line_no = line_no, offset + reader.line_num + 1
        if not "".join(cells).strip():
            continue
        if columns is None:
            columns = _grid_columns(cells, row_line, name)
            named = [(pos, column) for pos, column in enumerate(columns) if column]
            unnamed = [pos for pos, column in enumerate(columns) if not column]
            width = len(columns)
            continue
        if len(cells) > width and "".join(cells[width:]).strip():
            problems.append(_too_many_values(cells, columns, name, row_line))
            continue
        count = len(cells)
        row = {column: cells[pos].strip() if pos < count else "" for pos, column in named}
        for pos in unnamed:
            if pos < count and cells[pos].strip():
                problems.append(
                    RowProblem(name, row_line, None, f"column {pos + 1} has a value but no header")
                )
        source = row.get(SOURCE.name)
        # Fast path for the usual clean `folder:x`; anything else is parsed to normalise or report.
        if source and (source.partition(":")[0] not in SOURCE_TYPE_KEYS or source[-1] == ":"):
            try:
                row[SOURCE.name] = str(SourceIdentifier.parse(source))
            except ParameterParsingError as e:
                problems.append(RowProblem(name, row_line, SOURCE.name, str(e)))
        rows.append(row)
        row_lines.append(row_line)
    if problems:
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise MappingLoadError(f"{problems[0]}{more}")
    return rows, row_lines


def _grid_columns(cells: list[str], line_no: int, name: str) -> list[str | None]:
    """Column names of the grid header; Excel's trailing empty cells are dropped."""
    names = [cell.strip() for cell in cells]
    while names and not names[-1]:
        names.pop()
    columns: list[str | None] = []
    for header in names:
        column = canonical_name(header) if header else None
        if header and column is None:
            raise MappingLoadError(
                f"{name}, line {line_no}, column '{header}': unknown column "
                f"(is the header row missing?). Known: {_KNOWN_COLUMNS}"
            )
        if column is not None and column in columns:
            raise MappingLoadError(
                f"{name}, line {line_no}, column '{header}': a second '{column}' column"
            )
        columns.append(column)
    return columns


def _too_many_values(
    cells: list[str], columns: list[str | None], name: str, line_no: int
) -> RowProblem:
    headers = ", ".join(c or "(no name)" for c in columns)
    used = len(cells) - next(i for i, cell in enumerate(reversed(cells)) if cell.strip())
    return RowProblem(
        name,
        line_no,
        None,
        f"{used} values but only {len(columns)} column headers ({headers}); "
        "is a column header missing?",
    )


def format_mapping(mapping: Mapping) -> str:
    """The file text of a mapping, as `save_mapping` writes it."""
    d = mapping.delimiter
    out = [DESCRIPTION_HEADER, *mapping.description.splitlines(), "", OPTIONS_HEADER]
    # The original cannot read an option without a value, and an empty option means "not set".
    out.extend(f"{key}{d}{value}" for key, value in mapping.options.items() if value)
    out += ["", GRID_HEADER, ""]
    grid = io.StringIO()
    columns = mapping.columns or [SOURCE.name]
    writer = csv.writer(grid, delimiter=d, lineterminator=LINE_END)
    writer.writerow(columns)
    writer.writerows([row.get(column, "") for column in columns] for row in mapping.rows)
    return LINE_END.join(out) + grid.getvalue()


def save_mapping(mapping: Mapping, path: Path | None = None) -> Path:
    """Write atomically (temp file + rename) to `path` or where the mapping was loaded from."""
    target = Path(path or mapping.path or DEFAULT_MAPPING_NAME)
    text = format_mapping(mapping)
    try:
        data = text.encode(mapping.encoding)
    except UnicodeEncodeError:  # a cp1252 file that now holds a name cp1252 cannot spell
        data = text.encode("utf-8-sig")
    try:
        atomic_write_bytes(target, data)
    except OSError as e:
        raise MapperError(
            f"Cannot write mapping '{target}' ({e.strerror or e}). "
            "Is it open in an editor such as Excel? Close it and try again."
        ) from e
    return target


def local_delimiter() -> str:
    """`;` where the locale's decimal point is `,` (Excel's list separator there), else `,`."""
    previous = locale.setlocale(locale.LC_NUMERIC)
    try:
        locale.setlocale(locale.LC_NUMERIC, "")
        decimal_point = locale.localeconv()["decimal_point"]
    except locale.Error:  # a misconfigured locale must not stop `map init`
        return ","
    finally:
        locale.setlocale(locale.LC_NUMERIC, previous)
    return ";" if decimal_point == "," else ","


def new_mapping(
    folder: Path,
    settings_defaults: Iterable[tuple[str, str]],
    delimiter: str | None = None,
) -> Mapping:
    """The empty mapping `map init` writes in `folder`: options from the settings, no rows.

    No example rows: the original's PatientA/PatientB examples became two real ERROR jobs when
    the user forgot to delete them. A project or destination the settings do not give is written
    as `NOT_SET`, which job validation reports as missing instead of silently using it.
    """
    defaults = {canonical_name(key): value for key, value in settings_defaults}
    return Mapping(
        description=f"Mapping created {date.today():%B %d %Y} by {_user_name()}",
        options={
            "root_source_path": str(folder),
            PROJECT.name: defaults.get(PROJECT.name) or NOT_SET,
            "destination_path": defaults.get("destination_path") or NOT_SET,
        },
        rows=[],
        delimiter=delimiter or local_delimiter(),
        path=Path(folder) / DEFAULT_MAPPING_NAME,
        row_lines=[],
    )


def _user_name() -> str:
    try:
        import getpass

        return getpass.getuser()
    except (OSError, KeyError, ImportError):  # no user name in containers without a passwd entry
        return "unknown user"


def add_rows(mapping: Mapping, rows: Iterable[MappingType[str, str]]) -> None:
    """Append grid rows (keys may be legacy names); a bad key or source: ParameterParsingError."""
    for row in rows:
        clean = {parameter_name(key): str(value).strip() for key, value in row.items()}
        if clean.get(SOURCE.name):
            clean[SOURCE.name] = str(SourceIdentifier.parse(clean[SOURCE.name]))
        mapping.rows.append(clean)
    mapping.row_lines.extend([None] * (len(mapping.rows) - len(mapping.row_lines)))


_PSEUDONYM_ALPHABET = string.ascii_uppercase + string.digits


def generate_pseudonym(length: int = 8) -> str:
    """A random pseudonym like `8GW7FEDQ`, as `map add-*` gives rows without one."""
    return "".join(secrets.choice(_PSEUDONYM_ALPHABET) for _ in range(length))


def generated_description(today: date | None = None) -> str:
    """Description for generated rows, e.g. `generated_November_29_2026`."""
    return f"generated_{(today or date.today()):%B_%d_%Y}"


def new_job_row(
    source: SourceIdentifier,
    pseudo_name: str | None = None,
    pseudo_id: str | None = None,
    description: str | None = None,
) -> dict[str, str]:
    """A grid row for `map add-*`: a random pseudo_name unless one is given (pseudo_id is copied
    from it when jobs are created), and a generated description."""
    row = {
        SOURCE.name: str(source),
        PSEUDO_NAME.name: pseudo_name or generate_pseudonym(),
        DESCRIPTION.name: description or generated_description(),
    }
    if pseudo_id:
        row[PSEUDO_ID.name] = pseudo_id
    return row
