"""Progress as people read it: jobs per minute, files per second, an ETA, and stalled jobs.

Fed one poll at a time (the dashboard's, or `anon batch status --watch`'s) with the time it was
taken, so tests drive it with a fake clock. Speeds come from a bounded history of samples over
the last `window` seconds. The samples count what was *seen happening* (a job turning finished
between two polls, files processed growing), not the totals: a reset sets a job's files back to
0 and its status back to ACTIVE, and totals would then make the speed negative.

A job is *stalled* when it is ACTIVE and its file counts and status have not changed for
`stall_after` seconds, and it either started (some file counted) or nothing in the whole list
moved for that long. ACTIVE also means "queued": in a busy batch most ACTIVE jobs wait their
turn with 0 files, and marking them all would drown the few that hang.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from anonapi_core.job_fields import RUNNING, JobStatus
from anonapi_core.settings import DEFAULT_STALL_MINUTES

if TYPE_CHECKING:
    from anonapi_core.models import JobInfo

ACTIVE = JobStatus.ACTIVE
FINISHED = frozenset({JobStatus.DONE, JobStatus.ERROR, JobStatus.INACTIVE})
WINDOW_S = 600.0
"""Speeds are averaged over the last 10 minutes: long enough to smooth out one worker's
rhythm, short enough that a slowdown shows within minutes."""
MAX_SAMPLES = 600
"""At most this many samples are kept, whatever the poll interval: memory stays bounded."""


class Event(StrEnum):
    """Something that just happened, worth a toast and a bell once (not on every poll)."""

    FINISHED = "finished"
    """Jobs were running at the previous poll, and none is now."""
    STALLED = "stalled"
    """At least one job became stalled since the previous poll."""


@dataclass(frozen=True)
class Sample:
    """One poll: when, and how many finishes and processed files were seen until then."""

    at: float
    finished: int
    files: int


@dataclass(frozen=True)
class Progress:
    """What one poll tells a person: counts, speeds (None until measurable), stalls, events."""

    total: int
    running: int
    jobs_per_minute: float | None = None
    files_per_second: float | None = None
    stalled: frozenset[str] = frozenset()
    """Ids (as text) of the stalled jobs."""
    stall_after: float = DEFAULT_STALL_MINUTES * 60
    events: tuple[Event, ...] = ()

    @property
    def eta_seconds(self) -> float | None:
        """Seconds until the running jobs finish at the current speed; None when unknown."""
        if not self.running:
            return 0.0
        if not self.jobs_per_minute:
            return None
        return 60.0 * self.running / self.jobs_per_minute


@dataclass(frozen=True)
class _Seen:
    """What a job looked like, and since when (the last change or the first poll it was in)."""

    state: tuple[str, int | None, int | None]
    since: float


@dataclass
class ProgressTracker:
    """The history of polls of one list of jobs. Not thread-safe: one poller feeds it."""

    stall_after: float = DEFAULT_STALL_MINUTES * 60
    window: float = WINDOW_S
    max_samples: int = MAX_SAMPLES
    _samples: deque[Sample] = field(default_factory=deque, init=False)
    _seen: dict[int, _Seen] = field(default_factory=dict, init=False)
    _finished: int = field(default=0, init=False)
    _files: int = field(default=0, init=False)
    _last_change: float | None = field(default=None, init=False)
    _running: int | None = field(default=None, init=False)
    _stalled: frozenset[str] = field(default=frozenset(), init=False)

    def update(self, now: float, jobs: Iterable[JobInfo]) -> Progress:
        """Take in one poll's jobs, seen at `now` (seconds, any monotonic clock)."""
        seen: dict[int, _Seen] = {}
        previous = self._seen
        total = running = 0
        changed = False
        for job in jobs:
            total += 1
            status = job.status
            if status in RUNNING:
                running += 1
            state = (status, job.files_downloaded, job.files_processed)
            before = previous.get(job.job_id)
            if before is None:
                seen[job.job_id] = _Seen(state, now)
                changed = True
            elif before.state == state:
                seen[job.job_id] = before
            else:
                seen[job.job_id] = _Seen(state, now)
                changed = True
                self._count_change(before.state, state)
        self._seen = seen
        if changed or self._last_change is None:
            self._last_change = now
        self._add_sample(Sample(now, self._finished, self._files))
        stalled = self._find_stalled(now)
        events = []
        if self._running and not running and total:
            events.append(Event.FINISHED)
        if stalled - self._stalled:
            events.append(Event.STALLED)
        self._running, self._stalled = running, stalled
        jobs_per_minute, files_per_second = self._speeds()
        return Progress(
            total=total,
            running=running,
            jobs_per_minute=jobs_per_minute,
            files_per_second=files_per_second,
            stalled=stalled,
            stall_after=self.stall_after,
            events=tuple(events),
        )

    def _count_change(
        self, before: tuple[str, int | None, int | None], now: tuple[str, int | None, int | None]
    ) -> None:
        if now[0] in FINISHED and before[0] not in FINISHED:
            self._finished += 1
        if now[2] is not None and now[2] > (before[2] or 0):
            self._files += now[2] - (before[2] or 0)

    def _add_sample(self, sample: Sample) -> None:
        samples = self._samples
        samples.append(sample)
        # Keep one sample at or before the window's start: the speed spans the whole window.
        while len(samples) > 2 and samples[1].at <= sample.at - self.window:
            samples.popleft()
        while len(samples) > self.max_samples:
            samples.popleft()

    def _speeds(self) -> tuple[float | None, float | None]:
        first, last = self._samples[0], self._samples[-1]
        span = last.at - first.at
        if span <= 0:
            return None, None
        return (
            60.0 * (last.finished - first.finished) / span,
            (last.files - first.files) / span,
        )

    def _find_stalled(self, now: float) -> frozenset[str]:
        limit = now - self.stall_after
        assert self._last_change is not None
        all_still = self._last_change <= limit
        return frozenset(
            str(job_id)
            for job_id, seen in self._seen.items()
            if seen.state[0] == ACTIVE
            and seen.since <= limit
            and (all_still or seen.state[1] or seen.state[2])
        )


def duration_text(seconds: float) -> str:
    """`< 1 min`, `14 min`, `2 h 05 min`, `3 d 4 h`: as precise as an estimate deserves."""
    minutes = round(seconds / 60)
    if minutes < 1:
        return "< 1 min"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def rate_text(value: float, unit: str) -> str:
    """`12 jobs/min`, `0.4 files/s`: two significant digits below 10, whole numbers above."""
    shown = f"{value:,.0f}" if value >= 10 or value == 0 else f"{value:.2g}"
    return f"{shown} {unit}"


def progress_parts(progress: Progress) -> list[str]:
    """The progress line's parts: speeds, ETA, stalled count (none before the second poll).
    Shared by CLI and dashboard."""
    parts = []
    if progress.jobs_per_minute is not None and progress.files_per_second is not None:
        parts += [
            rate_text(progress.jobs_per_minute, "jobs/min"),
            rate_text(progress.files_per_second, "files/s"),
        ]
        eta = progress.eta_seconds
        if not progress.running:
            parts.append("none running")
        else:
            parts.append("ETA unknown" if eta is None else f"ETA {duration_text(eta)}")
    if progress.stalled:
        parts.append(stalled_text(progress))
    return parts


def stalled_text(progress: Progress) -> str:
    """`2 stalled (no progress for 10 min)`."""
    return (
        f"{len(progress.stalled):,} stalled (no progress for {duration_text(progress.stall_after)})"
    )
