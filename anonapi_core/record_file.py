"""Private, bounded JSON-lines records beside a batch: appended line-wise, never torn, capped.

The audit records (`.anonbatch.actions`, `.anonbatch.origins`, `.anonbatch.statuses`) grow with
every action and every status change for as long as a batch folder lives, and they name users,
jobs and times. So each is created 0600, appended in one write that is synced before returning
(a line torn by a kill is closed by the next append and skipped by readers), and capped: once a
file passes its cap it is rewritten atomically with its newest records, down to half the cap,
so reading one never costs more than its cap in memory. Two processes appending while one of
them compacts can lose the other's line; these are records of what the client saw, not the
server's state, and the creation journal (which must never lose a line) is not one of them.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from anonapi_core.atomic import atomic_write_bytes

PRIVATE = 0o600

Record = dict[str, Any]
Pruner = Callable[[list[Record]], list[Record]]


def timestamp() -> str:
    """The records' clock: UTC, ISO 8601 with milliseconds, so records of every kind sort as
    text in the order things happened, also when a reset and the next poll share a second."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def append_records(
    path: Path, records: Sequence[Record], *, max_bytes: int, prune: Pruner | None = None
) -> None:
    """Append `records` (one JSON line each) and compact the file once it passes `max_bytes`.

    `prune`, given the file's records oldest first when compacting, returns those worth keeping
    (e.g. the last few per job) before the newest are cut to half the cap. OSError propagates.
    """
    if not records:
        return
    data = b"".join(_encode(record) for record in records)
    flags = os.O_RDWR | os.O_CREAT | os.O_APPEND | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags, PRIVATE)
    with os.fdopen(fd, "a+b") as f:
        if sys.platform != "win32" and os.fstat(fd).st_mode & 0o077:
            # made before records were private, or by a umask-respecting copy: tighten it
            with contextlib.suppress(OSError):
                os.fchmod(fd, PRIVATE)
        size = f.seek(0, os.SEEK_END)
        if size:
            f.seek(size - 1)
            if f.read(1) != b"\n":
                data = b"\n" + data  # close a line torn by an earlier kill
        f.write(data)
        f.flush()
        os.fsync(fd)
        size = f.tell()
    if size > max_bytes:
        _compact(Path(path), max_bytes // 2, prune)


def read_records(path: Path, mentioning: str | None = None) -> list[Record]:
    """Every complete record, oldest first; a missing file is empty, damaged lines are skipped.

    With `mentioning`, only records with that string as a JSON value somewhere (say a job id):
    other lines are skipped before parsing, so one job's history is not the cost of parsing
    every job's. The caller still checks the field it means.
    """
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        return []
    needle = json.dumps(mentioning, ensure_ascii=False).encode() if mentioning is not None else b""
    records = []
    for line in raw.splitlines():
        if needle not in line:
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


def _encode(record: Record) -> bytes:
    return (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def _compact(path: Path, budget: int, prune: Pruner | None) -> None:
    """Rewrite `path` atomically with the newest (pruned) records that fit in `budget` bytes."""
    records = read_records(path)
    if prune is not None:
        records = prune(records)
    kept: list[bytes] = []
    used = 0
    for record in reversed(records):
        line = _encode(record)
        if used + len(line) > budget:
            break
        kept.append(line)
        used += len(line)
    atomic_write_bytes(path, b"".join(reversed(kept)), mode=PRIVATE)
