"""Create jobs from a mapping, safely: validate everything first, journal every id, resume.

The original created jobs one by one and saved their ids only at the end, so Ctrl-C, a kill or
a server going away lost the ids of the jobs already created, and a re-run created them again.
Here each created id is appended to the folder's creation journal (synced to disk) the moment
the server answers, keyed by a hash of the row's job parameters; a re-run skips the rows the
journal already has, and the journal is folded into `.anonbatch` at the end, also after an
interruption.

One gap is left by any client of an API without idempotency keys: a kill -9 after the server
created a job but before its id reached the journal. So every job carries its own key: its
description ends in `[anonapi:<row key>]`. A run leaves a marker file while it creates, holding
the newest job id on the server when it started; if the next run finds it, it reads every job
with a newer id (in chunks: no window of "the latest 100" that more than 100 newer jobs would
push ours out of), and records the user's jobs whose key belongs to a row not journalled yet
instead of creating them again. A run killed after the last id was journalled but before the
batch was written is healed too: the next command folds the journal into the batch.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from anonapi_core.atomic import atomic_write_text
from anonapi_core.batch import CreationJournal, JobBatch, has_batch, load_batch
from anonapi_core.client import AnonClient
from anonapi_core.exceptions import (
    AnonAPIError,
    JobSetValidationError,
    MapperError,
    PersistenceError,
)
from anonapi_core.jobrequests import JobRequest, filter_jobs, mapping_problems, resolve_jobs
from anonapi_core.mapping import load_mapping
from anonapi_core.models import Server
from anonapi_core.settings import Settings, normalise_url

log = logging.getLogger(__name__)

RUN_MARKER_NAME = ".anonbatch.creating"
"""Present while a run creates jobs; left behind only by a run that was killed."""


class MappingValidationError(JobSetValidationError):
    """Rows of a mapping that would not make valid jobs; `problems` has one line per problem."""

    def __init__(self, mapping_path: Path, problems: list[str]):
        self.problems = problems
        super().__init__(
            f"{len(problems)} problem{'' if len(problems) == 1 else 's'} in mapping "
            f"{mapping_path}, no jobs created: " + "; ".join(problems)
        )


@dataclass(frozen=True)
class PlannedJob:
    """A job to create: its journal key and what to send."""

    key: str
    request: JobRequest


@dataclass
class CreationPlan:
    """Everything decided before the first job is created (what a confirmation shows)."""

    mapping_path: Path
    folder: Path
    server: Server
    jobs: list[PlannedJob]
    already_created: dict[str, str]
    """Row key -> job id of the selected rows a previous run created (skipped now)."""

    @property
    def projects(self) -> list[str]:
        return sorted({j.request.project for j in self.jobs})

    @property
    def destinations(self) -> list[str]:
        return sorted({j.request.destination_path for j in self.jobs})


@dataclass(frozen=True)
class CreatedJob:
    """A job the server created; its id is in the journal already when this exists."""

    key: str
    job_id: str
    request: JobRequest


@dataclass(frozen=True)
class FailedJob:
    """A row the server refused: not journalled, so the next run tries it again."""

    key: str
    request: JobRequest
    reason: str
    """The server's own reason (or the connection's), as the client reported it."""


@dataclass
class CreationReport:
    """What a run did, per planned job, in mapping order; `ok` decides the exit code."""

    plan: CreationPlan
    dry_run: bool = False
    created: list[CreatedJob] = field(default_factory=list)
    failed: list[FailedJob] = field(default_factory=list)
    not_attempted: list[PlannedJob] = field(default_factory=list)
    batch: JobBatch | None = None
    batch_error: str | None = None

    @property
    def ok(self) -> bool:
        """True when every planned job exists now and its id is in the batch."""
        return not (self.failed or self.not_attempted or self.batch_error)


def plan_jobs(
    settings: Settings,
    mapping_path: Path,
    folder: Path,
    *,
    filter: Iterable[str] = (),
    recover: bool = True,
) -> CreationPlan:
    """Load and validate every row, apply `filter`, and leave out rows already created.

    After a killed run, jobs it created whose ids never reached the journal are found on the
    server and journalled first (see the module docstring), unless `recover` is False (a dry
    run writes nothing). Raises MappingValidationError
    naming every bad row and column; MapperError if the filter matches nothing;
    PersistenceError if the folder's batch is for another server.
    """
    server = settings.active_server()
    mapping = load_mapping(mapping_path)
    problems = mapping_problems(mapping, settings.job_default_parameters, unused_options=False)
    if problems:
        raise MappingValidationError(mapping_path, [str(p) for p in problems])
    requests = resolve_jobs(mapping, settings.job_default_parameters)
    # Validation refuses duplicate rows, so the row key identifies a row within its mapping.
    keyed = [PlannedJob(r.row_key, r) for r in requests]
    wanted = list(filter)
    if wanted:
        chosen = set(map(id, filter_jobs(requests, wanted)))
        keyed = [p for p in keyed if id(p.request) in chosen]
        if not keyed:
            raise MapperError(
                f"No rows of {mapping_path} have a pseudonym matching any of {', '.join(wanted)}"
            )
    if has_batch(folder):
        batch = load_batch(folder)
        if normalise_url(batch.server.url) != normalise_url(server.url):
            raise PersistenceError(
                f"The batch in {Path(folder).absolute()} is for server {batch.server}, but the "
                f"active server is {server}; create the jobs in another folder or activate "
                f"'{batch.server.name}'"
            )
    journal = CreationJournal(folder, server)
    marker = Path(folder) / RUN_MARKER_NAME
    if recover and marker.exists():
        _recover_unjournalled(settings, server, journal, keyed, Path(mapping_path))
        marker.unlink(missing_ok=True)  # every job of the killed run is journalled now
    if recover and journal.pending():
        journal.fold_into_batch(folder)  # a run killed before it wrote the batch
    done = journal.created()
    return CreationPlan(
        mapping_path=Path(mapping_path),
        folder=Path(folder),
        server=server,
        jobs=[p for p in keyed if p.key not in done],
        already_created={p.key: done[p.key] for p in keyed if p.key in done},
    )


MARKER_PREFIX = "[anonapi:"
_KEY_CHARS = 16  # of the row key's hex digest: 64 bits, no collision among one user's jobs


def with_idempotency_key(params: dict[str, str], key: str) -> dict[str, str]:
    """`params` with the row's key at the end of the description, where recovery finds it."""
    tag = f"{MARKER_PREFIX}{key[:_KEY_CHARS]}]"
    description = params.get("description", "")
    return {**params, "description": f"{description} {tag}" if description else tag}


