r"""Completeness of finished jobs: the files a job should have had against what it reports.

A DONE job only says the server stopped without an error. What it should have processed is known
elsewhere: the entries of its file selection, the files in its source folder (when the share is
reachable from this machine), the instances the PACS holds for its study. Against that stand the
job's own counters (downloaded, processed, quarantined, skipped) and, when its output folder is
reachable, the files in it. Any difference is a mismatch a data manager must see before sending
the data on.

Shares are reachable on Windows as they are (`\\server\share\...` opens directly). Elsewhere a
share is reachable when `ANONAPI_SHARE_ROOTS` maps it to a local folder, e.g.
`\\server\share=/mnt/share;\\other\x=/srv/x`. Files are only counted, never opened, and a UNC path
never leads outside its mapped folder.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from anonapi_core.exceptions import AnonAPIError, UNCPathError
from anonapi_core.paths import is_unc, normalise_unc

if TYPE_CHECKING:
    from anonapi_core.models import JobInfo

SHARE_ROOTS_ENV_VAR = "ANONAPI_SHARE_ROOTS"
DONE = "DONE"
ERROR = "ERROR"
ACCESSION_PREFIX = "accession_number:"
UID_PREFIX = "study_instance_uid:"


@dataclass(frozen=True)
class Expected:
    """How many files a job should have had, and what says so (None: nothing could tell)."""

    count: int | None
    basis: str


@dataclass
class Completeness:
    """One job's verdict: complete, a mismatch (with why), or not finished yet."""

    job_id: str
    status: str
    expected: Expected
    downloaded: int | None = None
    processed: int | None = None
    quarantined: int | None = None
    skipped: int | None = None
    written: int | None = None  # files in the output folder, when reachable
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.status in (DONE, ERROR)

    @property
    def complete(self) -> bool:
        """True for a DONE job whose counts all agree."""
        return self.status == DONE and not self.problems

    @property
    def mismatch(self) -> bool:
        """True for a finished job that is not complete (an ERROR job is never complete)."""
        return self.finished and not self.complete

    def summary(self) -> str:
        """One line: `complete`, `not finished (ACTIVE)` or the problems."""
        if not self.finished:
            return f"not finished ({self.status})"
        if self.complete:
            return "complete"
        return "; ".join(self.problems)

    def to_dict(self) -> dict[str, object]:
        return {
            "job_id": self.job_id,
            "status": self.status,
            "expected": self.expected.count,
            "expected_from": self.expected.basis,
            "downloaded": self.downloaded,
            "processed": self.processed,
            "quarantined": self.quarantined,
            "skipped": self.skipped,
            "written": self.written,
            "complete": self.complete,
            "problems": self.problems,
            "notes": self.notes,
        }


def share_roots(text: str | None = None) -> dict[str, Path]:
    r"""`\\host\share` (lower case) -> local folder, from `ANONAPI_SHARE_ROOTS` or `text`."""
    text = os.environ.get(SHARE_ROOTS_ENV_VAR, "") if text is None else text
    roots: dict[str, Path] = {}
    for entry in text.split(";"):
        unc, sep, local = entry.partition("=")
        if sep and is_unc(unc.strip()) and local.strip():
            roots[normalise_unc(unc.strip()).lower()] = Path(local.strip())
    return roots


def local_path(unc: str, roots: Mapping[str, Path]) -> Path | None:
    """The local path of a UNC path, or None when its share is not reachable from here."""
    try:
        clean = normalise_unc(unc)
    except UNCPathError:
        return None
    parts = clean[2:].split("\\")
    root = roots.get(f"\\\\{parts[0]}\\{parts[1]}".lower())
    if root is None:
        if os.name == "nt":
            return Path(clean)
        return None
    local = root.joinpath(*parts[2:])
    real_root = root.resolve()
    real = local.resolve()
    if real != real_root and not real.is_relative_to(real_root):
        return None  # a link out of the share: not ours to count
    return local


