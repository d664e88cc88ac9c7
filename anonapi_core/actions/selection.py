"""Selection action: add the files of a folder that match a pattern to its `fileselection.txt`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from anonapi_core.dicom_scan import Progress, find_dicom_files, find_files
from anonapi_core.exceptions import SelectionError
from anonapi_core.selection import save_selection, selection_for_folder


@dataclass(frozen=True)
class SelectResult:
    """What `select_add` did: files found, how many were new, and the selection's size now."""

    path: Path
    found: int
    added: int
    total: int


def select_add(
    folder: Path,
    pattern: str,
    *,
    recurse: bool = True,
    check_dicom: bool = True,
    exclude: Sequence[str] = (),
    progress: Progress | None = None,
) -> SelectResult:
    """Add files below `folder` matching `pattern` (minus `exclude` patterns) to its selection.

    With `check_dicom` only files that are DICOM are added; without, every matching file (never
    another `fileselection.txt`). An existing selection is extended; one that cannot be read is
    an error and is left untouched. A pattern that matches nothing is a SelectionError and
    writes nothing (the original wrote an empty selection, a job with nothing to do).
    """
    folder = Path(folder)
    selection = selection_for_folder(folder)
    if check_dicom:
        (scan,) = find_dicom_files(
            [folder], True, progress, pattern=pattern, recurse=recurse, exclude=exclude
        )
        found = scan.dicom_files
    else:
        found = find_files(folder, pattern, recurse, exclude)
    if not found:
        kind = "DICOM files" if check_dicom else "files"
        raise SelectionError(
            f"No {kind} in {folder.absolute()} match '{pattern}'; no selection was written"
        )
    added = selection.add(found)
    save_selection(selection)
    return SelectResult(selection.path, len(found), added, len(selection.selected_paths))
