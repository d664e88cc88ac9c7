r"""Files held back (quarantined) at de-identification: recording them, releasing and dropping.

The engine holds back a file it cannot make safe (burned-in annotation). The worker records
each (`HeldFiles`): a stable id, where it would go in the output, the reason, and the size and
SHA-256 of the source. A person then decides (`release` or `drop`, recorded as theirs):

- Release de-identifies the file anyway (`deidentify_file(..., release=True)`) into the job's
  published output folder, at the place the layout reserved for it, and lists it in the folder's
  marker, so the folder stays this job's own (publish.py). The folder must still hold exactly
  what this server wrote; a file of that name is never overwritten.
- Drop records the decision; the file is never published.

Where the source comes from at release: a share job's file is read again from its share, through
the confined opening, and refused (409) when its size or hash changed since it was held; it is
copied to a private temporary file while hashed, so what is checked is what is de-identified.
A PACS job's study was only in a worker's temporary folder, so its held files are kept in the
private folder `held` of the server home (0700, files 0600) and removed on release or drop (and
when a rerun of the job replaces them). A cluster keeps them on the host whose worker ran the
job: a release on another API host says so (409).

The file id is an HMAC (keyed with the project's secret) of where the file lies below its
source: stable across reruns, and nobody can test a guessed patient name against it.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from anonapi_server.confined import Folder, opened_folder
from anonapi_server.deid.outcome import FileOutcome
from anonapi_server.errors import ServerError
from anonapi_server.headers import Unusable, read_header
from anonapi_server.publish import OutputConflict, is_own_output, list_added_file
from anonapi_server.quarantine_store import (
    DROPPED,
    RELEASED,
    HeldFile,
    current_rows,
    decide,
    record_held,
)
from anonapi_server.shares import PathRefused, ShareTable, parse_unc
from anonapi_server.source_paths import SourceFile, list_source_files
from anonapi_server.store import Project, Store

log = logging.getLogger(__name__)

PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600
_CHUNK = 1024 * 1024
# Decisions of this API process one at a time: a release writes into a job's output folder and
# its marker, which two releases of the same job must not do at once.
_deciding = threading.Lock()


class Refused(ServerError):
    """A decision the server will not carry out; `status` (404/409) and `field` for the reply."""

    def __init__(self, status: int, field_name: str, message: str):
        super().__init__(message)
        self.status, self.field = status, field_name


def file_id(secret: bytes, job_id: int, parts: tuple[str, ...]) -> str:
    """The stable id of a source file of a job: a keyed hash of where it lies in its source."""
    message = f"{job_id}:{'/'.join(parts)}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:24]


def _kept_path(held_dir: Path, job_id: int, attempt: int, fid: str) -> Path:
    return held_dir / str(job_id) / str(attempt) / f"{fid}.dcm"


def _private_folder(path: Path) -> None:
    """Create `path` and the folders to it below an existing one, each 0700."""
    if not path.exists():
        _private_folder(path.parent)
        path.mkdir(mode=PRIVATE_FOLDER)


def _stream(source: IO[bytes], *copies: IO[bytes]) -> tuple[int, str]:
    """Size and SHA-256 of `source` read from its start, written to `copies` as read."""
    digest, size = hashlib.sha256(), 0
    source.seek(0)
    while chunk := source.read(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
        for copy in copies:
            copy.write(chunk)
    return size, digest.hexdigest()


@dataclass
class HeldFiles:
    """The files one attempt holds back, gathered while it runs and recorded when it publishes.

    `keep_copies`: a PACS job, whose source is gone after the attempt; each held file is copied
    to the home's private folder (when the store has one).
    """

    store: Store
    job_id: int
    attempt: int
    secret: bytes
    keep_copies: bool
    files: list[HeldFile] = field(default_factory=list)
    recorded: bool = False

    def hold(
        self, fp: IO[bytes], source: SourceFile, place: tuple[str, str], held: FileOutcome
    ) -> None:
        """Record the source file `fp` (open, or in memory) as held back, to go to `place` if
        released."""
        fid = file_id(self.secret, self.job_id, source.parts)
        held_dir = self.store.held_dir
        if self.keep_copies and held_dir is not None:
            kept = _kept_path(held_dir, self.job_id, self.attempt, fid)
            _private_folder(kept.parent)
            copy_fd = os.open(kept, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
            with os.fdopen(copy_fd, "wb") as copy:
                size, sha256 = _stream(fp, copy)
        else:
            size, sha256 = _stream(fp)
        cause = held.cause.value if held.cause else "held"
        self.files.append(HeldFile(fid, *place, cause, held.reason or cause, size, sha256))

    def record(self) -> None:
        """Store this attempt's held files in place of earlier attempts' (and their copies)."""
        if record_held(self.store, self.job_id, self.attempt, self.files):
            self.recorded = True
            _remove_copies(self.store.held_dir, self.job_id, keep=self.attempt)

    def discard_unrecorded(self) -> None:
        """Remove the copies this attempt kept unless it recorded them (it failed or lost the
        job): nobody could ever decide on them."""
        held_dir = self.store.held_dir
        if self.recorded or held_dir is None:
            return
        attempt_folder = held_dir / str(self.job_id) / str(self.attempt)
        shutil.rmtree(attempt_folder, ignore_errors=True)
        with contextlib.suppress(OSError):
            attempt_folder.parent.rmdir()  # only when no other attempt's copies are there


def _remove_copies(held_dir: Path | None, job_id: int, *, keep: int | None = None) -> None:
    """Remove the kept copies of the job's attempts other than `keep`."""
    folder = held_dir / str(job_id) if held_dir else None
    if folder is None or not folder.is_dir():
        return
    for attempt in folder.iterdir():
        if attempt.name != str(keep):
            shutil.rmtree(attempt, ignore_errors=True)
    if keep is None or not any(folder.iterdir()):
        shutil.rmtree(folder, ignore_errors=True)


