"""Mapping actions: start a mapping, find it, and add rows for study folders, accession numbers
and file selections.

Which mapping a command acts on (`choose_mapping`, the same rule for CLI and dashboard, and in
README): the active mapping if it lies in the current folder, else the current folder's
`anon_mapping.csv`, else the active mapping of another folder, which callers announce and ask
about (and refuse under --yes). Before, the active mapping always won, and `create from-mapping`
in folder B created duplicates of folder A's jobs and recorded them in B's batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from anonapi_core.dicom_scan import Progress, find_dicom_files
from anonapi_core.exceptions import MapperError, ParameterParsingError, SelectionError
from anonapi_core.jobrequests import mapping_problems, study_key
from anonapi_core.mapping import (
    DEFAULT_MAPPING_NAME,
    Mapping,
    add_rows,
    load_mapping,
    new_job_row,
    new_mapping,
    save_mapping,
)
from anonapi_core.parameters import SourceIdentifier, SourceType
from anonapi_core.selection import (
    SELECTION_FILE_NAME,
    load_selection,
    save_selection,
    selection_for_folder,
)
from anonapi_core.settings import Settings, save_settings


@dataclass(frozen=True)
class AddedRow:
    """A row added to a mapping; for study folders also what the scan found.

    `existing` says where the mapping already holds the same study (e.g. "line 12"): such a row
    was not added, since a second row would give the same patient a second pseudonym.
    """

    source: str
    pseudo_name: str
    folder: Path | None = None
    candidates: int | None = None
    dicom_files: int | None = None
    existing: str | None = None


@dataclass(frozen=True)
class MappingChoice:
    """The mapping a command acts on; `elsewhere` when it is the active mapping of another
    folder, which a caller must announce and ask about before using."""

    path: Path
    elsewhere: bool = False


def _same_folder(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return a.absolute() == b.absolute()


def choose_mapping(settings: Settings, folder: Path) -> MappingChoice:
    """The mapping for `folder`: the active mapping if it lies in `folder`, else the folder's
    `anon_mapping.csv`, else the active mapping of another folder (flagged `elsewhere`).

    Raises MapperError saying how to get one when there is none, or when the only candidate is
    an active mapping whose file is gone.
    """
    folder = Path(folder).absolute()
    active = Path(settings.active_mapping_file) if settings.active_mapping_file else None
    if active is not None and active.is_file() and _same_folder(active.parent, folder):
        return MappingChoice(active.absolute())
    local = folder / DEFAULT_MAPPING_NAME
    if local.is_file():
        return MappingChoice(local)
    if active is not None:
        if not active.is_file():
            raise MapperError(
                f"No {DEFAULT_MAPPING_NAME} in {folder}, and the active mapping {active} does "
                "not exist any more. Run 'anon map init' to start one here"
            )
        return MappingChoice(active.absolute(), elsewhere=True)
    raise MapperError(
        f"No {DEFAULT_MAPPING_NAME} in {folder}. Run 'anon map init' to start one, "
        "or 'anon map activate <file>' to use another"
    )


def map_init(
    settings: Settings,
    folder: Path,
    *,
    overwrite: bool = False,
    options: dict[str, str | None] | None = None,
) -> tuple[Path, list[str]]:
    """Write an empty mapping into `folder`, make it the active mapping, return its problems.

    An existing mapping is replaced only with `overwrite` (the original overwrote it even
    after the user said no). `options` (e.g. a UNC root_source_path) override the defaults;
    the problems (a root_source_path the server cannot read, no destination) show at once.
    """
    target = (Path(folder) / DEFAULT_MAPPING_NAME).absolute()
    if target.exists() and not overwrite:
        raise MapperError(f"A mapping already exists at {target}; not overwriting it")
    mapping = new_mapping(Path(folder).absolute(), settings.job_default_parameters)
    mapping.options.update({k: v for k, v in (options or {}).items() if v})
    save_mapping(mapping, target)
    return activate(settings, target)


def problems_of(mapping: Mapping, settings: Settings) -> list[str]:
    """Every problem of `mapping` as one line each: the one check CLI and dashboard share."""
    return [str(p) for p in mapping_problems(mapping, settings.job_default_parameters)]


def activate(settings: Settings, path: Path) -> tuple[Path, list[str]]:
    """Make the file the user named the active mapping and return its problems.

    A mapping with problems is activated all the same (the user named it; refusing left the
    previous mapping active without them noticing): the problems, including a file that does
    not load, are returned for the caller to show.
    """
    path = Path(path).absolute()
    if not path.is_file():
        raise MapperError(f"No mapping file at {path}")
    try:
        problems = problems_of(load_mapping(path), settings)
    except MapperError as e:
        problems = [str(e)]
    settings.active_mapping_file = path
    save_settings(settings)
    return path, problems


def delete_mapping(settings: Settings, path: Path) -> None:
    """Delete a mapping file; the settings stop pointing at it (the original left them stale)."""
    path = Path(path).absolute()
    try:
        path.unlink()
    except FileNotFoundError:
        raise MapperError(f"No mapping file at {path}") from None
    except OSError as e:
        raise MapperError(f"Cannot delete mapping {path}: {e.strerror or e}") from None
    if settings.active_mapping_file and Path(settings.active_mapping_file).absolute() == path:
        settings.active_mapping_file = None
        save_settings(settings)


def _source_in_mapping(mapping_file: Path, target: Path, what: str) -> str:
    """`target` relative to the mapping's folder with `/`: how a relative source is written."""
    base = mapping_file.parent.absolute()
    try:
        relative = Path(target).absolute().relative_to(base)
    except ValueError:
        raise MapperError(
            f"{what} {target} is not inside the mapping's folder {base}; "
            "relative sources are resolved against the mapping's root_source_path"
        ) from None
    return PurePosixPath(*relative.parts).as_posix() if relative.parts else "."


