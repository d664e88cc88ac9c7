"""Worker processes: claim ACTIVE jobs, read their source, de-identify, publish, report.

A job moves ACTIVE -> (files_downloaded counted) -> UPLOADED -> (files_processed counted) -> DONE,
or ERROR with a sentence its owner can act on. Output is built in a hidden folder next to the
destination and renamed to `<destination>\\<job_id>` only at the end, so a crash never leaves a job
DONE with partial output; a crashed job's lease expires and it runs again from the start.

A worker learns it lost its job (reset, cancel, or its lease taken over) when a write conditioned
on its attempt is refused; it then drops its partial output and goes back to claiming.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import shutil
import signal
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pydicom
import pydicom.filereader
from pydicom.errors import InvalidDicomError
from sqlalchemy.exc import InterfaceError, OperationalError

from anonapi_core.models import JobStatus
from anonapi_server.hosts import WorkerStats
from anonapi_server.shares import PathRefused, ShareTable, UNCPath, parse_unc
from anonapi_server.source_paths import SourceFile, list_source_files
from anonapi_server.store import Claim, Project, Store

log = logging.getLogger(__name__)

PROGRESS_INTERVAL = 0.25  # seconds between progress writes: live counters without a write per file
NO_PACS = "no PACS configured for IDC_WADO"
# What a lost database connection raises (a restart, a network cut); SQLite's "locked" too.
DATABASE_AWAY = (OperationalError, InterfaceError)


class AttemptLost(Exception):
    """This worker no longer owns the job's current attempt."""


class JobFailed(Exception):
    """The job ends in ERROR with this message."""


def opt_out_message(patient_id: str) -> str:
    return f'Patient "{patient_id}" does not want his or her data to be used for research'


def pseudonym(secret: bytes, patient_id: str) -> str:
    """A stable pseudonym per project and patient, for jobs created without one."""
    digest = hmac.new(secret, patient_id.encode(), hashlib.sha256).hexdigest()
    return f"ANON{digest[:12].upper()}"


def read_patient_id(path: Path) -> str | None:
    """PatientID of a DICOM file, or None for anything that is not DICOM.

    A file that cannot be read raises OSError: its patient would go unchecked for opt-out, and a
    later read that works would write it.
    """
    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=["PatientID"])
    except (InvalidDicomError, ValueError, EOFError):
        return None
    value = ds.get("PatientID")
    return str(value) if value is not None else ""


class Heartbeat(threading.Thread):
    """Renews the lease of a claimed job until stopped; flags when the attempt is lost."""

    def __init__(self, store: Store, claim: Claim, lease_seconds: float):
        super().__init__(daemon=True, name=f"heartbeat-{claim.job_id}")
        self.store, self.claim, self.lease_seconds = store, claim, lease_seconds
        self.lost = threading.Event()
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(self.lease_seconds / 3):
            try:
                if not self.store.renew_lease(self.claim, self.lease_seconds):
                    self.lost.set()
                    return
            except Exception:  # a busy database: try again at the next beat
                log.exception("lease renewal of job %s failed", self.claim.job_id)

    def stop(self) -> None:
        self._done.set()
        self.join()


@dataclass
class Progress:
    """Counters of one attempt, written to the store at most every PROGRESS_INTERVAL."""

    store: Store
    claim: Claim
    heartbeat: Heartbeat
    shutdown: threading.Event
    counts: dict[str, int] = field(default_factory=dict)
    _last: float = 0.0

    def count(self, name: str) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1

    def add(self, name: str) -> None:
        """Count one file and write the counters if the last write is long enough ago."""
        self.count(name)
        self.flush(force=False)

    def flush(self, force: bool = True, **extra: Any) -> None:
        if self.heartbeat.lost.is_set() or self.shutdown.is_set():
            raise AttemptLost
        now = time.monotonic()
        if not force and now - self._last < PROGRESS_INTERVAL:
            return
        self._last = now
        # Every write also renews the lease: the last one, just before the output is published,
        # leaves a whole lease for the rename, so a worker that lost the job (its attempt taken
        # over while it was cut off) learns it here and never publishes over the new attempt.
        lease = {"lease_expires": time.time() + self.heartbeat.lease_seconds}
        if not self.store.update_claimed(self.claim, **self.counts, **lease, **extra):
            raise AttemptLost