def held_row(store: Store, job_id: int, fid: str) -> dict[str, Any]:
    """The current row of file `fid` of the job; Refused (404) when there is none."""
    rows = current_rows(store, job_id, fid)
    if not rows:
        raise Refused(404, "file_id", f"Job {job_id} has no held file {fid}")
    return rows[0]


def drop(store: Store, job: dict[str, Any], fid: str, user_name: str) -> dict[str, Any]:
    """Record that `user_name` decided the file is never published; returns its row."""
    with _deciding:
        row = _undecided(store, job, fid)
        if not decide(store, job["job_id"], fid, row["attempt"], DROPPED, user_name):
            raise Refused(409, "file_id", f"File {fid} of job {job['job_id']} was decided on")
        _remove_kept(store, row)
    log.info("job %s: held file %s dropped by %s", job["job_id"], fid, user_name)
    return held_row(store, job["job_id"], fid)


def release(store: Store, job: dict[str, Any], fid: str, user_name: str) -> dict[str, Any]:
    """De-identify the held file anyway and publish it into the job's output, recorded as
    `user_name`'s decision; returns its row. Refused (409) with what stands in the way."""
    with _deciding:
        row = _undecided(store, job, fid)
        if job["status"] != "DONE":
            raise Refused(
                409, "job_id", f"Job {job['job_id']} is {job['status']}: release when it is DONE"
            )
        project = store.project(job["project_name"])
        if project is None:
            raise Refused(409, "job_id", f"Project {job['project_name']} no longer exists")
        with _source_copy(store, job, row, project) as source:
            _publish_released(store, job, row, project, source)
        if not decide(store, job["job_id"], fid, row["attempt"], RELEASED, user_name):
            raise Refused(409, "file_id", f"File {fid} of job {job['job_id']} was decided on")
        _remove_kept(store, row)
    log.info("job %s: held file %s released by %s", job["job_id"], fid, user_name)
    return held_row(store, job["job_id"], fid)


def _undecided(store: Store, job: dict[str, Any], fid: str) -> dict[str, Any]:
    row = held_row(store, job["job_id"], fid)
    if row["state"] != "held":
        raise Refused(
            409,
            "file_id",
            f"File {fid} of job {job['job_id']} was already {row['state']} by "
            f"{row['decided_by']} at {row['decided_at']}",
        )
    return row


def _remove_kept(store: Store, row: dict[str, Any]) -> None:
    if store.held_dir is None:
        return
    kept = _kept_path(store.held_dir, row["job_id"], row["attempt"], row["file_id"])
    kept.unlink(missing_ok=True)
    for folder in (kept.parent, kept.parent.parent):
        try:
            folder.rmdir()
        except OSError:
            break  # not empty (other files still held) or gone already


