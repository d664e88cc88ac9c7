"""The audit timeline of one job of a batch, merged from the records the client keeps beside it.

Sources, each optional (an old batch has none of them, a batch made with `anon batch add` has no
origin): `.anonbatch.origins` (created by whom, from which mapping row), the creation journal
(when, for jobs created before origins were recorded), `.anonbatch.actions` (every reset and
cancel, by whom, with its outcome) and `.anonbatch.statuses` (status changes the client saw).
The timeline shows what is known and says so when nothing is.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from anonapi_core.action_log import read_actions
from anonapi_core.batch import CreationJournal
from anonapi_core.job_origins import read_origins
from anonapi_core.status_history import read_statuses

EventKind = Literal["created", "reset", "cancel", "status"]
# Records are timed to the millisecond; older ones (and the journal) to the second. Events with
# equal times are told in the order they happen in: a job is created before it is reset, and
# reset before the client sees it ACTIVE again.
_ORDER: dict[str, int] = {"created": 0, "reset": 1, "cancel": 1, "status": 2}


@dataclass(frozen=True)
class TimelineEvent:
    """One thing that happened to a job: when (UTC, ISO 8601), what, and who did it if known."""

    time: str
    kind: EventKind
    text: str
    user: str | None = None

    @property
    def when(self) -> str:
        """`2026-12-07 08:00:01` (UTC)."""
        return self.time[:19].replace("T", " ")

    def line(self) -> str:
        return f"{self.when}  {self.text}"


@dataclass(frozen=True)
class JobTimeline:
    """What the batch folder's records say about one job, oldest first."""

    job_id: str
    events: list[TimelineEvent]


def job_timeline(folder: Path, job_id: str) -> JobTimeline:
    """Merge every record of `job_id` in `folder` into one time-ordered list."""
    job_id = str(job_id)
    events: list[TimelineEvent] = []
    origin = read_origins(folder, job_id).get(job_id)
    if origin is not None:
        events.append(TimelineEvent(origin.time, "created", origin.describe(), origin.user))
    else:
        journalled = [e for e in CreationJournal(folder).entries() if e.job_id == job_id]
        if journalled and journalled[-1].time:
            events.append(
                TimelineEvent(
                    journalled[-1].time,
                    "created",
                    "created (who and from which row: not recorded)",
                )
            )
    for entry in read_actions(folder, limit=10_000, job_id=job_id):
        for outcome in entry.outcomes:
            if outcome.job_id != job_id:
                continue
            kind: EventKind = "reset" if entry.action == "reset" else "cancel"
            events.append(
                TimelineEvent(
                    entry.time,
                    kind,
                    f"{entry.action} by {entry.user}: {outcome.result}",
                    entry.user,
                )
            )
    previous: str | None = None
    for seen in read_statuses(folder, job_id):
        if seen.status == previous:
            continue  # two processes polling the same batch each wrote the change down
        change = f"{previous} -> {seen.status}" if previous else f"first seen {seen.status}"
        events.append(TimelineEvent(seen.time, "status", f"status {change}"))
        previous = seen.status
    events.sort(key=lambda e: (e.time, _ORDER[e.kind]))
    return JobTimeline(job_id, events)
