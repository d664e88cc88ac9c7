"""Dashboard: the refresh tick of a 10,000-job batch with 1% of statuses changing, at 80x24 and
200x60, and key-press latency while the table refreshes.

The batch screen runs headless (Textual's test driver) on in-memory jobs, so only the dashboard
is measured, not the network: a tick is what happens on the UI thread when a poll's jobs arrive
(diff against the last rendered rows, update the changed cells, counts, progress bar, speeds),
then a full repaint of the screen (every visible line rendered again, an upper bound of what the
terminal update costs). Successive ticks alternate between two job lists differing in 1% of
statuses. The passes over every job (progress, each row's text, counts, changes, sorted order)
run in the poll thread, not in the tick: their cost per poll is a row of their own. Key latency
is from a key arriving in the app's queue (as from a terminal) until the cursor has moved: while
polls keep arriving every 50 ms, with the refresh paused (the reference), and for a key that
arrives while a tick is being applied.

    python bench/bench_dashboard.py [--quick]
"""

from __future__ import annotations

import asyncio
import time

from common import Report, Row, Timing, at_most_seconds, parse_args, runs_for

from anonapi_core.models import JobInfo, JobStatus
from anonapi_server.demo import sample_jobs
from anonapi_tui.app import AnonApp
from anonapi_tui.job_sources import Fetched, StaticJobSource
from anonapi_tui.screens.jobs import JobsScreen

SIZES = ((80, 24), (200, 60))
CHANGED_SHARE = 0.01
TICKS_PER_RUN = 4


def with_changes(jobs: list[JobInfo], share: float) -> list[JobInfo]:
    """The same jobs with every (1/share)-th one in another status and with other counters."""
    step = round(1 / share)
    changed = list(jobs)
    for i in range(0, len(jobs), step):
        job = jobs[i]
        status = JobStatus.DONE if job.status != JobStatus.DONE else JobStatus.ERROR
        changed[i] = job.model_copy(update={"status": status, "files_processed": 999})
    return changed


class AlternatingSource(StaticJobSource):
    """Each fetch returns the other of two job lists: every poll brings 1% changes."""

    def __init__(self, first: list[JobInfo], second: list[JobInfo]) -> None:
        super().__init__(first)
        self.lists = (first, second)
        self.fetches = 0

    def fetch(self) -> Fetched:
        self.fetches += 1
        return Fetched(self.lists[self.fetches % 2])


async def wait_polls(pilot, screen: JobsScreen, count: int, timeout: float = 60) -> None:
    """Wait until the screen has polled `count` times; a stuck screen fails the run."""
    deadline = time.perf_counter() + timeout
    while screen.polls < count:
        if time.perf_counter() > deadline:
            raise RuntimeError(f"the screen polled {screen.polls} times in {timeout} s")
        await pilot.pause(0.05)


def reply(screen: JobsScreen, jobs: list[JobInfo]) -> tuple[JobsScreen.Polled, float]:
    """A poll's reply as the poll thread makes it (digested), and the seconds that took."""
    fetched = Fetched(jobs)
    start = time.perf_counter()
    digest = screen.digest(fetched)
    return JobsScreen.Polled(0.0, fetched, None, digest), time.perf_counter() - start


async def tick_times(
    jobs: int, runs: int, sort_by: str | None, size: tuple[int, int]
) -> tuple[Timing, Timing, Timing, Timing]:
    """(poll thread, apply only, apply + full repaint, the same in the UI thread's CPU time)
    per tick, after the first full load. On a machine shared with other work the wall clock
    also counts the time the thread waited for a core; its CPU time does not."""
    first = sample_jobs(jobs)
    second = with_changes(first, CHANGED_SHARE)
    app = AnonApp({"batch": lambda: JobsScreen(StaticJobSource(first), interval=3600)})
    poll_times, apply_times, total_times, cpu_times = [], [], [], []
    async with app.run_test(size=size) as pilot:
        screen = app.screen
        await wait_polls(pilot, screen, 1)
        if sort_by:
            screen.table.sort_by(sort_by)
        await pilot.pause()
        for run in range(runs + 1):  # the first tick warms caches and is not counted
            polled, polling = reply(screen, second if run % 2 == 0 else first)
            cpu_start, start = time.thread_time(), time.perf_counter()
            screen._apply(polled)
            applied = time.perf_counter()
            screen._compositor.render_strips()
            done, cpu_done = time.perf_counter(), time.thread_time()
            await pilot.pause()
            if run:
                poll_times.append(polling)
                apply_times.append(applied - start)
                total_times.append(done - start)
                cpu_times.append(cpu_done - cpu_start)
    return tuple(Timing(tuple(t)) for t in (poll_times, apply_times, total_times, cpu_times))