@contextmanager
def _source_copy(
    store: Store, job: dict[str, Any], row: dict[str, Any], project: Project
) -> Iterator[IO[bytes]]:
    """The held file's bytes, checked against what was held: the kept copy of a PACS job, or a
    private temporary copy of the share file made while hashing it."""
    changed = Refused(
        409,
        "file_id",
        f"The source of held file {row['file_id']} changed since it was held (size or "
        "content differs); reset the job to de-identify the source as it is now",
    )
    if job["source_type"] == "WADO":
        kept = None
        if store.held_dir is not None:
            kept = _kept_path(store.held_dir, job["job_id"], row["attempt"], row["file_id"])
        if kept is None or not kept.is_file():
            raise Refused(
                409,
                "file_id",
                f"No copy of held file {row['file_id']} is kept on this host: release it on "
                "the host whose worker ran the job, or reset the job",
            )
        with open(kept, "rb") as fp:
            if _stream(fp) != (row["source_size"], row["source_sha256"]):
                raise changed
            fp.seek(0)
            yield fp
        return
    source = _find_source(store, job, row, project)
    from anonapi_server.worker import SourceReader

    with tempfile.TemporaryFile(dir=store.held_dir if _usable(store.held_dir) else None) as copy:
        try:
            with SourceReader() as reader, reader.stream(source) as fp:
                found = _stream(fp, copy)
        except (OSError, PathRefused) as e:
            raise Refused(
                409, "file_id", f"The source of held file {row['file_id']} cannot be read: {e}"
            ) from e
        if found != (row["source_size"], row["source_sha256"]):
            raise changed
        copy.flush()
        copy.seek(0)
        yield copy


def _usable(folder: Path | None) -> bool:
    if folder is None:
        return False
    _private_folder(folder)
    return True


def _find_source(
    store: Store, job: dict[str, Any], row: dict[str, Any], project: Project
) -> SourceFile:
    """The share file the held row stands for, found by its id in the job's source listing."""
    gone = Refused(
        409,
        "file_id",
        f"The source of held file {row['file_id']} is no longer in the job's source",
    )
    try:
        files = list_source_files(ShareTable(store.mounted_shares()), job["source_path"] or "")
    except (PathRefused, OSError) as e:
        raise gone from e
    for source in files:
        if file_id(project.secret, job["job_id"], source.parts) == row["file_id"]:
            return source
    raise gone


def _publish_released(
    store: Store, job: dict[str, Any], row: dict[str, Any], project: Project, source: IO[bytes]
) -> None:
    """De-identify `source` with release=True into `<job>/<series>/<instance>` of the job's
    published output and list it in the output's marker."""
    from anonapi_server.deid import Deidentifier, ProjectProfile
    from anonapi_server.worker import pseudonym

    try:
        patient_id = read_header(source.fileno()).patient_id
    except Unusable as e:
        raise Refused(409, "file_id", f"Held file {row['file_id']}: {e}") from e
    pseudo_id = job["source_anonymizedpatientid"] or pseudonym(project.secret, patient_id)
    pseudo_name = job["source_anonymizedpatientname"] or pseudo_id
    source.seek(0)
    engine = Deidentifier(
        ProjectProfile(name=project.name, secret=project.secret, options=project.options)
    )
    table = ShareTable(store.mounted_shares())
    output_name = str(job["job_id"])
    try:
        destination = parse_unc(job["destination_path"] or "")
        root = table.local_root(destination).resolve()
        parts = table.resolve(destination).relative_to(root).parts
        with opened_folder(root, parts, destination.root) as parent:
            if not is_own_output(parent, output_name, job["job_id"]):
                raise Refused(
                    409,
                    "job_id",
                    f"{destination.joinpath(output_name)} is missing or holds files this server "
                    "did not write; nothing was written",
                )
            with parent.sub(output_name) as output:
                _write_released(engine, output, row, source, pseudo_id, pseudo_name)
                list_added_file(output, job["job_id"], (row["series"], row["instance"]))
    except (PathRefused, OutputConflict) as e:
        raise Refused(409, "job_id", str(e)) from e
    except FileExistsError as e:
        raise Refused(
            409, "file_id", f"{row['series']}\\{row['instance']} exists in the job's output"
        ) from e
    except OSError as e:
        raise Refused(
            409, "job_id", f"Could not write to the job's output ({e.strerror or e})"
        ) from e


def _write_released(
    engine: Any,
    output: Folder,
    row: dict[str, Any],
    source: IO[bytes],
    pseudo_id: str,
    pseudo_name: str,
) -> None:
    """Write the de-identified file as a new file at its place; nothing stays if it fails."""
    series, name = row["series"], row["instance"]
    created = output.entry(series) is None
    outcome: FileOutcome | None = None
    try:
        with output.sub(series, create=True) as folder:
            fd = folder.open_file(name, create=True)
            try:
                outcome = engine.deidentify_file(
                    source, Path(folder.name_for(fd, name)), pseudo_id, pseudo_name, release=True
                )
            finally:
                os.close(fd)
                if outcome is None or outcome.kind != "written":
                    folder.remove_file(name)
    finally:
        if (outcome is None or outcome.kind != "written") and created:
            output.remove_folder(series)
    assert outcome is not None  # the engine returned, or the error above went on
    if outcome.kind != "written":
        raise Refused(
            409, "file_id", f"Held file {row['file_id']} was not released: {outcome.reason}"
        )
