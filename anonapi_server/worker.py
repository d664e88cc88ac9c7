"""Worker processes: claim ACTIVE jobs, read their source, de-identify, publish, report.

A job moves ACTIVE -> (files_downloaded counted) -> UPLOADED -> (files_processed counted) -> DONE,
or ERROR with a sentence its owner can act on (a PACS job counts files processed while its study
still arrives, and is UPLOADED once all of it is in). Output is built in a hidden folder next to the
destination and renamed to `<destination>\\<job_id>` only at the end, so a crash never leaves a job
DONE with partial output; a crashed job's lease expires and it runs again from the start.

A worker learns it lost its job (reset, cancel, or its lease taken over) when a write conditioned
on its attempt is refused; it then drops its partial output and goes back to claiming.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import logging
import os
import signal
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from itertools import chain
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, BinaryIO

import pydicom.filereader
from sqlalchemy.exc import InterfaceError, OperationalError

from anonapi_core.models import JobStatus
from anonapi_server.confined import Folder, opened_folder
from anonapi_server.deid.outcome import Cause, FileOutcome, summary
from anonapi_server.errors import ServerError
from anonapi_server.headers import Header, Unusable, read_header_from
from anonapi_server.hosts import WorkerStats
from anonapi_server.layout import Placer
from anonapi_server.pacs.retrieve import InstanceLabel, PacsError, job_node
from anonapi_server.pacs.streaming import StudyStream
from anonapi_server.privacy import internal_error, quiet_pydicom, truncated
from anonapi_server.publish import OutputConflict, partial_name, publish, start_output
from anonapi_server.quarantine import HeldFiles
from anonapi_server.shares import PathRefused, ShareTable, UNCPath, parse_unc
from anonapi_server.source_paths import SourceFile, list_source_files
from anonapi_server.store import Claim, Project, Store

log = logging.getLogger(__name__)

PROGRESS_INTERVAL = 0.25  # seconds between progress writes: live counters without a write per file
# What a lost database connection raises (a restart, a network cut); SQLite's "locked" too.
DATABASE_AWAY = (OperationalError, InterfaceError)


class AttemptLost(ServerError):
    """This worker no longer owns the job's current attempt."""


class JobFailed(ServerError):
    """The job ends in ERROR with this message."""


# Shown to the job's owner only; names nobody: the owner can find the patient in the opt-out list
# (the admin's) or run the job with set-opt-out-ignore.
OPT_OUT_MESSAGE = (
    "A patient in this job's source is on the opt-out list: he or she does not want his or her "
    "data to be used for research"
)


