"""Batch actions: the status of every job in a folder's `.anonbatch`, and the ids to act on.

A batch lives in a folder and names the server its jobs are on; these actions always talk to that
server, not the active one, because the jobs exist nowhere else.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from anonapi_core.batch import JobBatch, load_batch
from anonapi_core.exceptions import AnonAPIError
from anonapi_core.job_fields import RUNNING, JobRecord, JobStatus
from anonapi_core.server_address import Server
from anonapi_core.settings import Settings

# The wire models and the client cost ~150 ms to import; an empty batch needs neither.
if TYPE_CHECKING:
    from anonapi_core.client import JobResult
    from anonapi_core.models import JobInfo
    from anonapi_core.triage import ErrorGroup

log = logging.getLogger(__name__)

NOT_FOUND = "NOT_FOUND"


class NoSuchGroup(AnonAPIError):
    """An error group asked for by id or number is not among the batch's failed jobs."""


@dataclass
class BatchStatus:
    """A batch, the jobs the server returned for it (server order), and the ids it lacks.

    The jobs are held as records (`job_fields`); the wire models are built only when `jobs`
    is first read, since printing a status table of thousands of jobs needs none of them.
    """

    batch: JobBatch
    records: list[JobRecord]
    not_found: list[str]

    @cached_property
    def jobs(self) -> list[JobInfo]:
        """The jobs as wire models."""
        from anonapi_core.models import JobInfo

        return [JobInfo.model_validate(record) for record in self.records]

    def counts(self) -> dict[str, int]:
        """Status -> count, in order of first appearance, then NOT_FOUND (always present)."""
        counts: dict[str, int] = {}
        for record in self.records:
            status = record["status"]
            counts[status] = counts.get(status, 0) + 1
        counts[NOT_FOUND] = len(self.not_found)
        return counts

    def with_status(self, *statuses: JobStatus | str) -> list[JobInfo]:
        """The jobs whose status is one of `statuses`."""
        wanted = {str(s) for s in statuses}
        return [job for job in self.jobs if job.status in wanted]

    @property
    def is_running(self) -> bool:
        """True while any job is still ACTIVE or UPLOADED, i.e. a watch should keep polling."""
        return any(record["status"] in RUNNING for record in self.records)


def batch_status(settings: Settings, folder: Path, *, extended: bool = False) -> BatchStatus:
    """Fetch every job of the batch in `folder` from the batch's own server."""
    batch = load_batch(folder)
    ids = [str(i) for i in batch.job_ids]
    records: list[JobRecord] = []
    if ids:
        from anonapi_core.actions.jobs import fetch_job_records

        records = fetch_job_records(settings, batch.server, ids, extended=extended)
    returned = {str(record["job_id"]) for record in records}
    result = BatchStatus(batch, records, [i for i in ids if i not in returned])
    record_seen_statuses(folder, result)
    return result


def record_seen_statuses(folder: Path, status: BatchStatus) -> None:
    """Write down the status changes this poll shows, for the jobs' audit timelines.

    A colleague's batch in a folder this user cannot write still shows its status: the
    record is what the client saw, not something a status read may fail over.
    """
    from anonapi_core.status_history import observe_statuses

    seen = {str(record["job_id"]): str(record["status"]) for record in status.records}
    seen.update(dict.fromkeys(status.not_found, NOT_FOUND))
    with contextlib.suppress(OSError):
        observe_statuses(folder, seen)


def batch_job_ids(
    settings: Settings, folder: Path, *statuses: JobStatus | str
) -> tuple[list[str], Server]:
    """Ids of the batch's jobs now in one of `statuses`, and the batch's server.

    With no `statuses` it is every recorded id, without asking the server: resetting or
    cancelling a whole batch must also reach the jobs the server does not list.
    """
    if not statuses:
        batch = load_batch(folder)
        return [str(i) for i in batch.job_ids], batch.server
    status = batch_status(settings, folder)
    return [str(job.job_id) for job in status.with_status(*statuses)], status.batch.server


def batch_errors(settings: Settings, folder: Path) -> tuple[list[ErrorGroup], BatchStatus]:
    """The batch's failed jobs grouped by error signature (largest group first), and the status
    they were read from (for the totals a report shows beside them)."""
    from anonapi_core.triage import group_errors

    status = batch_status(settings, folder)
    return group_errors(status.jobs), status


def error_group(settings: Settings, folder: Path, wanted: str) -> tuple[ErrorGroup, Server]:
    """One group of the batch's failed jobs, by id or number (as `anon batch errors` lists
    them); raises NoSuchGroup, naming the groups there are, when there is no such group."""
    from anonapi_core.triage import find_group

    groups, status = batch_errors(settings, folder)
    group = find_group(groups, wanted)
    if group is None:
        there = ", ".join(g.id for g in groups) or "none: no job of the batch is in ERROR"
        raise NoSuchGroup(f"No error group '{wanted}' in the batch in {folder} (groups: {there})")
    return group, status.batch.server


def holds_any(folder: Path, server: Server, job_ids: Sequence[str]) -> bool:
    """True when the batch in `folder` is on `server` and holds one of `job_ids`: resetting
    its jobs by id (`anon job reset 12`) belongs in its action log as much as `batch reset`."""
    from anonapi_core.batch import has_batch
    from anonapi_core.settings import normalise_url

    try:
        batch = load_batch(folder) if has_batch(folder) else None
    except AnonAPIError:
        return False  # a damaged batch is reported by the commands that use it, not here
    return (
        batch is not None
        and normalise_url(batch.server.url) == normalise_url(server.url)
        and not set(batch.job_ids).isdisjoint(job_ids)
    )


def act_on_batch(
    settings: Settings,
    folder: Path,
    verb: Literal["reset", "cancel"],
    server: Server,
    job_ids: Sequence[str],
) -> list[JobResult[None]]:
    """Reset or cancel jobs of the batch in `folder` and add what happened to its action log.

    Recorded after the server answered, so the log says what happened, not what was asked. A
    log that cannot be written is warned about; the results stand, since the jobs were changed.
    """
    from anonapi_core.action_log import action_log, record_action
    from anonapi_core.actions.jobs import cancel_jobs, reset_jobs

    results = (reset_jobs if verb == "reset" else cancel_jobs)(settings, server, job_ids)
    try:
        record_action(folder, settings.user_name, verb, server.name, results)
    except OSError as e:
        log.warning(
            "this %s is not in the action log %s: %s", verb, action_log(folder), e.strerror or e
        )
    return results
