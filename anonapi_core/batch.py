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
    journal_ids: list[str] = field(default_factory=list, compare=False, repr=False)
    """Ids merged in from the creation journal at load; saving the batch marks them folded."""

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
    """The batch in `folder`, with the ids of a creation run that was killed before it wrote
    the batch folded in; NoBatchDefinedError (with the command that makes one) if there is
    none, PersistenceError `<file>, line L, column C: ...` if it is damaged."""
    path = batch_file(folder)
    batch = (
        batch_from_dict(read_yaml(path, PersistenceError), source=path) if path.is_file() else None
    )
    batch = _fold_pending(Path(folder), batch)
    if batch is None:
        raise NoBatchDefinedError(
            f"No batch defined in {Path(folder).resolve()}. "
            "Run 'anon batch init' there to start one."
        )
    return batch


def _fold_pending(folder: Path, batch: JobBatch | None) -> JobBatch | None:
    """`batch` plus the journalled ids not folded into it yet (of the batch's server; without
    a batch, of the server of the newest entry), in memory only: loading never writes, so a
    dashboard polling the batch cannot race a run that is saving it. Saving folds them."""
    if not (folder / JOURNAL_FILE_NAME).is_file():
        return batch
    pending = CreationJournal(folder, batch.server if batch else None).pending()
    if not pending:
        return batch
    if batch is None:
        newest = pending[-1]
        server = Server(name=newest.server_name, url=newest.server_url)
        pending = [e for e in pending if e.server_url == newest.server_url]
        batch = JobBatch(job_ids=[], server=server)
    batch.journal_ids = [e.job_id for e in pending]
    batch.add(batch.journal_ids)
    return batch


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
    """Write `.anonbatch` atomically, ids in numeric order, in the original's shape; the
    journal ids the batch was loaded with are marked folded (ids removed since stay removed)."""
    write_yaml(batch_file(folder), batch.to_dict())
    if batch.journal_ids:
        CreationJournal(folder, batch.server).mark_folded(batch.journal_ids)
        batch.journal_ids = []


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
    server_name: str = ""


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
        self._append(
            {
                "row": row_key,
                "job_id": str(job_id),
                "server": self.server_url,
                "name": self.server.name if self.server else "",
                "time": datetime.now(UTC).isoformat(timespec="seconds"),
            }
        )

    def mark_folded(self, job_ids: Iterable[str]) -> None:
        """Note that these ids of this journal's server went into the batch, so a later load
        does not add back ids the user removed from the batch since."""
        if self.server_url is None:
            raise PersistenceError("A journal needs a server to mark its entries folded")
        self._append({"folded": self.server_url, "ids": sort_job_ids(job_ids)})

    def _append(self, entry: dict[str, Any]) -> None:
        """One JSON line, synced to disk before returning."""
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
        return self._read()[0]

    def pending(self) -> list[JournalEntry]:
        """The entries not yet folded into the batch (see `mark_folded`), oldest first."""
        return self._read()[1]

    def _read(self) -> tuple[list[JournalEntry], list[JournalEntry]]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return [], []
        except OSError as e:
            raise PersistenceError(f"Cannot read {self.path}: {e.strerror or e}") from None
        entries: list[JournalEntry] = []
        pending: list[JournalEntry] = []
        for raw in data.splitlines():
            try:
                item = json.loads(raw)
                if "folded" in item:
                    folded, ids = str(item["folded"]), {str(i) for i in item["ids"]}
                    pending = [e for e in pending if e.server_url != folded or e.job_id not in ids]
                    continue
                entry = JournalEntry(
                    row_key=str(item["row"]),
                    job_id=str(item["job_id"]),
                    server_url=str(item["server"]),
                    time=str(item.get("time", "")),
                    server_name=str(item.get("name") or ""),
                )
            except (ValueError, KeyError, TypeError, AttributeError):
                continue  # torn by a kill mid-write: the job id never reached the caller
            if self.server_url is None or entry.server_url == self.server_url:
                entries.append(entry)
                pending.append(entry)
        return entries, pending

    def created(self) -> dict[str, str]:
        """Row key -> job id of the rows that already have a job (the last one wins)."""
        return {e.row_key: e.job_id for e in self.entries()}

    def job_ids(self) -> list[str]:
        return sort_job_ids(e.job_id for e in self.entries())

    def fold_into_batch(self, folder: Path | None = None) -> JobBatch:
        """Add the journalled ids of this journal's server not folded yet to the batch (see
        add_to_batch), then mark them folded."""
        if self.server is None:
            raise PersistenceError("A journal needs a server to fold its ids into a batch")
        target = self.path.parent if folder is None else Path(folder)
        ids = [e.job_id for e in self.pending()]
        batch = add_to_batch(target, self.server, ids)
        self.mark_folded(ids)
        return batch


def _kind(value: Any) -> str:
    return "nothing" if value is None else f"a {type(value).__name__}"
