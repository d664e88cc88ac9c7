"""What was done to a batch's jobs, by whom and with what result: `.anonbatch.actions`.

One JSON line per bulk action (reset, cancel), appended beside the batch: the dashboard's log
view and a job's audit trail read it back. Refusal reasons are stored as their error signature
(`anonapi_core.triage`), so a server message naming a patient or a file never lands in a file
that outlives the job. The file is private and capped (`anonapi_core.record_file`), so a
years-old log costs no more memory than a few thousand actions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from anonapi_core.client import JobResult
from anonapi_core.record_file import append_records, read_records, timestamp
from anonapi_core.triage import signature

ACTION_LOG_NAME = ".anonbatch.actions"
MAX_BYTES = 4_000_000
"""About a hundred resets of 500 jobs; compaction keeps the newest half."""


@dataclass(frozen=True)
class JobOutcome:
    """One job of an action: done, or refused and why (as a signature)."""

    job_id: str
    ok: bool
    reason: str | None = None

    @property
    def result(self) -> str:
        """`done`, or `refused: <reason>`."""
        return "done" if self.ok else f"refused: {self.reason or 'no reason given'}"


@dataclass(frozen=True)
class ActionEntry:
    """One bulk action on a batch's jobs."""

    time: str
    user: str
    action: str
    server: str
    outcomes: tuple[JobOutcome, ...]

    @property
    def done(self) -> int:
        return sum(o.ok for o in self.outcomes)

    @property
    def refused(self) -> int:
        return len(self.outcomes) - self.done

    def to_record(self) -> dict[str, Any]:
        """The entry as its line in the log (and as `anon batch log --json` prints it)."""
        return {
            "time": self.time,
            "user": self.user,
            "action": self.action,
            "server": self.server,
            "jobs": [
                {"job_id": o.job_id, "ok": o.ok, **({"reason": o.reason} if o.reason else {})}
                for o in self.outcomes
            ],
        }

    def summary(self) -> str:
        """`2026-12-07 06:30 z123 reset 140 jobs on p01: 138 done, 2 refused`."""
        when = self.time[:16].replace("T", " ")
        count = f"{len(self.outcomes)} job{'' if len(self.outcomes) == 1 else 's'}"
        return (
            f"{when} {self.user} {self.action} {count} on {self.server}: "
            f"{self.done} done, {self.refused} refused"
        )


def action_log(folder: Path) -> Path:
    return Path(folder) / ACTION_LOG_NAME


def record_action(
    folder: Path, user: str, action: str, server: str, results: Sequence[JobResult]
) -> ActionEntry:
    """Append what an action did to the folder's log (created on first use) and return it."""
    entry = ActionEntry(
        time=timestamp(),
        user=user,
        action=action,
        server=server,
        outcomes=tuple(
            JobOutcome(r.job_id, r.ok, None if r.ok else signature(r.error)) for r in results
        ),
    )
    append_records(action_log(folder), [entry.to_record()], max_bytes=MAX_BYTES)
    return entry


def read_actions(folder: Path, limit: int = 200, *, job_id: str | None = None) -> list[ActionEntry]:
    """The newest `limit` entries (that name `job_id`, if given), oldest first; damaged lines
    are skipped, not fatal."""
    entries = []
    for data in read_records(action_log(folder), job_id)[-limit:]:
        try:
            outcomes = tuple(
                JobOutcome(str(j["job_id"]), bool(j["ok"]), j.get("reason")) for j in data["jobs"]
            )
            entries.append(
                ActionEntry(
                    str(data["time"]),
                    str(data["user"]),
                    str(data["action"]),
                    str(data["server"]),
                    outcomes,
                )
            )
        except (ValueError, KeyError, TypeError):
            continue
    return entries