def count_files(folder: Path, *, hidden: bool = True) -> int:
    """Files below `folder` (recursively, streamed); all of them as the server lists a source,
    or without hidden ones for an output folder, where a server keeps its own bookkeeping (the
    embedded server's `.anonapi-job.json` marker)."""
    return sum(
        sum(1 for name in files if hidden or not name.startswith("."))
        for _, _, files in os.walk(folder)
    )


def pacs_identifier(job: JobInfo) -> str | None:
    """The `pacs-count` identifier of a PACS job (IDIS sends a bare UID, a prefixed accession)."""
    if job.source_type != "WADO" or not job.source_instance_id:
        return None
    value = job.source_instance_id.strip()
    return value if value.startswith(ACCESSION_PREFIX) else UID_PREFIX + value


def expected_files(
    job: JobInfo, roots: Mapping[str, Path], pacs_counts: Mapping[str, int]
) -> Expected:
    """What the job should have processed, from its file selection, folder or PACS count."""
    identifier = pacs_identifier(job)
    if identifier is not None:
        if identifier in pacs_counts:
            return Expected(pacs_counts[identifier], "instances in the PACS")
        return Expected(None, "PACS count not available")
    kind, sep, unc = (job.source_path or "").partition(":")
    if not sep or kind not in ("folder", "fileselection"):
        kind, unc = "folder", job.source_path or ""
    local = local_path(unc, roots)
    if local is None:
        return Expected(None, "source share not reachable from this machine")
    if kind == "fileselection":
        from anonapi_core.selection import load_selection

        try:
            return Expected(len(load_selection(local).selected_paths), "file selection entries")
        except AnonAPIError:
            return Expected(None, "file selection not readable from this machine")
    if local.is_file():
        return Expected(1, "source file")
    if not local.is_dir():
        return Expected(None, "source folder not found from this machine")
    return Expected(count_files(local), "files in the source folder")


def _int(job: JobInfo, name: str) -> int | None:
    value = getattr(job, name, None)
    if value is None:
        value = (job.model_extra or {}).get(name)
    return value if isinstance(value, int) else None


def reconcile(
    job: JobInfo, roots: Mapping[str, Path], pacs_counts: Mapping[str, int] | None = None
) -> Completeness:
    """Compare what a job should have had with what it reports and what its output holds."""
    result = Completeness(
        job_id=str(job.job_id),
        status=job.status,
        expected=expected_files(job, roots, pacs_counts or {}),
        downloaded=_int(job, "files_downloaded"),
        processed=_int(job, "files_processed"),
        quarantined=_int(job, "files_quarantined"),
        skipped=_int(job, "files_skipped"),
    )
    if not result.finished:
        return result
    if job.status == ERROR:
        result.problems.append(f"ended in ERROR: {job.error_text or '(no error text)'}")
        return result
    expected, downloaded, processed = result.expected.count, result.downloaded, result.processed
    if expected is None:
        result.notes.append(f"expected count unknown: {result.expected.basis}")
    elif downloaded != expected:
        result.problems.append(
            f"expected {expected} files ({result.expected.basis}), downloaded {downloaded or 0}"
        )
    if downloaded is not None and processed != downloaded:
        result.problems.append(f"downloaded {downloaded} files, processed {processed or 0}")
    held_back = (result.quarantined or 0) + (result.skipped or 0)
    if result.quarantined:
        result.notes.append(f"{result.quarantined} quarantined")
    if result.skipped:
        result.notes.append(f"{result.skipped} skipped (not DICOM)")
    output = (
        local_path(f"{job.destination_path}\\{job.job_id}", roots) if job.destination_path else None
    )
    if output is not None and output.is_dir():
        result.written = count_files(output, hidden=False)
        should = (processed or 0) - held_back
        if result.written != should:
            result.problems.append(
                f"output folder holds {result.written} files, {should} were written "
                f"({processed or 0} processed - {held_back} quarantined or skipped)"
            )
    else:
        result.notes.append("output folder not reachable from this machine")
    return result
