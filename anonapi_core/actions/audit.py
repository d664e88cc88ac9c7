"""Audit actions: a job's timeline and the batch's action log, read from the records beside it.

Neither asks the server anything: they show what this client (and colleagues working in the
same folder) recorded, so they work offline and on a server that has since lost the jobs.
"""

from __future__ import annotations

from pathlib import Path

from anonapi_core.action_log import ActionEntry, read_actions
from anonapi_core.batch import load_batch
from anonapi_core.exceptions import AnonAPIError
from anonapi_core.timeline import JobTimeline, job_timeline


class NothingRecorded(AnonAPIError):
    """A job the batch does not hold and no record names."""


def job_history(folder: Path, job_id: str) -> JobTimeline:
    """The timeline of one job of the batch in `folder`, oldest event first.

    NoBatchDefinedError without a batch; NothingRecorded for a job that is neither in the
    batch nor in any record (a typo, or the wrong folder). A job of the batch with no records
    (a batch older than these records) has an empty timeline.
    """
    batch = load_batch(folder)
    timeline = job_timeline(folder, job_id)
    if not timeline.events and str(job_id) not in batch.job_ids:
        raise NothingRecorded(
            f"Job {job_id} is not in the batch in {Path(folder).resolve()} and nothing is "
            "recorded about it there"
        )
    return timeline


def batch_log(folder: Path, limit: int = 200) -> list[ActionEntry]:
    """The newest `limit` resets and cancels of the batch in `folder`, oldest first, with
    each job's outcome; NoBatchDefinedError without a batch."""
    load_batch(folder)
    return read_actions(folder, limit)