def idempotency_key(description: str | None) -> str | None:
    """The key `with_idempotency_key` put in a job's description, if any."""
    if not description or not description.endswith("]"):
        return None
    _, found, key = description.rpartition(MARKER_PREFIX)
    return key[:-1] if found else None


# Ids fetched per get_jobs_list call while recovering; the loop ends at the newest job.
RECOVERY_CHUNK = 200
MAX_RECOVERY_SPAN = 200_000


def _recover_unjournalled(
    settings: Settings,
    server: Server,
    journal: CreationJournal,
    planned: list[PlannedJob],
    mapping_path: Path,
) -> None:
    """Journal the jobs a killed run created but did not record (see the module docstring),
    and their origins (timed now: the killed run never got to say when)."""
    try:
        marker = json.loads((journal.path.parent / RUN_MARKER_NAME).read_text(encoding="utf-8"))
        after = int(marker["after_job_id"])
    except (OSError, ValueError, KeyError, TypeError):
        return  # no usable marker: nothing to bound the search by, so adopt nothing
    known = set(journal.job_ids())
    done = journal.created()
    waiting = {p.key[:_KEY_CHARS]: p for p in planned if p.key not in done}
    if not waiting:
        return
    adopted: list[CreatedJob] = []
    with AnonClient.from_settings(settings, server) as client:
        newest = max((job.job_id for job in client.get_jobs()), default=after)
        last = min(newest, after + MAX_RECOVERY_SPAN)
        for start in range(after + 1, last + 1, RECOVERY_CHUNK):
            ids = [str(i) for i in range(start, min(start + RECOVERY_CHUNK, last + 1))]
            for job in client.get_jobs_list([i for i in ids if i not in known], extended=True):
                if job.user_name != settings.user_name:
                    continue
                match = waiting.pop(idempotency_key(job.description) or "", None)
                if match is not None:
                    journal.record(match.key, str(job.job_id))
                    adopted.append(CreatedJob(match.key, str(job.job_id), match.request))
            if not waiting:
                break
    _record_origins(settings, journal.path.parent, mapping_path, adopted)


def _write_marker(client: AnonClient, folder: Path) -> Path:
    """Record that a run is creating jobs, and the newest job id on the server before it."""
    newest = max((job.job_id for job in client.get_jobs()), default=0)
    marker = folder / RUN_MARKER_NAME
    atomic_write_text(
        marker, json.dumps({"server": client.server.url, "after_job_id": newest}) + "\n"
    )
    return marker