class Worker:
    """One worker process's loop. Keeps one de-identification engine per project."""

    def __init__(
        self,
        store: Store,
        worker_id: str,
        lease_seconds: float,
        shutdown: threading.Event,
        stats: WorkerStats | None = None,
    ):
        self.store = store
        self.worker_id = worker_id
        self.lease_seconds = lease_seconds
        self.shutdown = shutdown
        self.stats = stats
        self._engines: dict[tuple[str, bytes, frozenset[str]], Any] = {}

    def run_forever(self, poll_seconds: float = 0.2) -> None:
        while not self.shutdown.is_set():
            try:
                worked = self.run_one()
            except DATABASE_AWAY as e:
                # The database is away (restarted, network cut): the job, if any was claimed,
                # comes back after its lease; wait and claim again on a fresh connection.
                log.warning("database unavailable (%s); retrying", type(e).__name__)
                worked = False
            if not worked:
                if self.stats:
                    self.stats.maybe_beat()
                self.shutdown.wait(poll_seconds)

    def run_one(self) -> bool:
        """Claim and process one job; False when there was nothing to claim."""
        started = time.perf_counter()
        claim = self.store.claim_job(self.worker_id, self.lease_seconds)
        if self.stats:
            self.stats.claimed(time.perf_counter() - started, claim.job_id if claim else None)
        if claim is None:
            return False
        heartbeat = Heartbeat(self.store, claim, self.lease_seconds)
        heartbeat.start()
        progress = Progress(self.store, claim, heartbeat, self.shutdown)
        try:
            note = self._process(claim, progress)
            self.store.finish(claim, JobStatus.DONE, note)
            if self.stats:
                self.stats.finished(progress.counts.get("files_processed", 0))
        except JobFailed as e:
            self.store.finish(claim, JobStatus.ERROR, str(e))
        except AttemptLost:
            if self.shutdown.is_set():
                # Stopping: hand the job back at once instead of waiting for the lease to expire.
                self.store.update_claimed(claim, lease_owner=None, lease_expires=None)
        except DATABASE_AWAY:
            raise  # not the job's fault: it runs again after its lease (see run_forever)
        except Exception as e:  # a bug here must not kill the worker; the job owner sees it
            log.exception("job %s failed unexpectedly", claim.job_id)
            self.store.finish(claim, JobStatus.ERROR, f"Internal server error: {e}")
        finally:
            heartbeat.stop()
        return True

    def _process(self, claim: Claim, progress: Progress) -> str | None:
        """Run one attempt; returns the note a DONE job carries (None: nothing to say).

        Every source file is read for its patient id before anything is written, so that no
        output exists, not even partial, for a patient who opted out.
        """
        job = claim.row
        if job["source_type"] == "WADO":
            raise JobFailed(NO_PACS)
        table = ShareTable(self.store.mounted_shares())
        try:
            files = list_source_files(table, job["source_path"] or "")
            destination = parse_unc(job["destination_path"] or "")
            destination_local = table.resolve(destination)
        except PathRefused as e:
            raise JobFailed(str(e)) from e
        if not files:
            raise JobFailed(f"Source {job['source_path']} holds no files")
        sources = self._download(files, progress)
        if not job["source_ignore_opt_out"]:
            opted_out = self.store.opted_out(p for _, p in sources if p)
            if opted_out:
                raise JobFailed(opt_out_message(sorted(opted_out)[0]))
        progress.flush(status=JobStatus.UPLOADED.value)
        project = self.store.project(job["project_name"])
        if project is None:
            raise JobFailed(f"Project {job['project_name']} no longer exists on this server")
        output = destination.joinpath(str(claim.job_id))
        with output_folder(destination_local, claim, output) as partial:
            outcomes = self._write_files(job, project, sources, partial, output, progress)
        from anonapi_server.deid import summary

        return summary(outcomes)  # what was held back or skipped, and why, grouped by reason

    def _download(
        self, files: list[SourceFile], progress: Progress
    ) -> list[tuple[SourceFile, str | None]]:
        """Read each source file's patient id (needed for the opt-out check), counting files."""
        sources = []
        for file in files:
            try:
                sources.append((file, read_patient_id(file.local)))
            except OSError as e:
                raise JobFailed(read_failed(file.unc, e)) from e
            progress.add("files_downloaded")
        progress.flush()
        return sources

    def _engine(self, project: Project) -> Any:
        key = (project.name, project.secret, project.options)
        if key not in self._engines:
            from anonapi_server.deid import Deidentifier, ProjectProfile

            profile = ProjectProfile(
                name=project.name, secret=project.secret, options=project.options
            )
            self._engines[key] = Deidentifier(profile)
        return self._engines[key]

    def _write_files(
        self,
        job: Mapping[str, Any],
        project: Project,
        sources: list[tuple[SourceFile, str | None]],
        partial: Path,
        output: UNCPath,
        progress: Progress,
    ) -> list[Any]:
        """De-identify each file into `partial`; returns each file's `FileOutcome`."""
        engine = self._engine(project)
        outcomes = []
        for file, patient_id in sources:
            pseudo_id = job["source_anonymizedpatientid"] or pseudonym(
                project.secret, patient_id or ""
            )
            pseudo_name = job["source_anonymizedpatientname"] or pseudo_id
            dst = partial.joinpath(*file.relative)
            try:
                dst.parent.mkdir(parents=True, exist_ok=True)
                outcome = engine.deidentify_file(file.local, dst, pseudo_id, pseudo_name)
            except OSError as e:
                if raised_while_reading(e):
                    raise JobFailed(read_failed(file.unc, e)) from e
                raise JobFailed(write_failed(output.joinpath(*file.relative), e)) from e
            except Exception as e:
                raise JobFailed(f"Could not de-identify {file.unc}: {e}") from e
            if outcome.kind in ("quarantined", "skipped"):
                progress.count(f"files_{outcome.kind}")
            outcomes.append(outcome)
            progress.add("files_processed")
        progress.flush()
        if progress.counts.get("files_skipped", 0) == len(sources):
            raise JobFailed(f"Source {job['source_path']} holds no DICOM files")
        return outcomes


