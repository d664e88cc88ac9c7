"""The batch screen driven by key presses against a real embedded server (without workers)."""

from __future__ import annotations

import asyncio
import io
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from rich.console import Console, RenderableType
from textual.pilot import Pilot
from textual.widgets._footer import FooterKey

from anonapi_core.actions.jobs import cancel_jobs
from anonapi_server.demo import sample_jobs
from anonapi_tui.app import AnonApp
from anonapi_tui.job_sources import BatchJobSource, Fetched, StaticJobSource
from anonapi_tui.main import build_app
from anonapi_tui.screens.job_details import JobDetails, other_fields, user_fields
from anonapi_tui.screens.jobs import JobsScreen
from anonapi_tui.widgets.confirmation import Confirmation
from tests.tui.conftest import SIZE, Batch, running, settle, until
from tests.tui.test_main import svg_text


@asynccontextmanager
async def live(batch: Batch) -> AsyncIterator[tuple[Pilot, JobsScreen]]:
    """The batch screen polling every 0.05 s, after its first poll."""
    source = BatchJobSource(batch.settings, batch.folder)
    app = AnonApp({"batch": lambda: JobsScreen(source, interval=0.05)})
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await until(pilot, lambda: screen.polls >= 1)
        yield pilot, screen


def plain(renderable: RenderableType) -> str:
    """What a renderable shows, as plain text."""
    console = Console(width=100, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def batch_app(batch: Batch, start: str = "batch", read_only: bool = False) -> AnonApp:
    """The dashboard as `anon-tui` starts it in the batch's folder."""
    return build_app(batch.settings, batch.folder, start=start, read_only=read_only)


def status_cells(screen: JobsScreen, job_ids: list[str]) -> list[str]:
    return [screen.table.get_cell(job_id, "status").plain for job_id in job_ids]


async def test_marking_three_error_jobs_and_r_y_resets_exactly_those(batch: Batch) -> None:
    errors = batch.ids["ERROR"]
    app = batch_app(batch)
    async with running(app) as pilot:
        screen = app.screen
        assert screen.table.visible_ids[:4] == errors
        await pilot.press("space", "space", "space")
        assert screen.table.marked == set(errors[:3])
        await pilot.press("r")
        assert isinstance(app.screen, Confirmation)
        assert app.screen.question.startswith("Reset 3 jobs of 6 on the server?")
        await pilot.press("y")
        await settle(pilot)
        statuses = batch.statuses()
        assert [statuses[i] for i in errors] == ["ACTIVE", "ACTIVE", "ACTIVE", "ERROR"]
        assert status_cells(screen, errors) == ["ACTIVE", "ACTIVE", "ACTIVE", "ERROR"]
        assert screen.table.marked == set()


async def test_c_cancels_the_job_under_the_cursor_when_nothing_is_marked(batch: Batch) -> None:
    first_active = batch.ids["ACTIVE"][0]
    app = batch_app(batch)
    async with running(app) as pilot:
        await pilot.press("down", "down", "down", "down")
        assert app.screen.table.cursor_job_id == first_active
        await pilot.press("c")
        assert app.screen.question.startswith("Cancel 1 job of 6 on the server?")
        await pilot.press("y")
        await settle(pilot)
        assert batch.statuses()[first_active] == "INACTIVE"
        assert batch.statuses()[batch.ids["ACTIVE"][1]] == "ACTIVE"
        assert status_cells(app.screen, [first_active]) == ["INACTIVE"]


async def test_shift_r_resets_every_error_job_after_naming_the_count(batch: Batch) -> None:
    app = batch_app(batch)
    async with running(app) as pilot:
        await pilot.press("R")
        assert app.screen.question.startswith("Reset 4 jobs in ERROR of 6 on the server?")
        await pilot.press("y")
        await settle(pilot)
        assert set(batch.statuses().values()) == {"ACTIVE"}


async def test_answering_n_changes_nothing_and_keeps_the_marks(batch: Batch) -> None:
    app = batch_app(batch)
    async with running(app) as pilot:
        await pilot.press("space", "r", "n")
        await settle(pilot)
        assert isinstance(app.screen, JobsScreen)
        assert app.screen.table.marked == {batch.ids["ERROR"][0]}
        assert set(batch.statuses()[i] for i in batch.ids["ERROR"]) == {"ERROR"}


async def test_read_only_mode_refuses_reset_and_hides_it(batch: Batch) -> None:
    app = batch_app(batch, read_only=True)
    async with running(app) as pilot:
        await pilot.press("space", "r", "c", "R")
        await settle(pilot)
        assert isinstance(app.screen, JobsScreen)
        shown = {b.binding.action for b in app.screen.active_bindings.values()}
        assert {"reset", "cancel", "reset_errors"}.isdisjoint(shown)
        assert set(batch.statuses()[i] for i in batch.ids["ERROR"]) == {"ERROR"}


async def test_filter_by_status_then_a_marks_only_the_visible_jobs(batch: Batch) -> None:
    app = batch_app(batch)
    async with running(app) as pilot:
        await pilot.press("slash", *"error", "enter")
        table = app.screen.table
        assert table.visible_ids == batch.ids["ERROR"]
        await pilot.press("a")
        assert table.marked == set(batch.ids["ERROR"])
        await pilot.press("slash", "escape")
        assert len(table.visible_ids) == 6
        assert table.marked == set(batch.ids["ERROR"])


async def test_text_filter_matches_any_column(batch: Batch) -> None:
    app = batch_app(batch)
    async with running(app) as pilot:
        await pilot.press("slash", *"act1", "enter")
        assert app.screen.table.visible_ids == [batch.ids["ACTIVE"][1]]


async def test_sorting_keeps_the_cursor_on_the_same_job(batch: Batch) -> None:
    app = batch_app(batch)
    async with running(app) as pilot:
        table = app.screen.table
        await pilot.press("down", "down", "down", "down", "down")
        job = table.cursor_job_id
        await pilot.press("s", "S")  # by id, reversed
        assert table.visible_ids[0] == batch.ids["ACTIVE"][-1]
        assert table.cursor_job_id == job
        await pilot.press("s", "s")  # by date, then status
        assert table.sort_column == "status"
        assert str(app.screen.query_one("#poll-state").render()) == "sorted by Status ascending"
        assert table.cursor_job_id == job


async def test_enter_opens_details_with_the_full_error_text(batch: Batch) -> None:
    app = batch_app(batch)
    async with running(app) as pilot:
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, JobDetails)
        assert app.screen.job.source_path is not None  # the extended record arrived
        body = app.screen.query_one("#details-body")
        assert [child.id for child in body.children] == [
            "error-text",
            "user-fields",
            "timeline",
            "other-fields",
        ]
        headline = str(body.children[0].render())
        assert headline.startswith("Status: ERROR")
        assert headline.endswith("Patient is on the opt-out list [/] [bold]")
        labels = [line.split()[0] for line in plain(user_fields(app.screen.job)).splitlines()]
        assert labels[:3] == ["source", "source", "destination"]  # type, path, ...
        assert labels[-1] == "description"
        assert "source_path" not in plain(other_fields(app.screen.job))
        assert body.can_focus and body.has_focus  # up/down scroll a long record
        await pilot.press("escape")
        assert isinstance(app.screen, JobsScreen)


