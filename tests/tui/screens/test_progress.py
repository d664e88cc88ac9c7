"""Speeds, ETA, stalled jobs and finish/stall notifications on the batch screen, against a real
embedded server (without workers: the test moves jobs the way a worker does) and a fake clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from textual.pilot import Pilot

from anonapi_core.batch import add_to_batch
from anonapi_core.models import JobStatus
from anonapi_server.testing import EmbeddedServer
from anonapi_tui.app import AnonApp
from anonapi_tui.job_sources import BatchJobSource
from anonapi_tui.screens.jobs import JobsScreen
from tests.tui.conftest import SIZE, Batch, create_jobs, settings_for, until


class FakeClock:
    """Seconds that pass only when the test says so."""

    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


class Recorded:
    """The toasts and bells of one app, kept for the test to read."""

    def __init__(self, app: AnonApp) -> None:
        self.toasts: list[str] = []
        self.bells = 0
        notify, bell = app.notify, app.bell

        def recording_notify(message: str, **options: object) -> None:
            self.toasts.append(message)
            notify(message, **options)  # type: ignore[arg-type]

        def recording_bell() -> None:
            self.bells += 1
            bell()

        app.notify = recording_notify  # type: ignore[method-assign]
        app.bell = recording_bell  # type: ignore[method-assign]


@asynccontextmanager
async def dashboard(
    settings, folder: Path, clock: FakeClock, stall_after: float = 600
) -> AsyncIterator[tuple[Pilot, JobsScreen, Recorded]]:
    """The batch screen after its first poll; it polls again only on `f`."""
    source = BatchJobSource(settings, folder)
    screen = JobsScreen(source, interval=3600, stall_after=stall_after, clock=clock)
    app = AnonApp({"batch": lambda: screen})
    recorded = Recorded(app)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: screen.polls >= 1)
        yield pilot, screen, recorded


async def poll_later(pilot: Pilot, screen: JobsScreen, clock: FakeClock, seconds: float) -> None:
    """Let `seconds` pass, press `f` and wait for that poll to be shown."""
    clock.now += seconds
    polls = screen.polls
    await pilot.press("f")
    await until(pilot, lambda: screen.polls > polls)
    await pilot.pause()


def work_on(server: EmbeddedServer, job_ids: list[str], files: dict[str, int], done: set[str]):
    """Claim the jobs as a worker would, count `files` processed on each, finish those in
    `done`. Other claimable jobs on the shared server (left by other tests) are finished."""
    wanted = set(job_ids)
    while wanted:
        claim = server.store.claim_job("test-worker", 600)
        assert claim is not None, f"jobs {wanted} were not claimable"
        job_id = str(claim.job_id)
        if job_id not in wanted:
            server.store.finish(claim, JobStatus.DONE)
            continue
        wanted.discard(job_id)
        count = files.get(job_id, 0)
        server.store.update_claimed(claim, files_downloaded=count, files_processed=count)
        if job_id in done:
            server.store.finish(claim, JobStatus.DONE)


def speeds(screen: JobsScreen) -> str:
    return str(screen.query_one("#speeds").render())


async def test_the_summary_shows_jobs_per_minute_files_per_second_and_an_eta(
    idle_server: EmbeddedServer, tmp_path: Path, private_settings: Path
) -> None:
    settings = settings_for(idle_server, private_settings)
    ids = create_jobs(settings, idle_server, 4, "speed")
    folder = tmp_path / "batch"
    folder.mkdir()
    add_to_batch(folder, settings.active_server(), ids)
    clock = FakeClock()
    async with dashboard(settings, folder, clock) as (pilot, screen, _):
        assert not screen.query_one("#speeds").display  # nothing measured after one poll
        work_on(idle_server, ids[:2], {ids[0]: 60, ids[1]: 30}, done={ids[0]})
        await poll_later(pilot, screen, clock, 60)
        # One job finished in a minute, 90 files: 3 still running take 3 minutes more.
        assert speeds(screen) == "1 jobs/min  1.5 files/s  ETA 3 min"
        assert screen.table.get_cell(ids[0], "status").plain == "DONE"


async def test_jobs_without_progress_are_marked_stalled_and_told_once(batch: Batch) -> None:
    active = batch.ids["ACTIVE"]
    clock = FakeClock()
    async with dashboard(batch.settings, batch.folder, clock, stall_after=120) as (
        pilot,
        screen,
        recorded,
    ):
        await poll_later(pilot, screen, clock, 119)
        assert [screen.table.get_cell(i, "status").plain for i in active] == ["ACTIVE"] * 2
        assert recorded.bells == 0
        await poll_later(pilot, screen, clock, 1)
        assert [screen.table.get_cell(i, "status").plain for i in active] == ["STALLED"] * 2
        assert "2 stalled (no progress for 2 min)" in speeds(screen)
        assert "ACTIVE 2" in str(screen.query_one("#counts").render())  # still ACTIVE on the server
        assert recorded.bells == 1
        assert recorded.toasts == [
            f"2 stalled (no progress for 2 min): {', '.join(active)}. Filter them with / stalled."
        ]
        await poll_later(pilot, screen, clock, 30)  # still stalled: no second toast or bell
        assert recorded.bells == 1 and len(recorded.toasts) == 1
        await pilot.press("slash", *"stalled", "enter")
        assert screen.table.visible_ids == active
        await pilot.press("escape")
        await pilot.press("slash", *"active", "enter")
        assert screen.table.visible_ids == active


async def test_a_finished_batch_is_told_once_with_a_toast_and_the_bell(batch: Batch) -> None:
    active = batch.ids["ACTIVE"]
    clock = FakeClock()
    async with dashboard(batch.settings, batch.folder, clock) as (pilot, screen, recorded):
        work_on(batch.server, active, {}, done=set(active))
        await poll_later(pilot, screen, clock, 10)
        assert recorded.toasts == ["All 6 jobs finished: 2 DONE, 4 ERROR."]
        assert recorded.bells == 1
        assert "none running" in speeds(screen)
        await poll_later(pilot, screen, clock, 10)
        assert recorded.bells == 1 and len(recorded.toasts) == 1