def pseudonym(secret: bytes, patient_id: str) -> str:
    """A stable pseudonym per project and patient, for jobs created without one."""
    digest = hmac.new(secret, patient_id.encode(), hashlib.sha256).hexdigest()
    return f"ANON{digest[:12].upper()}"


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
        wake: Any = None,
    ):
        """`wake`: a semaphore released when a job may be waiting (see `supervisor`); None:
        an idle worker only looks every `poll_seconds` (a host with workers and no API)."""
        self.store = store
        self.worker_id = worker_id
        self.lease_seconds = lease_seconds
        self.shutdown = shutdown
        self.stats = stats
        self.wake = wake
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
                self._idle(poll_seconds)

    def _idle(self, seconds: float) -> None:
        """Wait until woken, stopped, or `seconds` passed; then drain the wakes, which all ask
        for the same look."""
        if self.wake is None:
            self.shutdown.wait(seconds)
            return
        if self.wake.acquire(timeout=seconds):
            while self.wake.acquire(False):
                pass

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
            self.store.finish(claim, JobStatus.ERROR, truncated(str(e)))
        except AttemptLost:
            if self.shutdown.is_set():
                # Stopping: hand the job back at once instead of waiting for the lease to expire.
                self.store.update_claimed(claim, lease_owner=None, lease_expires=None)
        except DATABASE_AWAY:
            raise  # not the job's fault: it runs again after its lease (see run_forever)
        except Exception as e:  # a bug here must not kill the worker; the job owner sees it
            reference = internal_error(log, f"job {claim.job_id}", e)
            self.store.finish(
                claim,
                JobStatus.ERROR,
                f"Internal server error (reference {reference}); the server log has details",
            )
        finally:
            heartbeat.stop()
        return True

    def _process(self, claim: Claim, progress: Progress) -> str | None:
        """Run one attempt; returns the note a DONE job carries (None: nothing to say).

        A share job's files are listed on its share and all their headers read (opt-out check)
        before anything is written; a PACS job's study streams into a temporary folder of this
        worker and each instance is de-identified as it lands (`_pacs_job`). From there both go
        the same way (`_publish_job`).
        """
        job = claim.row
        pacs = job["source_type"] == "WADO"
        table = ShareTable(self.store.mounted_shares())
        try:
            files = [] if pacs else list_source_files(table, job["source_path"] or "")
            destination = parse_unc(job["destination_path"] or "")
            destination_root = table.local_root(destination).resolve()
            destination_parts = table.resolve(destination).relative_to(destination_root).parts
        except PathRefused as e:
            raise JobFailed(str(e)) from e
        except OSError as e:
            raise JobFailed(
                f"Source {job['source_path']} cannot be read ({e.strerror or type(e).__name__}): "
                "check that the share is reachable"
            ) from e
        target = _Destination(destination, destination_root, destination_parts)
        if pacs:
            return self._pacs_job(claim, target, progress)
        if not files:
            raise JobFailed(f"Source {job['source_path']} holds no files")
        skipped: list[FileOutcome] = []
        headers = list(self._read_headers(files, progress, skipped, count=True))
        progress.flush()
        # Every file is read for its patient id before anything is written, so that no output
        # exists, not even partial, for a patient who opted out.
        if not job["source_ignore_opt_out"] and self.store.opted_out(
            h.patient_id for _, h in headers if h.patient_id
        ):
            raise JobFailed(OPT_OUT_MESSAGE)
        progress.flush(status=JobStatus.UPLOADED.value)
        return self._publish_job(claim, headers, skipped, target, progress)

    def _pacs_job(self, claim: Claim, target: _Destination, progress: Progress) -> str | None:
        """Retrieve the job's study and de-identify each instance while later ones arrive.

        The retrieval (a thread, see `StudyStream`) and the de-identification overlap instead of
        adding up. Each arriving instance's patient id is checked against the opt-out list before
        it is de-identified; a match fails the job and its hidden partial output is removed, so
        nothing is published for an opted-out patient, as for a share job. The output is only
        started once the first instance is in, so a study the PACS does not have (or a PACS that
        does not answer) fails before anything is written.
        """
        job = claim.row
        try:
            node = job_node(self.store, job)
        except PacsError as e:
            raise JobFailed(str(e)) from e
        shown = job["source_instance_id"] or ""
        skipped: list[FileOutcome] = []
        with (
            tempfile.TemporaryDirectory(prefix="anon-pacs-") as folder,
            StudyStream(node, shown, Path(folder)) as stream,
        ):
            arrivals = _arrivals(stream, Path(folder).resolve(), node.name, shown, progress)
            headers = self._read_headers(arrivals, progress, skipped, count=False)
            if not job["source_ignore_opt_out"]:
                headers = self._opt_out_checked(headers)
            return self._publish_job(claim, headers, skipped, target, progress)

    def _opt_out_checked(
        self, headers: Iterable[tuple[SourceFile, Header]]
    ) -> Iterator[tuple[SourceFile, Header]]:
        """`headers` passed on one by one; JobFailed at the first opted-out patient (each
        patient id is asked once: a study holds one or a few)."""
        checked: set[str] = set()
        for file, header in headers:
            if header.patient_id and header.patient_id not in checked:
                if self.store.opted_out([header.patient_id]):
                    raise JobFailed(OPT_OUT_MESSAGE)
                checked.add(header.patient_id)
            yield file, header

    def _publish_job(
        self,
        claim: Claim,
        headers: Iterable[tuple[SourceFile, Header]],
        skipped: list[FileOutcome],
        target: _Destination,
        progress: Progress,
    ) -> str | None:
        """De-identify and publish the usable files, whatever the source was.

        `headers` may still be arriving (a PACS study); `skipped` holds the outcomes of the files
        found unusable, filled as `headers` is read.
        """
        job = claim.row
        pending = iter(headers)
        first = next(pending, None)
        if first is None:
            raise JobFailed(f"Source {_source(job)} holds no DICOM files")
        project = self.store.project(job["project_name"])
        if project is None:
            raise JobFailed(f"Project {job['project_name']} no longer exists on this server")
        destination = target.unc
        try:
            with opened_folder(target.root, target.parts, destination.root, create=True) as folder:
                output = destination.joinpath(str(claim.job_id))
                outcomes = self._write_output(
                    claim, project, chain([first], pending), folder, output, progress
                )
        except (OutputConflict, PathRefused) as e:
            raise JobFailed(str(e)) from e
        except OSError as e:
            raise JobFailed(write_failed(destination.joinpath(str(claim.job_id)), e)) from e
        # What was held back or skipped, and why, grouped.
        return truncated(summary([*skipped, *outcomes]))

    def _read_headers(
        self,
        files: Iterable[SourceFile],
        progress: Progress,
        skipped: list[FileOutcome],
        *,
        count: bool,
    ) -> Iterator[tuple[SourceFile, Header]]:
        """Each usable source file with its header (patient id for the opt-out check, series
        and instance for the layout), as `files` come; unusable files are skipped with a reason
        added to `skipped`. Files are counted as downloaded here when `count` is set."""
        with SourceReader() as reader:
            for file in files:
                try:
                    with reader.stream(file) as fp:
                        header = read_header_from(fp)
                except Unusable as e:
                    progress.count("files_skipped")
                    progress.count("files_processed")  # decided: nothing to write
                    skipped.append(FileOutcome.skipped(e.cause, str(e)))
                    header = None
                except PathRefused as e:
                    raise JobFailed(str(e)) from e
                except OSError as e:
                    raise JobFailed(read_failed(file.unc, e)) from e
                if count:
                    progress.add("files_downloaded")
                if header is not None:
                    yield file, header

    def _engine(self, project: Project) -> Any:
        key = (project.name, project.secret, project.options)
        if key not in self._engines:
            from anonapi_server.deid import Deidentifier, ProjectProfile

            profile = ProjectProfile(
                name=project.name, secret=project.secret, options=project.options
            )
            self._engines[key] = Deidentifier(profile)
        return self._engines[key]

    def _write_output(
        self,
        claim: Claim,
        project: Project,
        headers: Iterable[tuple[SourceFile, Header]],
        destination: Folder,
        output: UNCPath,
        progress: Progress,
    ) -> list[FileOutcome]:
        """De-identify into the attempt's own folder, then publish it as `<job_id>`; returns
        what happened to each file."""
        partial = start_output(destination, claim.job_id, claim.attempt)
        pacs = claim.row["source_type"] == "WADO"
        held = HeldFiles(self.store, claim.job_id, claim.attempt, project.secret, keep_copies=pacs)
        try:
            with partial:
                written, outcomes = self._write_files(
                    claim.row, project, headers, partial, output, progress, held
                )
            if not written and not progress.counts.get("files_quarantined"):
                raise JobFailed(f"Source {_source(claim.row)} holds no DICOM files")
            publish(destination, claim.job_id, claim.attempt, written)
            held.record()
            return outcomes
        finally:
            held.discard_unrecorded()  # an attempt that did not publish keeps no copies
            name = partial_name(claim.job_id, claim.attempt)
            if destination.entry(name) is not None:
                destination.remove_tree(name)

    def _write_files(
        self,
        job: Mapping[str, Any],
        project: Project,
        headers: Iterable[tuple[SourceFile, Header]],
        partial: Folder,
        output: UNCPath,
        progress: Progress,
        held: HeldFiles,
    ) -> tuple[list[tuple[str, str]], list[FileOutcome]]:
        """De-identify each file into `partial`; returns the (series, name) of those written
        and every file's outcome. Files held back are recorded in `held`.

        A file the engine cannot handle is skipped with its reason; only the share itself
        (unreadable source, unwritable destination) ends the job.
        """
        engine = self._engine(project)
        placer = Placer()
        written: list[tuple[str, str]] = []
        outcomes: list[FileOutcome] = []
        series: dict[str, Folder] = {}
        try:
            with SourceReader() as reader:
                for file, header in headers:
                    series_name, name = placer.place(header)
                    if series_name not in series:
                        series[series_name] = partial.sub(series_name, create=True)
                    folder = series[series_name]
                    pseudo_id = job["source_anonymizedpatientid"] or pseudonym(
                        project.secret, header.patient_id
                    )
                    pseudo_name = job["source_anonymizedpatientname"] or pseudo_id
                    try:
                        outcome = _deidentify_one(
                            engine, reader, file, folder, name, pseudo_id, pseudo_name
                        )
                    except OSError as e:
                        raise JobFailed(write_failed(output.joinpath(series_name, name), e)) from e
                    if outcome.kind == "written":
                        written.append((series_name, name))
                    else:
                        folder.remove_file(name)
                        progress.count(f"files_{outcome.kind}")
                    if outcome.kind == "quarantined":
                        _hold(held, reader, file, (series_name, name), outcome)
                    outcomes.append(outcome)
                    progress.add("files_processed")
        finally:
            for folder in series.values():
                folder.close()
        for series_name in set(series) - {s for s, _ in written}:
            partial.remove_folder(series_name)  # every file of it was skipped or held back
        progress.flush()
        return written, outcomes


