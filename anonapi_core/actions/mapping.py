"""Mapping actions: start a mapping, find it, and add rows for study folders, accession numbers
and file selections.

Which mapping a command acts on: the active mapping of the settings (the original's global
setting, kept for compatibility), else `anon_mapping.csv` in the current folder. Callers show
the path they got, so the user always sees which file changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from anonapi_core.dicom_scan import Progress, find_dicom_files
from anonapi_core.exceptions import MapperError, SelectionError
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
    """A row added to a mapping; for study folders also what the scan found."""

    source: str
    pseudo_name: str
    folder: Path | None = None
    candidates: int | None = None
    dicom_files: int | None = None


def mapping_path(settings: Settings, folder: Path) -> Path:
    """The mapping commands act on: the active one, else `anon_mapping.csv` in `folder`.

    Raises MapperError saying how to get one when there is neither, or when the active
    mapping's file is gone (deleted or moved since it was activated).
    """
    active = settings.active_mapping_file
    if active is not None:
        if not Path(active).is_file():
            raise MapperError(
                f"The active mapping {active} does not exist any more. Run 'anon map activate' "
                "in the folder of the mapping to use, or 'anon map init' to start one"
            )
        return Path(active)
    local = Path(folder) / DEFAULT_MAPPING_NAME
    if local.is_file():
        return local.absolute()
    raise MapperError(
        f"No active mapping and no {DEFAULT_MAPPING_NAME} in {Path(folder).absolute()}. "
        "Run 'anon map init' to start one, or 'anon map activate' in a folder with one"
    )


def map_init(
    settings: Settings,
    folder: Path,
    *,
    overwrite: bool = False,
    options: dict[str, str | None] | None = None,
) -> Path:
    """Write the example mapping into `folder` and make it the active mapping.

    An existing mapping is replaced only with `overwrite` (the original overwrote it even
    after the user said no). `options` (e.g. a UNC root_source_path) override the defaults.
    """
    target = (Path(folder) / DEFAULT_MAPPING_NAME).absolute()
    if target.exists() and not overwrite:
        raise MapperError(f"A mapping already exists at {target}; not overwriting it")
    mapping = new_mapping(Path(folder).absolute(), settings.job_default_parameters)
    mapping.options.update({k: v for k, v in (options or {}).items() if v})
    save_mapping(mapping, target)
    activate(settings, target)
    return target


def activate(settings: Settings, path: Path) -> Path:
    """Make `path` the active mapping (it must load) and save the settings."""
    path = Path(path).absolute()
    load_mapping(path)
    settings.active_mapping_file = path
    save_settings(settings)
    return path


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
    scans = find_dicom_files(folders, check_dicom=check_dicom, progress=progress)
    added = []
    for folder, scan, name in zip(folders, scans, names, strict=True):
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


def _add(
    mapping_file: Path, sources: Sequence[tuple[SourceIdentifier, str | None]]
) -> list[AddedRow]:
    mapping: Mapping = load_mapping(mapping_file)
    rows = [new_job_row(source, pseudo_name=name or None) for source, name in sources]
    add_rows(mapping, rows)
    save_mapping(mapping, mapping_file)
    return [AddedRow(row["source"], row["pseudo_name"]) for row in rows]


def input_file_rows(path: Path, column: str) -> list[tuple[str, str | None]]:
    """(value of `column`, pseudonym or None) for each row of a csv/xlsx input file."""
    from anonapi_core.inputfile import read_input_file

    return [
        (row[column], row.get("pseudo_name") or row.get("pseudo_id") or None)
        for row in read_input_file(Path(path), column)
    ]
