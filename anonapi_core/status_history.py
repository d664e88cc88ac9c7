"""Status changes of a batch's jobs as the client saw them while polling: `.anonbatch.statuses`.

The IDIS API keeps no history of a job, so the client writes down what it observes: one JSON
line when a job is first seen and whenever its status differs from the last one written (never
one per poll). A dashboard polling 10,000 jobs every few seconds compares against an in-memory
copy of the last statuses, read again from the file only when another process wrote to it.
Compaction keeps the newest PER_JOB changes of each job, so a job's creation-era statuses make
way for newer ones before another job's last status is lost.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from anonapi_core.record_file import Record, append_records, read_records, timestamp

STATUSES_NAME = ".anonbatch.statuses"
MAX_BYTES = 4_000_000
"""About 60,000 changes; compaction keeps the newest half."""
PER_JOB = 10


@dataclass(frozen=True)
class StatusSeen:
    """A job's status, first observed at `time`."""

    job_id: str
    status: str
    time: str


def statuses_file(folder: Path) -> Path:
    return Path(folder) / STATUSES_NAME


_lock = threading.Lock()
_last_seen: dict[Path, tuple[tuple[int, int] | None, dict[str, str]]] = {}
"""Per statuses file: its size and mtime when last read or written, and job id -> status."""


def observe_statuses(folder: Path, statuses: Mapping[str, str]) -> list[StatusSeen]:
    """Record each job (id -> status) whose status is not the last one recorded; return those.

    OSError propagates (a read-only batch folder): the caller decides whether that matters.
    """
    path = statuses_file(folder)
    key = path.absolute()
    with _lock:
        stamp, last = _last_seen.get(key, (None, None))
        if last is None or stamp != _stamp(path):
            last = {seen.job_id: seen.status for seen in read_statuses(folder)}
        when = timestamp()
        changed = [
            StatusSeen(str(job_id), str(status), when)
            for job_id, status in statuses.items()
            if last.get(str(job_id)) != status
        ]
        if changed:
            append_records(
                path,
                [{"job_id": s.job_id, "status": s.status, "time": s.time} for s in changed],
                max_bytes=MAX_BYTES,
                prune=_newest_per_job,
            )
            last.update((s.job_id, s.status) for s in changed)
        _last_seen[key] = (_stamp(path), last)
    return changed


def read_statuses(folder: Path, job_id: str | None = None) -> list[StatusSeen]:
    """The recorded statuses (of one job, if given), oldest first."""
    seen = []
    for data in read_records(statuses_file(folder), job_id):
        try:
            record = StatusSeen(str(data["job_id"]), str(data["status"]), str(data["time"]))
        except (KeyError, TypeError):
            continue
        if job_id is None or record.job_id == job_id:
            seen.append(record)
    return seen


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns


def _newest_per_job(records: list[Record]) -> list[Record]:
    """The newest PER_JOB records of each job, oldest first."""
    counts: Counter[object] = Counter()
    kept = []
    for record in reversed(records):
        counts[record.get("job_id")] += 1
        if counts[record.get("job_id")] <= PER_JOB:
            kept.append(record)
    kept.reverse()
    return kept
