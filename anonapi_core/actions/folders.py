"""What a study folder holds, for the folder picker: one folder at a time, in a worker."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from anonapi_core.folder_summary import FolderSummary, folder_key, mapped_studies, summarize_folder
from anonapi_core.mapping import Mapping


def folder_summary(
    mapping: Mapping, folder: Path, *, stop: Callable[[], bool] = lambda: False
) -> FolderSummary | None:
    """Counts, one header's study and whether `mapping` already holds the folder (as a folder
    row or as the file selection in it); None when `stop()` turned true while counting.

    Relative sources are read against the mapping's own folder, as `add_study_folders`
    writes them; a mapping not yet saved (no rows) holds nothing.
    """
    base = mapping.path.parent if mapping.path else folder
    held = mapped_studies(row.get("source", "") for row in mapping.rows)
    return summarize_folder(folder, held.get(folder_key(folder, base)), stop=stop)