def execute_plan(
    settings: Settings,
    plan: CreationPlan,
    *,
    stop_on_error: bool = True,
    on_created: Callable[[CreatedJob], None] | None = None,
    on_failed: Callable[[FailedJob], None] | None = None,
) -> CreationReport:
    """Create the planned jobs over one pooled connection, a few at a time.

    Each id is journalled as soon as the server answers. The first job is created alone, then
    the rest concurrently. With `stop_on_error`, a failure stops new creations (in-flight ones
    finish and are recorded). Callbacks run in the
    calling thread. The journal is folded into the batch at the end, also on Ctrl-C.
    """
    report = CreationReport(plan)
    journal = CreationJournal(plan.folder, plan.server)
    journal_lock = threading.Lock()
    stop = threading.Event()

    def create(planned: PlannedJob) -> CreatedJob | FailedJob | None:
        if stop.is_set():
            return None
        try:
            params = planned.request.create_job_params()
            info = client.create_job(with_idempotency_key(params, planned.key))
        except AnonAPIError as e:
            if stop_on_error:
                stop.set()
            return FailedJob(planned.key, planned.request, str(e))
        with journal_lock:
            journal.record(planned.key, str(info.job_id))
        return CreatedJob(planned.key, str(info.job_id), planned.request)

    outcomes: dict[str, CreatedJob | FailedJob] = {}
    try:
        with AnonClient.from_settings(settings, plan.server) as client:
            marker = _write_marker(client, plan.folder)
            pool = ThreadPoolExecutor(max_workers=client.max_concurrency)
            try:
                # The first job goes alone: a problem every row shares (a refused project or
                # destination, a wrong token) then shows once instead of once per row.
                pending: set[Future] = {pool.submit(create, p) for p in plan.jobs[:1]}
                rest = plan.jobs[1:]
                while pending:
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    created: list[CreatedJob] = []
                    for future in finished:
                        outcome = future.result()
                        if outcome is None:
                            continue
                        outcomes[outcome.key] = outcome
                        if isinstance(outcome, CreatedJob):
                            created.append(outcome)
                            if on_created:
                                on_created(outcome)
                        elif isinstance(outcome, FailedJob) and on_failed:
                            on_failed(outcome)
                    _record_origins(settings, plan.folder, plan.mapping_path, created)
                    pending |= {pool.submit(create, p) for p in rest}
                    rest = []
            finally:
                stop.set()
                pool.shutdown(wait=True, cancel_futures=True)
                # Every request sent has been answered and journalled, also after Ctrl-C:
                # only a killed run leaves the marker behind.
                marker.unlink(missing_ok=True)
    finally:
        _fold(report, journal)
    for planned in plan.jobs:
        outcome = outcomes.get(planned.key)
        if isinstance(outcome, CreatedJob):
            report.created.append(outcome)
        elif isinstance(outcome, FailedJob):
            report.failed.append(outcome)
        else:
            report.not_attempted.append(planned)
    return report


def _record_origins(
    settings: Settings, folder: Path, mapping_path: Path, created: list[CreatedJob]
) -> None:
    """Note who created these jobs from which mapping row, for the jobs' audit timeline.

    A folder that refuses the write loses only this record (with a warning): the ids are
    journalled already, and a creation run is not stopped halfway for its audit trail.
    """
    if not created:
        return
    from anonapi_core.job_origins import new_origin, origins_file, record_origins

    origins = [
        new_origin(c.job_id, settings.user_name, mapping_path, c.request.line) for c in created
    ]
    try:
        record_origins(folder, origins)
    except OSError as e:
        log.warning(
            "who created jobs from which row not recorded in %s: %s",
            origins_file(folder),
            e.strerror or e,
        )


def _fold(report: CreationReport, journal: CreationJournal) -> None:
    """Merge every journalled id into `.anonbatch`; a failure is reported, never raised, since
    the ids stay safe in the journal and the next run folds them."""
    if not journal.entries():
        return
    try:
        report.batch = journal.fold_into_batch(report.plan.folder)
    except AnonAPIError as e:
        report.batch_error = str(e)


def create_jobs_from_mapping(
    settings: Settings,
    mapping_path: Path,
    folder: Path,
    *,
    dry_run: bool = False,
    filter: Iterable[str] = (),
    stop_on_error: bool = True,
    on_created: Callable[[CreatedJob], None] | None = None,
) -> CreationReport:
    """Plan and (unless `dry_run`, which writes nothing) create the jobs of a mapping."""
    plan = plan_jobs(settings, mapping_path, folder, filter=filter, recover=not dry_run)
    if dry_run:
        return CreationReport(plan, dry_run=True)
    return execute_plan(settings, plan, stop_on_error=stop_on_error, on_created=on_created)
