"""Speeds, ETA, stalls and events from a history of polls, driven by a fake clock."""

from __future__ import annotations

import pytest

from anonapi_core.models import JobInfo
from anonapi_core.throughput import (
    Event,
    Progress,
    ProgressTracker,
    duration_text,
    progress_parts,
    rate_text,
)


def job(job_id: int, status: str = "ACTIVE", down: int | None = 0, proc: int | None = 0) -> JobInfo:
    return JobInfo(
        job_id=job_id,
        date="2026-11-01T08:00:00",
        user_name="demo",
        status=status,
        error=None,
        description=None,
        project_name=None,
        priority=None,
        files_downloaded=down,
        files_processed=proc,
    )


class Poller:
    """A tracker fed by hand: `poll(seconds_later, jobs)` advances the fake clock first."""

    def __init__(self, **options: float) -> None:
        self.tracker = ProgressTracker(**options)  # type: ignore[arg-type]
        self.now = 1000.0

    def poll(self, later: float, jobs: list[JobInfo]) -> Progress:
        self.now += later
        return self.tracker.update(self.now, jobs)


def test_speeds_come_from_what_happened_between_polls() -> None:
    poller = Poller()
    first = poller.poll(0, [job(1), job(2), job(3), job(4)])
    assert first.jobs_per_minute is None and first.files_per_second is None
    assert progress_parts(first) == []
    # One minute later: job 1 finished (100 files), job 2 processed 20 files.
    second = poller.poll(60, [job(1, "DONE", 100, 100), job(2, "ACTIVE", 40, 20), job(3), job(4)])
    assert second.jobs_per_minute == pytest.approx(1.0)
    assert second.files_per_second == pytest.approx(120 / 60)
    assert second.running == 3
    assert second.eta_seconds == pytest.approx(3 * 60)
    assert progress_parts(second) == ["1 jobs/min", "2 files/s", "ETA 3 min"]


def test_a_reset_does_not_make_the_speed_negative() -> None:
    poller = Poller()
    poller.poll(0, [job(1, "ERROR", 10, 5), job(2, "ACTIVE", 10, 10)])
    # Job 1 is reset (files back to 0, ACTIVE), job 2 goes on.
    after = poller.poll(30, [job(1, "ACTIVE", 0, 0), job(2, "ACTIVE", 20, 20)])
    assert after.jobs_per_minute == 0
    assert after.files_per_second == pytest.approx(10 / 30)
    assert after.eta_seconds is None
    assert "ETA unknown" in progress_parts(after)


def test_speeds_forget_what_happened_before_the_window() -> None:
    poller = Poller(window=120)
    poller.poll(0, [job(1), job(2), job(3)])
    poller.poll(60, [job(1, "DONE"), job(2), job(3)])  # a finish, then a long quiet time
    for _ in range(4):
        quiet = poller.poll(60, [job(1, "DONE"), job(2), job(3)])
    assert quiet.jobs_per_minute == 0


def test_the_history_is_bounded() -> None:
    poller = Poller(window=10**9, max_samples=5)
    for n in range(50):
        poller.poll(1, [job(1, "ACTIVE", n, n)])
    assert len(poller.tracker._samples) == 5


def test_an_active_job_without_progress_is_stalled_after_the_configured_time() -> None:
    poller = Poller(stall_after=600)
    jobs = [job(1, "ACTIVE", 5, 2), job(2, "ACTIVE", 0, 0)]
    assert not poller.poll(0, [*jobs, job(3, "ACTIVE", 0, 0)]).stalled
    for n in range(1, 10):  # job 3 keeps moving for 9 minutes: the batch is not still
        assert not poller.poll(60, [*jobs, job(3, "ACTIVE", n, n)]).stalled
    progress = poller.poll(60, [*jobs, job(3, "ACTIVE", 10, 10)])
    # Job 1 started and stopped; job 2 is waiting its turn in a moving batch: not stalled.
    assert progress.stalled == {"1"}
    assert progress.events == (Event.STALLED,)
    assert "1 stalled (no progress for 10 min)" in progress_parts(progress)
    # Reported once: the next poll with the same stall brings no event.
    assert poller.poll(60, [*jobs, job(3, "ACTIVE", 11, 11)]).events == ()


def test_when_nothing_moves_every_active_job_is_stalled() -> None:
    poller = Poller(stall_after=120)
    jobs = [job(1, "ACTIVE", 0, 0), job(2, "ACTIVE", 0, 0), job(3, "UPLOADED", 4, 4)]
    assert not poller.poll(0, jobs).stalled
    assert not poller.poll(119, jobs).stalled
    progress = poller.poll(1, jobs)
    assert progress.stalled == {"1", "2"}  # UPLOADED is the server's business, not a stall
    assert progress.events == (Event.STALLED,)


def test_progress_ends_a_stall_and_a_new_stall_is_a_new_event() -> None:
    poller = Poller(stall_after=60)
    poller.poll(0, [job(1, "ACTIVE", 1, 1)])
    assert poller.poll(60, [job(1, "ACTIVE", 1, 1)]).events == (Event.STALLED,)
    assert poller.poll(10, [job(1, "ACTIVE", 2, 2)]).stalled == frozenset()
    assert poller.poll(60, [job(1, "ACTIVE", 2, 2)]).events == (Event.STALLED,)


def test_finishing_is_an_event_once_and_only_when_seen_happening() -> None:
    poller = Poller()
    assert poller.poll(0, [job(1, "DONE"), job(2, "ERROR")]).events == ()  # already finished
    assert poller.poll(5, [job(1, "ACTIVE"), job(2, "ERROR")]).events == ()  # reset
    done = poller.poll(5, [job(1, "DONE"), job(2, "ERROR")])
    assert done.events == (Event.FINISHED,)
    assert done.eta_seconds == 0
    assert "none running" in progress_parts(done)
    assert poller.poll(5, [job(1, "DONE"), job(2, "ERROR")]).events == ()


def test_jobs_that_left_the_list_are_forgotten() -> None:
    poller = Poller()
    poller.poll(0, [job(n) for n in range(100)])
    poller.poll(1, [job(1)])
    assert list(poller.tracker._seen) == [1]


@pytest.mark.parametrize(
    "seconds, text",
    [(20, "< 1 min"), (14 * 60, "14 min"), (125 * 60, "2 h 05 min"), (76 * 3600, "3 d 4 h")],
)
def test_durations_read_as_estimates(seconds: float, text: str) -> None:
    assert duration_text(seconds) == text


@pytest.mark.parametrize(
    "value, text",
    [
        (0, "0 jobs/min"),
        (0.25, "0.25 jobs/min"),
        (3.44, "3.4 jobs/min"),
        (1234.5, "1,234 jobs/min"),
    ],
)
def test_rates_have_two_significant_digits_below_ten(value: float, text: str) -> None:
    assert rate_text(value, "jobs/min") == text