def _arrivals(
    stream: StudyStream, root: Path, pacs: str, study: str, progress: Progress
) -> Iterator[SourceFile]:
    """A PACS study's instances as they arrive, counted as downloaded.

    Most come in memory; one the stream wrote to the temporary folder `root` is removed once the
    next is asked for (its de-identification, or its skip, is over by then), so the folder holds
    the instances not yet de-identified, not the whole study. When the retrieval is over the job
    is UPLOADED: all of the study is in.
    """
    spilled: Path | None = None
    try:
        for number, instance in enumerate(stream, start=1):
            if spilled is not None:
                spilled.unlink(missing_ok=True)
            local = root / instance.name
            spilled = local if instance.data is None else None
            progress.add("files_downloaded")
            # The label stands in for a UNC path in messages: the worker's own temporary file
            # name means nothing to the job's owner.
            label = InstanceLabel(pacs, study, number)
            yield SourceFile(local, root, label, instance.data)  # type: ignore[arg-type]
    except PacsError as e:
        raise JobFailed(str(e)) from e
    progress.flush(status=JobStatus.UPLOADED.value)


@dataclass(frozen=True)
class _Destination:
    """A job's destination: its UNC path, its share's resolved root, its parts below that."""

    unc: UNCPath
    root: Path
    parts: tuple[str, ...]