async def test_keys_are_remapped_by_binding_id_from_the_settings(batch: Batch) -> None:
    batch.settings.keymap = {"jobs.reset": "x"}
    app = batch_app(batch)
    async with running(app) as pilot:
        await pilot.press("r")
        assert isinstance(app.screen, JobsScreen)
        await pilot.press("x")
        assert isinstance(app.screen, Confirmation)


async def test_p_pauses_and_resumes_the_live_refresh(batch: Batch) -> None:
    async with live(batch) as (pilot, screen):
        await pilot.press("p")
        await settle(pilot)
        paused_at = screen.polls
        await asyncio.sleep(0.3)  # six poll intervals
        await settle(pilot)
        assert screen.polls == paused_at
        await pilot.press("p")
        await until(pilot, lambda: screen.polls >= paused_at + 2)


async def test_refresh_shows_status_changes_made_elsewhere(batch: Batch) -> None:
    async with live(batch) as (pilot, screen):
        target = batch.ids["ACTIVE"][1]
        cancel_jobs(batch.settings, batch.settings.active_server(), [target])
        polls = screen.polls
        await until(pilot, lambda: screen.polls >= polls + 2)
        assert status_cells(screen, [target]) == ["INACTIVE"]


class SlowSource(StaticJobSource):
    """Sample jobs that take `delay` seconds to fetch; records how many fetches overlap."""

    def __init__(self, delay: float) -> None:
        super().__init__(sample_jobs(5))
        self.delay = delay
        self.running = 0
        self.most_at_once = 0
        self.fetches = 0
        self.lock = threading.Lock()

    def fetch(self) -> Fetched:
        with self.lock:
            self.running += 1
            self.fetches += 1
            self.most_at_once = max(self.most_at_once, self.running)
        time.sleep(self.delay)
        with self.lock:
            self.running -= 1
        return super().fetch()


