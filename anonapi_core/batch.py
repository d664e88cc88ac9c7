"""The job batch of a folder (`.anonbatch`) and the journal of jobs being created.

A batch is the list of job ids a folder's jobs got on one server, in the original's YAML shape.
Job creation talks to a server row by row and can be cut off at any moment (Ctrl-C, kill -9,
the server going away). The original saved ids only at the very end and so lost them; here
every created id is appended to a journal and synced to disk before the next row is sent, so
a re-run skips the rows that already have a job and the batch can always be rebuilt.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from anonapi_core.exceptions import NoBatchDefinedError, PersistenceError
from anonapi_core.jobids import sort_job_ids
from anonapi_core.server_address import Server
from anonapi_core.settings import normalise_url
from anonapi_core.yaml_files import read_yaml, write_yaml

BATCH_FILE_NAME = ".anonbatch"
JOURNAL_FILE_NAME = ".anonbatch.journal"


@dataclass
class JobBatch:
    """Job ids (strings, numeric-aware order, no duplicates) on one server."""

    job_ids: list[str] = field(default_factory=list)
    server: Server = field(default_factory=lambda: Server(name="", url=""))

    def __post_init__(self) -> None:
        self.job_ids = sort_job_ids(self.job_ids)

    def add(self, job_ids: Iterable[str | int]) -> list[str]:
        """Add ids; returns those that were not in the batch yet."""
        present = set(self.job_ids)
        new = [i for i in sort_job_ids(job_ids) if i not in present]
        self.job_ids = sort_job_ids([*self.job_ids, *new])
        return new

    def remove(self, job_ids: Iterable[str | int]) -> list[str]:
        """Remove ids; returns those that were in the batch."""
        drop = set(sort_job_ids(job_ids))
        removed = [i for i in self.job_ids if i in drop]
        self.job_ids = [i for i in self.job_ids if i not in drop]
        return removed

    def to_dict(self) -> dict[str, Any]:
        return {
            "job_ids": list(self.job_ids),
            "server": {"name": self.server.name, "url": self.server.url},
        }


def batch_file(folder: Path) -> Path:
    return Path(folder) / BATCH_FILE_NAME


def has_batch(folder: Path) -> bool:
    return batch_file(folder).is_file()


def load_batch(folder: Path) -> JobBatch:
    """The batch in `folder`; NoBatchDefinedError (with the command that makes one) if there
    is none, PersistenceError `<file>, line L, column C: ...` if it is damaged."""
    path = batch_file(folder)
    if not path.is_file():
        raise NoBatchDefinedError(
            f"No batch defined in {Path(folder).resolve()}. "
            "Run 'anon batch init' there to start one."
        )
    return batch_from_dict(read_yaml(path, PersistenceError), source=path)


def batch_from_dict(data: Any, *, source: Path) -> JobBatch:
    """Build a batch from parsed YAML; legacy integer ids become strings."""
    if not isinstance(data, Mapping):
        raise PersistenceError(f"{source}: expected 'job_ids' and 'server' keys, got {_kind(data)}")
    server = data.get("server")
    if not isinstance(server, Mapping) or not isinstance(server.get("url"), str):
        raise PersistenceError(f"{source}: 'server' must have a 'name' and a 'url'")
    ids = data.get("job_ids") or []
    if not isinstance(ids, list) or not all(
        isinstance(i, str | int) and not isinstance(i, bool) for i in ids
    ):
        raise PersistenceError(f"{source}: 'job_ids' must be a list of job ids")
    name = server.get("name")
    return JobBatch(
        job_ids=[str(i) for i in ids],
        server=Server(name="" if name is None else str(name), url=normalise_url(server["url"])),
    )


def save_batch(folder: Path, batch: JobBatch) -> None:
    """Write `.anonbatch` atomically, ids in numeric order, in the original's shape."""
    write_yaml(batch_file(folder), batch.to_dict())


def init_batch(folder: Path, server: Server) -> JobBatch:
    """Start an empty batch for `server`; refuses to replace an existing one."""
    if has_batch(folder):
        raise PersistenceError(
            f"A batch is already defined in {Path(folder).resolve()}; "
            "delete it first with 'anon batch delete'"
        )
    batch = JobBatch(job_ids=[], server=server)
    save_batch(folder, batch)
    return batch