def _source(job: Mapping[str, Any]) -> str:
    """The job's source as its owner wrote it: a share path or a PACS study identifier."""
    return str(job["source_path"] or job["source_instance_id"])


def _deidentify_one(
    engine: Any,
    reader: SourceReader,
    file: SourceFile,
    folder: Folder,
    name: str,
    pseudo_id: str,
    pseudo_name: str,
) -> FileOutcome:
    """De-identify one file into the new file `name` of `folder`, both opened confined."""
    dst_fd = folder.open_file(name, create=True)
    try:
        with reader.stream(file) as source:
            try:
                outcome = engine.deidentify_file(
                    source, Path(folder.name_for(dst_fd, name)), pseudo_id, pseudo_name
                )
            except Exception as e:
                error = _real_error(e)
                if isinstance(error, OSError):
                    raise error from e
                reason = f"could not be de-identified ({type(error).__name__})"
                return FileOutcome.skipped(Cause.FAILED, reason)
        return outcome
    except PathRefused as e:
        raise JobFailed(str(e)) from e
    except OSError as e:
        if raised_while_reading(e):
            raise JobFailed(read_failed(file.unc, e)) from e
        raise
    finally:
        os.close(dst_fd)


def _hold(
    held: HeldFiles,
    reader: SourceReader,
    file: SourceFile,
    place: tuple[str, str],
    outcome: FileOutcome,
) -> None:
    """Record a held-back file (hash, and for PACS a private copy) from its confined source."""
    try:
        with reader.stream(file) as fp:
            held.hold(fp, file, place, outcome)
    except PathRefused as e:
        raise JobFailed(str(e)) from e
    except OSError as e:
        raise JobFailed(read_failed(file.unc, e)) from e