def add_study_folders(
    mapping_file: Path,
    folders: Sequence[Path],
    *,
    check_dicom: bool = True,
    pseudonyms: Sequence[str | None] | None = None,
    progress: Progress | None = None,
) -> list[AddedRow]:
    """Scan each folder for DICOM, write its `fileselection.txt`, add one row per folder.

    Every folder is checked (exists, is inside the mapping's folder, has no unreadable
    selection) before anything is written. An existing selection is extended, not replaced.
    The mapping is saved once, at the end.
    """
    mapping = load_mapping(mapping_file)
    folders = [Path(f) for f in folders]
    names = list(pseudonyms) if pseudonyms is not None else [None] * len(folders)
    for folder in folders:
        if not folder.is_dir():
            raise MapperError(f"Folder not found: {folder}")
        _source_in_mapping(mapping_file, folder, "Folder")
    # Read every existing selection first: a damaged one stops the run before anything is written.
    selections = {folder: selection_for_folder(folder) for folder in folders}
    existing = _studies_in(mapping)
    added: list[AddedRow] = []
    new: list[tuple[Path, str | None]] = []
    for folder, name in zip(folders, names, strict=True):
        source = SourceIdentifier(SourceType.FOLDER, _source_in_mapping(mapping_file, folder, ""))
        where = existing.get(study_key(source))
        if where is None:
            existing[study_key(source)] = "this run"
            new.append((folder, name))
        else:
            added.append(AddedRow(str(source), "", folder, existing=where))
    scans = find_dicom_files([f for f, _ in new], check_dicom=check_dicom, progress=progress)
    for (folder, name), scan in zip(new, scans, strict=True):
        selection = selections[folder]
        selection.add(scan.dicom_files)
        written = save_selection(selection)
        source = SourceIdentifier(
            SourceType.FILESELECTION, _source_in_mapping(mapping_file, written, "Selection")
        )
        row = new_job_row(source, pseudo_name=name or None)
        add_rows(mapping, [row])
        added.append(
            AddedRow(
                str(source), row["pseudo_name"], folder, scan.candidates, len(scan.dicom_files)
            )
        )
    if new:
        save_mapping(mapping, mapping_file)
    return added


def add_accession_numbers(
    mapping_file: Path, entries: Sequence[tuple[str, str | None]]
) -> list[AddedRow]:
    """Add one PACS row per (accession number, pseudonym or None); saved once."""
    sources = [(SourceIdentifier(SourceType.ACCESSION_NUMBER, n.strip()), p) for n, p in entries]
    for source, _ in sources:
        if not source.value or any(c.isspace() for c in source.value):
            raise MapperError(f"'{source.value}' is not an accession number")
    return _add(mapping_file, sources)


def add_selection(mapping_file: Path, selection_file: Path) -> AddedRow:
    """Add a row for an existing file selection (absolute or relative to the current folder)."""
    selection_file = Path(selection_file)
    if selection_file.is_dir():
        selection_file = selection_file / SELECTION_FILE_NAME
    if not selection_file.is_file():
        raise SelectionError(f"No file selection found at {selection_file}")
    load_selection(selection_file)
    relative = _source_in_mapping(mapping_file, selection_file, "Selection")
    return _add(mapping_file, [(SourceIdentifier(SourceType.FILESELECTION, relative), None)])[0]


def _studies_in(mapping: Mapping) -> dict[tuple[str, str], str]:
    """study_key -> "line N" of every row whose source parses (bad rows are validation's)."""
    studies: dict[tuple[str, str], str] = {}
    for index, row in enumerate(mapping.rows):
        try:
            source = SourceIdentifier.parse(row.get("source", ""))
        except ParameterParsingError:
            continue
        line = mapping.line_of(index)
        studies.setdefault(study_key(source), f"line {line}" if line else f"row {index + 1}")
    return studies


def _add(
    mapping_file: Path, sources: Sequence[tuple[SourceIdentifier, str | None]]
) -> list[AddedRow]:
    """Add a row per source not in the mapping yet; one already there is reported, not added."""
    mapping: Mapping = load_mapping(mapping_file)
    existing = _studies_in(mapping)
    result: list[AddedRow] = []
    rows = []
    for source, name in sources:
        where = existing.get(study_key(source))
        if where is not None:
            result.append(AddedRow(str(source), name or "", existing=where))
            continue
        existing[study_key(source)] = "this run"
        row = new_job_row(source, pseudo_name=name or None)
        rows.append(row)
        result.append(AddedRow(row["source"], row["pseudo_name"]))
    if rows:
        add_rows(mapping, rows)
        save_mapping(mapping, mapping_file)
    return result


def input_file_rows(path: Path, column: str) -> list[tuple[str, str | None]]:
    """(value of `column`, pseudonym or None) for each row of a csv/xlsx input file."""
    from anonapi_core.inputfile import read_input_file

    return [
        (row[column], row.get("pseudo_name") or row.get("pseudo_id") or None)
        for row in read_input_file(Path(path), column)
    ]