@contextmanager
def output_folder(destination: Path, claim: Claim, shown: UNCPath) -> Iterator[Path]:
    """A hidden folder to build the attempt's output in, published as `<job_id>` only when whole.

    Each attempt has its own folder, so a late worker of an earlier attempt cannot mix its files
    into the current one's.
    """
    partial = destination / f".{claim.job_id}.{claim.attempt}.partial"
    try:
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        yield partial
        _publish(partial, destination / str(claim.job_id), claim.attempt)
    except OSError as e:
        raise JobFailed(write_failed(shown, e)) from e
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def raised_while_reading(error: OSError) -> bool:
    """True when the error came from reading a DICOM file rather than from writing one.

    An I/O error in the middle of a file carries no file name, so the name cannot tell the source
    from the output; where it was raised can: every read of a source goes through `dcmread`.
    """
    traceback = error.__traceback__
    while traceback is not None:
        if traceback.tb_frame.f_code is pydicom.filereader.dcmread.__code__:
            return True
        traceback = traceback.tb_next
    return False


def read_failed(source: UNCPath, error: OSError) -> str:
    return (
        f"Could not read source file {source} on share {source.root} ({error.strerror or error}): "
        "check that the share is reachable and the file readable"
    )


def write_failed(output: UNCPath, error: OSError) -> str:
    return (
        f"Could not write {output} on share {output.root} ({error.strerror or error}): "
        "check that the share is writable and has free space"
    )


def _publish(partial: Path, final: Path, attempt: int) -> None:
    """Replace earlier output by this attempt's, by renames only."""
    old = final.with_name(f".{final.name}.{attempt}.old")
    if final.exists():
        shutil.rmtree(old, ignore_errors=True)
        final.rename(old)
    partial.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def worker_main(
    database_url: str,
    lease_seconds: float,
    mounts: dict[str, str] | None,
    host: str,
    worker_id: str,
    control: Connection,
) -> None:
    """Entry point of a worker process (spawn-safe: only picklable arguments).

    `mounts`: this host's local folder per share (None: the database's); `host`: the host's name
    in the status. The worker stops when the parent sends on `control` or closes it, also when
    the parent died.
    """
    # Ctrl-C reaches the whole process group; the parent decides when workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    store = Store(database_url, mounts=mounts)
    shutdown = threading.Event()

    def watch_stop() -> None:
        with suppress(EOFError, OSError):
            control.recv()
        shutdown.set()

    threading.Thread(target=watch_stop, daemon=True).start()
    try:
        stats = WorkerStats(store, worker_id, host)
        Worker(store, worker_id, lease_seconds, shutdown, stats).run_forever()
    finally:
        store.close()