async def press_timed(
    app: AnonApp, screen: JobsScreen, n: int, before: JobsScreen.Polled | None = None
) -> float:
    """Seconds from the `n`-th key press (down or up, so the cursor stays near the top) until
    the cursor moved; `before` is a poll reply queued just ahead of the key."""
    row = screen.table.cursor_row
    start = time.perf_counter()
    if before is not None:
        screen.post_message(before)
    app.simulate_key("down" if n % 40 < 20 else "up")
    while screen.table.cursor_row == row:
        if time.perf_counter() - start > 10:
            raise RuntimeError("a key press was not handled within 10 s")
        await asyncio.sleep(0)
    return time.perf_counter() - start


async def key_during_tick(jobs: int, presses: int, size: tuple[int, int]) -> Timing:
    """Time from a key press that arrives as a sorted table's tick starts, until it is handled:
    the key waits for whatever of the tick runs on the UI thread without yielding."""
    first = sample_jobs(jobs)
    second = with_changes(first, CHANGED_SHARE)
    app = AnonApp({"batch": lambda: JobsScreen(StaticJobSource(first), interval=3600)})
    times = []
    async with app.run_test(size=size) as pilot:
        screen = app.screen
        await wait_polls(pilot, screen, 1)
        screen.table.sort_by("status")
        await pilot.pause()
        for n in range(presses):
            polled, _ = reply(screen, second if n % 2 == 0 else first)
            times.append(await press_timed(app, screen, n, before=polled))
            await pilot.pause(0.03)
    return Timing(tuple(times))


async def key_latency(
    jobs: int, presses: int, refreshing: bool, size: tuple[int, int]
) -> tuple[Timing, int]:
    """Time from a `down` key press to its handling, while polls keep bringing changes."""
    first = sample_jobs(jobs)
    source = AlternatingSource(first, with_changes(first, CHANGED_SHARE))
    app = AnonApp({"batch": lambda: JobsScreen(source, interval=0.05)})
    times = []
    async with app.run_test(size=size) as pilot:
        screen = app.screen
        await wait_polls(pilot, screen, 2)
        if not refreshing:
            await pilot.press("p")
            await pilot.pause(0.2)
        polls_before = screen.polls
        for n in range(presses):
            times.append(await press_timed(app, screen, n))
            await asyncio.sleep(0.03)
        ticks = screen.polls - polls_before
    return Timing(tuple(times)), ticks


def main() -> None:
    args = parse_args(__doc__)
    runs = runs_for(args.quick)
    jobs = 1_000 if args.quick else 10_000
    presses = 10 if args.quick else 60
    changed = round(jobs * CHANGED_SHARE)
    # Ticks are cheap, and with only `runs` of them one full garbage collection (~150 ms at
    # 10,000 jobs) on a shared machine decided the median; the max still shows such a pause.
    ticks = runs * TICKS_PER_RUN
    report = Report(
        "Dashboard refresh",
        f"Batch screen, {jobs:,} jobs, {changed:,} ({CHANGED_SHARE:.0%}) statuses changed per "
        f"tick, terminals 80x24 and 200x60, headless; {ticks} ticks after one warm-up tick.",
    )
    target = at_most_seconds(0.05)
    for width, height in SIZES:
        size = f"{width}x{height}"
        for sort_by, label in ((None, "server order"), ("status", "sorted by status")):
            polling, applied, total, cpu = asyncio.run(
                tick_times(jobs, ticks, sort_by, (width, height))
            )
            report.rows.append(
                Row(f"{size} tick, {label}: poll thread", polling, note="digest, off the UI")
            )
            report.rows.append(
                Row(f"{size} tick, {label}: apply changes", applied, note="changed rows, order")
            )
            report.rows.append(
                Row(
                    f"{size} tick, {label}: apply + full repaint",
                    total,
                    target=target,
                    note="UI thread busy",
                )
            )
            report.rows.append(
                Row(
                    f"{size} tick, {label}: apply + full repaint, CPU time",
                    cpu,
                    target=target,
                    note="without waiting for a core",
                )
            )
    for width, height in SIZES:
        size = f"{width}x{height}"
        during = asyncio.run(key_during_tick(jobs, presses, (width, height)))
        report.rows.append(
            Row(f"{size} key press arriving with a tick", during, note="sorted; waits for it")
        )
        latency, polled = asyncio.run(key_latency(jobs, presses, True, (width, height)))
        report.rows.append(
            Row(
                f"{size} key press while refreshing",
                latency,
                note=f"{presses} presses, {polled} ticks",
            )
        )
        idle, _ = asyncio.run(key_latency(jobs, presses, False, (width, height)))
        report.rows.append(Row(f"{size} key press, refresh paused", idle, note="reference"))
    print(report.render())


if __name__ == "__main__":
    main()
