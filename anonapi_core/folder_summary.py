"""What a study folder holds, in one line: before a user marks it for a mapping.

Counting stops at `MAX_FILES` so a folder that is a whole archive does not keep a worker busy;
only one DICOM header is read (the first DICOM file in name order), without its pixels. The
summary names no patient: modality, study date and study description only.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from anonapi_core.dicom_scan import _list_dir, is_dicom
from anonapi_core.exceptions import ParameterParsingError
from anonapi_core.jobrequests import study_key
from anonapi_core.parameters import SourceIdentifier, SourceType

MAX_FILES = 10_000
"""Files counted per folder (its subfolders included) before the count says `10,000+`."""

InMapping = Literal["folder", "selection"]

_STOP_EVERY = 64

_STUDY_TAGS = ["Modality", "StudyDate", "StudyDescription"]


@dataclass(frozen=True, slots=True)
class FolderSummary:
    """Counts of one folder's files (subfolders included), one header's study, mapping state."""

    files: int
    dicom_files: int
    capped: bool = False
    modality: str | None = None
    study_date: str | None = None
    study_description: str | None = None
    in_mapping: InMapping | None = None

    def counts(self) -> str:
        """`12 files, 10 DICOM`, with `+` after counts that stopped at `MAX_FILES`."""
        more = "+" if self.capped else ""
        noun = "file" if self.files == 1 and not more else "files"
        return f"{self.files:,}{more} {noun}, {self.dicom_files:,}{more} DICOM"

    def study(self) -> str | None:
        """`CT 2024-01-02 Chest` from the header read, or None when none was read."""
        date = self.study_date
        if date and len(date) == 8 and date.isdigit():
            date = f"{date[:4]}-{date[4:6]}-{date[6:]}"
        parts = [p for p in (self.modality, date, self.study_description) if p]
        return " ".join(parts) or None

    def mapping_state(self) -> str:
        """Whether, and how, the folder is already a study of the mapping."""
        if self.in_mapping == "folder":
            return "in the mapping (folder row)"
        if self.in_mapping == "selection":
            return "in the mapping (file selection)"
        return "not in the mapping"


def mapped_studies(sources: Iterable[str]) -> dict[tuple[str, str], InMapping]:
    """study_key -> how the mapping holds that study, for the path sources of its rows.

    A folder and the file selection inside it are one study (`study_key`), so a folder row and
    a selection row of the same folder both mark the folder; the first row decides how.
    """
    studies: dict[tuple[str, str], InMapping] = {}
    for text in sources:
        try:
            source = SourceIdentifier.parse(text)
        except ParameterParsingError:
            continue  # a bad row is validation's to report
        if source.type is SourceType.FOLDER:
            studies.setdefault(study_key(source), "folder")
        elif source.type is SourceType.FILESELECTION:
            studies.setdefault(study_key(source), "selection")
    return studies


def folder_key(folder: Path, mapping_folder: Path) -> tuple[str, str]:
    """The study_key a folder row for `folder` would have in a mapping in `mapping_folder`."""
    try:
        relative = folder.absolute().relative_to(mapping_folder.absolute())
        value = PurePosixPath(*relative.parts).as_posix() if relative.parts else "."
    except ValueError:
        value = str(folder.absolute())
    return study_key(SourceIdentifier(SourceType.FOLDER, value))


def summarize_folder(
    folder: Path,
    in_mapping: InMapping | None = None,
    *,
    stop: Callable[[], bool] = lambda: False,
) -> FolderSummary | None:
    """Count the folder's files and DICOM files (the scan's check) and read one header.

    Returns None when `stop()` turned true (the user moved on): asked before each listing
    and every `_STOP_EVERY` files, as each check is a round trip on a share. An unreadable
    subfolder is left out; an unreadable file counts as a file, not as DICOM (as the scan).
    """
    base = str(folder)
    files = dicom = 0
    first_dicom: str | None = None
    capped = False
    todo: deque[str] = deque([""])
    while todo and files < MAX_FILES:
        if stop():
            return None
        names, subdirs, _error = _list_dir(base, todo.popleft())
        todo.extend(sorted(subdirs))
        names = sorted(names)
        capped = len(names) > MAX_FILES - files
        for rel in names[: MAX_FILES - files]:
            files += 1
            if files % _STOP_EVERY == 0 and stop():
                return None
            if is_dicom(Path(base, rel)):
                dicom += 1
                first_dicom = first_dicom or rel
    capped = capped or bool(todo)
    study = _read_study(Path(base, first_dicom)) if first_dicom else (None, None, None)
    return FolderSummary(files, dicom, capped, *study, in_mapping=in_mapping)


def _read_study(path: Path) -> tuple[str | None, str | None, str | None]:
    """(modality, study date, study description) of one file; Nones if it cannot be read."""
    import pydicom  # imported when a header is first read: the dashboard starts without it
    from pydicom.errors import InvalidDicomError

    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=_STUDY_TAGS)
        return (
            _text(ds.get("Modality")),
            _text(ds.get("StudyDate")),
            _text(ds.get("StudyDescription")),
        )
    except (OSError, InvalidDicomError, ValueError, TypeError, AttributeError, EOFError):
        return None, None, None


def _text(value: object) -> str | None:
    """A header value as one short line (control characters out), or None when empty."""
    if value is None:
        return None
    text = " ".join(str(value).split())[:64]
    return text or None
