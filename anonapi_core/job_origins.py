"""Where each job of a batch came from: `.anonbatch.origins`, written as jobs are created.

One JSON line per created job: its id, who created it, when, and from which mapping file (its
name, not its folder) and row. The row is the line of the mapping file, which is the row number
Excel shows for it. Never the source identifier, patient id or pseudonym: the record answers
"who made this job and from what", and the mapping row holds the rest for whoever may read it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from anonapi_core.record_file import append_records, read_records, timestamp

ORIGINS_NAME = ".anonbatch.origins"
MAX_BYTES = 4_000_000
"""About 35,000 jobs; compaction keeps the newest half."""


@dataclass(frozen=True)
class JobOrigin:
    """Who created a job, when, and from which mapping row."""

    job_id: str
    user: str
    time: str
    mapping: str
    """The mapping file's name only (`anon_mapping.csv`): folder names can name a study."""
    row: int | None

    def describe(self) -> str:
        """`created by z123 from anon_mapping.csv row 12`."""
        where = f"{self.mapping} row {self.row}" if self.row is not None else self.mapping
        return f"created by {self.user} from {where}"


def origins_file(folder: Path) -> Path:
    return Path(folder) / ORIGINS_NAME


def new_origin(job_id: str, user: str, mapping_path: Path, row: int | None) -> JobOrigin:
    """The origin of a job created just now from `mapping_path` (only its name is kept)."""
    return JobOrigin(str(job_id), user, timestamp(), Path(mapping_path).name, row)


def record_origins(folder: Path, origins: Sequence[JobOrigin]) -> None:
    """Append the origins of jobs just created (one synced write for all of them)."""
    append_records(
        origins_file(folder),
        [
            {"job_id": o.job_id, "user": o.user, "time": o.time, "mapping": o.mapping, "row": o.row}
            for o in origins
        ],
        max_bytes=MAX_BYTES,
    )


def read_origins(folder: Path, job_id: str | None = None) -> dict[str, JobOrigin]:
    """Job id -> its origin (the newest record wins; of one job, if given); damaged records are
    skipped."""
    origins: dict[str, JobOrigin] = {}
    for data in read_records(origins_file(folder), job_id):
        try:
            row = data.get("row")
            origin = JobOrigin(
                str(data["job_id"]),
                str(data["user"]),
                str(data["time"]),
                str(data["mapping"]),
                int(row) if row is not None else None,
            )
        except (KeyError, TypeError, ValueError):
            continue
        if job_id is None or origin.job_id == job_id:
            origins[origin.job_id] = origin
    return origins