async def test_polls_never_overlap_and_a_slow_server_is_asked_less_often() -> None:
    source = SlowSource(delay=0.05)
    app = AnonApp({"batch": lambda: JobsScreen(source, interval=0.005)})
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f", "f", "f")  # refresh now, three times, while a poll runs
        await asyncio.sleep(1.0)
        await pilot.pause()
    assert source.most_at_once == 1
    # 0.05 s per fetch with 0.15 s pauses: about 5 polls plus the pressed ones; polling
    # every 0.005 s regardless would make about 18.
    assert 2 <= source.fetches <= 10


async def test_while_a_modal_is_open_new_data_waits_and_is_drawn_when_it_closes(
    batch: Batch,
) -> None:
    async with live(batch) as (pilot, screen):
        await pilot.press("question_mark")
        target = batch.ids["ACTIVE"][0]
        cancel_jobs(batch.settings, batch.settings.active_server(), [target])
        polls = screen.polls
        await until(pilot, lambda: screen.polls >= polls + 2)
        assert status_cells(screen, [target]) == ["ACTIVE"]
        await pilot.press("escape")
        await pilot.pause()
        assert status_cells(screen, [target]) == ["INACTIVE"]


async def test_server_jobs_screen_lists_the_active_servers_latest_jobs_and_acts_on_them(
    batch: Batch,
) -> None:
    app = batch_app(batch, start="server_jobs")
    async with running(app) as pilot:
        title = str(app.screen.query_one("#title").render())
        assert title == f"Latest jobs on local ({batch.server.url})"
        table = app.screen.table
        assert set(batch.ids["ERROR"] + batch.ids["ACTIVE"]) <= set(table.visible_ids)
        await pilot.press("slash", *"error", "enter")
        # The module's server also holds other tests' jobs: only its ERROR ones stay visible.
        assert set(batch.ids["ERROR"]) <= set(table.visible_ids)
        assert set(batch.ids["ACTIVE"]).isdisjoint(table.visible_ids)
        target = batch.ids["ERROR"][3]
        table.move_cursor(row=table.visible_ids.index(target))
        assert table.cursor_job_id == target
        await pilot.press("r", "y")
        await settle(pilot)
        assert batch.statuses()[target] == "ACTIVE"
        assert batch.statuses()[batch.ids["ERROR"][0]] == "ERROR"


async def test_the_footer_keeps_help_and_quit_on_screen_and_the_progress_shows_a_percentage() -> (
    None
):
    jobs = sample_jobs(40)
    app = AnonApp({"batch": lambda: JobsScreen(StaticJobSource(jobs))})
    async with running(app, size=(80, 24)):
        keys = {key.action: key.region for key in app.screen.query(FooterKey)}
        assert "command_palette" not in keys  # docked right, it let the keys under it show
        for action in ("app.help", "app.quit"):
            assert keys[action].right <= 80, f"{action} is cut off the footer at 80 columns"
        counts = str(app.screen.query_one("#counts").render())
        for status in ("ACTIVE", "UPLOADED", "DONE", "ERROR", "INACTIVE"):
            assert status in counts, f"{status} count cut off at 80 columns"
        finished = sum(job.status in ("DONE", "ERROR", "INACTIVE") for job in jobs)
        assert f"{finished / len(jobs):.0%}" in svg_text(app.export_screenshot())