def delete_batch(folder: Path) -> None:
    """Delete `.anonbatch`; NoBatchDefinedError if there is none."""
    try:
        batch_file(folder).unlink()
    except FileNotFoundError:
        raise NoBatchDefinedError(f"No batch defined in {Path(folder).resolve()}") from None
    except OSError as e:
        raise PersistenceError(f"Cannot delete {batch_file(folder)}: {e.strerror or e}") from None


def add_to_batch(folder: Path, server: Server, job_ids: Iterable[str]) -> JobBatch:
    """Merge ids into the folder's batch, creating it for `server` if there is none.

    A batch for another server is left alone (its ids would be looked up on the wrong server):
    PersistenceError says so, and the ids stay wherever the caller has them (the journal).
    """
    batch = load_batch(folder) if has_batch(folder) else JobBatch(job_ids=[], server=server)
    if normalise_url(batch.server.url) != normalise_url(server.url):
        raise PersistenceError(
            f"The batch in {Path(folder).resolve()} is for server {batch.server.url}, "
            f"not {server.url}; job ids not added to it"
        )
    batch.add(job_ids)
    save_batch(folder, batch)
    return batch


@dataclass(frozen=True)
class JournalEntry:
    row_key: str
    job_id: str
    server_url: str
    time: str


class CreationJournal:
    """Append-only record of created jobs in `folder/.anonbatch.journal`, one JSON line each.

    `record` syncs each line to disk before returning, so once it returns the id survives a
    kill -9 or power cut. A line torn by such a kill is ignored on reading. With a `server`,
    reads only see that server's entries: a row created on the test server is not created
    on production yet.
    """

    def __init__(self, folder: Path, server: Server | None = None):
        self.path = Path(folder) / JOURNAL_FILE_NAME
        self.server = server
        self.server_url = normalise_url(server.url) if server else None

    def record(self, row_key: str, job_id: str | int) -> None:
        if self.server_url is None:
            raise PersistenceError("A journal needs a server to record created jobs")
        entry = {
            "row": row_key,
            "job_id": str(job_id),
            "server": self.server_url,
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
        try:
            with open(self.path, "ab+") as f:
                f.seek(0, os.SEEK_END)
                if f.tell() > 0:
                    f.seek(-1, os.SEEK_END)
                    if f.read(1) != b"\n":
                        line = b"\n" + line  # close a line torn by an earlier kill
                f.write(line)
                f.flush()
                os.fsync(f.fileno())
        except OSError as e:
            raise PersistenceError(f"Cannot write {self.path}: {e.strerror or e}") from None

    def entries(self) -> list[JournalEntry]:
        """Every complete entry (of this journal's server, if it has one), oldest first."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as e:
            raise PersistenceError(f"Cannot read {self.path}: {e.strerror or e}") from None
        entries = []
        for raw in data.splitlines():
            try:
                item = json.loads(raw)
                entry = JournalEntry(
                    row_key=str(item["row"]),
                    job_id=str(item["job_id"]),
                    server_url=str(item["server"]),
                    time=str(item.get("time", "")),
                )
            except (ValueError, KeyError, TypeError):
                continue  # torn by a kill mid-write: the job id never reached the caller
            if self.server_url is None or entry.server_url == self.server_url:
                entries.append(entry)
        return entries

    def created(self) -> dict[str, str]:
        """Row key -> job id of the rows that already have a job (the last one wins)."""
        return {e.row_key: e.job_id for e in self.entries()}

    def job_ids(self) -> list[str]:
        return sort_job_ids(e.job_id for e in self.entries())

    def fold_into_batch(self, folder: Path | None = None) -> JobBatch:
        """Add every journalled id of this journal's server to the batch (see add_to_batch)."""
        if self.server is None:
            raise PersistenceError("A journal needs a server to fold its ids into a batch")
        target = self.path.parent if folder is None else Path(folder)
        return add_to_batch(target, self.server, self.job_ids())


def _kind(value: Any) -> str:
    return "nothing" if value is None else f"a {type(value).__name__}"