def _real_error(error: BaseException) -> BaseException:
    """The error that made the engine fail.

    On failure the engine removes its half-written output by name; named through a descriptor
    (`/proc/self/fd/N`) that removal is refused, and its PermissionError hides the real cause.
    """
    if (
        isinstance(error, PermissionError)
        and str(error.filename or "").startswith("/proc/self/fd/")
        and error.__context__ is not None
    ):
        return error.__context__
    return error


class SourceReader:
    """Opens source files confined to their share, keeping the last folder open (a folder's
    files are listed together, so most opens reuse it)."""

    def __init__(self) -> None:
        self._key: tuple[Path, tuple[str, ...]] | None = None
        self._folder: Folder | None = None

    @contextmanager
    def stream(self, file: SourceFile) -> Iterator[BinaryIO]:
        """The source file to read from its start: the bytes of a PACS instance held in memory,
        or the file opened confined (`opened`)."""
        if file.data is not None:
            yield io.BytesIO(file.data)
            return
        with self.opened(file) as (fd, _), os.fdopen(fd, "rb", closefd=False) as fp:
            yield fp

    @contextmanager
    def opened(self, file: SourceFile) -> Iterator[tuple[int, str]]:
        """The opened source file: its descriptor, and a name for it that cannot be
        re-resolved elsewhere (for code that takes a path)."""
        parts = file.parts
        key = (file.root, parts[:-1])
        if key != self._key or self._folder is None:
            self.close()
            with Folder.open_root(file.root, file.unc.root) as root:
                self._folder = root.walk(parts[:-1])
                if self._folder is root:  # a file at the share's root: keep a root of our own
                    self._folder = Folder.open_root(file.root, file.unc.root)
            self._key = key
        fd = self._folder.open_file(parts[-1])
        try:
            yield fd, self._folder.name_for(fd, parts[-1])
        finally:
            os.close(fd)

    def close(self) -> None:
        if self._folder is not None:
            self._folder.close()
        self._folder, self._key = None, None

    def __enter__(self) -> SourceReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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


def worker_main(
    database_url: str,
    lease_seconds: float,
    mounts: dict[str, str] | None,
    host: str,
    held_dir: str | None,
    worker_id: str,
    control: Connection,
    wake: Any = None,
) -> None:
    """Entry point of a worker process (spawn-safe: only picklable arguments).

    `mounts`: this host's local folder per share (None: the database's); `host`: the host's name
    in the status; `held_dir`: where held-back PACS files are kept (see quarantine). The worker
    stops when the parent sends on `control` or closes it, also when the parent died. `wake`:
    its semaphore, released when a job was created (see `supervisor`).
    """
    # Ctrl-C reaches the whole process group; the parent decides when workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    quiet_pydicom()
    store = Store(database_url, mounts=mounts, held_dir=Path(held_dir) if held_dir else None)
    shutdown = threading.Event()

    def watch_stop() -> None:
        with suppress(EOFError, OSError):
            control.recv()
        shutdown.set()
        if wake is not None:
            wake.release()  # an idle worker stops now, not at its next look

    threading.Thread(target=watch_stop, daemon=True).start()
    try:
        stats = WorkerStats(store, worker_id, host)
        Worker(store, worker_id, lease_seconds, shutdown, stats, wake).run_forever()
    finally:
        store.close()
