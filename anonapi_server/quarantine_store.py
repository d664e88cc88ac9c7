"""The rows of the held-files table: what a job's attempt held back and what a person decided.

A worker records the files its attempt held back when it publishes the job's output, replacing
whatever an earlier attempt of the job recorded (a rerun holds them again). Only the rows of the
job's current attempt are shown and decided on, so a reset job shows none until it ran again.
A decision is one conditional UPDATE (`held` to `released` or `dropped`): two people deciding on
the same file at once cannot both win.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update

from anonapi_server.store import Store, held_files, jobs

HELD = "held"
RELEASED = "released"
DROPPED = "dropped"


@dataclass(frozen=True)
class HeldFile:
    """One file held back, as the worker records it: no source name, no DICOM value.

    `file_id` is a keyed hash of where the file lies in its source (see quarantine.file_id);
    `series`/`instance` are its folder and file name in the job's output; size and SHA-256 of
    the source let a release refuse a file that changed since.
    """

    file_id: str
    series: str
    instance: str
    cause: str
    reason: str
    source_size: int
    source_sha256: str


def _now() -> str:
    return datetime.now().strftime("%Y-%m-%dT%H:%M:%S")


def record_held(store: Store, job_id: int, attempt: int, files: Sequence[HeldFile]) -> bool:
    """Replace the job's rows with the files this attempt held; False (nothing written) when the
    attempt is no longer the job's current one."""
    now = _now()
    with store._write() as conn:
        current = conn.execute(select(jobs.c.attempt).where(jobs.c.job_id == job_id)).scalar()
        if current != attempt:
            return False
        conn.execute(delete(held_files).where(held_files.c.job_id == job_id))
        if files:
            conn.execute(
                insert(held_files),
                [
                    {
                        "job_id": job_id,
                        "attempt": attempt,
                        "state": HELD,
                        "held_at": now,
                        **vars(f),
                    }
                    for f in files
                ],
            )
    return True


def current_rows(store: Store, job_id: int, file_id: str | None = None) -> list[dict[str, Any]]:
    """The rows of the job's current attempt (one file's when `file_id` is given), in output
    order."""
    query = (
        select(held_files)
        .join(jobs, jobs.c.job_id == held_files.c.job_id)
        .where(held_files.c.job_id == job_id, held_files.c.attempt == jobs.c.attempt)
        .order_by(held_files.c.series, held_files.c.instance)
    )
    if file_id is not None:
        query = query.where(held_files.c.file_id == file_id)
    with store._read() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def decide(
    store: Store, job_id: int, file_id: str, attempt: int, state: str, user_name: str
) -> bool:
    """Record `user_name`'s decision on a file still held by the job's current attempt; False
    when it no longer is (decided meanwhile, or the job was reset)."""
    current = select(jobs.c.attempt).where(jobs.c.job_id == job_id).scalar_subquery()
    statement = (
        update(held_files)
        .where(
            held_files.c.job_id == job_id,
            held_files.c.file_id == file_id,
            held_files.c.attempt == attempt,
            held_files.c.attempt == current,
            held_files.c.state == HELD,
        )
        .values(state=state, decided_by=user_name, decided_at=_now())
    )
    with store._write() as conn:
        return conn.execute(statement).rowcount > 0
