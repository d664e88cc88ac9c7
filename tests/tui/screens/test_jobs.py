"""The batch screen driven by key presses against a real embedded server (without workers)."""

from __future__ import annotations

import asyncio

from anonapi_tui.app import AnonApp
from anonapi_tui.main import build_app
from anonapi_tui.screens.job_details import JobDetails
from anonapi_tui.screens.jobs import JobsScreen
from anonapi_tui.sources import BatchJobSource
from anonapi_tui.widgets.confirmation import Confirmation
from tests.tui.conftest import Batch, settle

SIZE = (120, 34)


def status_cells(screen: JobsScreen, job_ids: list[str]) -> list[str]:
    return [screen.table.get_cell(job_id, "status").plain for job_id in job_ids]


async def test_marking_three_error_jobs_and_r_y_resets_exactly_those(batch: Batch) -> None:
    errors = batch.ids["ERROR"]
    app = build_app(batch.settings, batch.folder, start="batch")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert screen.table.visible_ids[:4] == errors
        await pilot.press("space", "space", "space")
        assert screen.table.marked == set(errors[:3])
        await pilot.press("r")
        assert isinstance(app.screen, Confirmation)
        assert app.screen.question.startswith("Reset 3 jobs on the server?")
        await pilot.press("y")
        await settle(pilot)
        statuses = batch.statuses()
        assert [statuses[i] for i in errors] == ["ACTIVE", "ACTIVE", "ACTIVE", "ERROR"]
        assert status_cells(screen, errors) == ["ACTIVE", "ACTIVE", "ACTIVE", "ERROR"]
        assert screen.table.marked == set()


async def test_c_cancels_the_job_under_the_cursor_when_nothing_is_marked(batch: Batch) -> None:
    first_active = batch.ids["ACTIVE"][0]
    app = build_app(batch.settings, batch.folder, start="batch")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("down", "down", "down", "down")
        assert app.screen.table.cursor_job_id == first_active
        await pilot.press("c")
        assert app.screen.question.startswith("Cancel 1 job on the server?")
        await pilot.press("y")
        await settle(pilot)
        assert batch.statuses()[first_active] == "INACTIVE"
        assert batch.statuses()[batch.ids["ACTIVE"][1]] == "ACTIVE"
        assert status_cells(app.screen, [first_active]) == ["INACTIVE"]


async def test_shift_r_resets_every_error_job_after_naming_the_count(batch: Batch) -> None:
    app = build_app(batch.settings, batch.folder, start="batch")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("R")
        assert app.screen.question.startswith("Reset 4 jobs in ERROR on the server?")
        await pilot.press("y")
        await settle(pilot)
        assert set(batch.statuses().values()) == {"ACTIVE"}


async def test_answering_n_changes_nothing_and_keeps_the_marks(batch: Batch) -> None:
    app = build_app(batch.settings, batch.folder, start="batch")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("space", "r", "n")
        await settle(pilot)
        assert isinstance(app.screen, JobsScreen)
        assert app.screen.table.marked == {batch.ids["ERROR"][0]}
        assert set(batch.statuses()[i] for i in batch.ids["ERROR"]) == {"ERROR"}


async def test_read_only_mode_refuses_reset_and_hides_it(batch: Batch) -> None:
    app = build_app(batch.settings, batch.folder, start="batch", read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("space", "r", "c", "R")
        await settle(pilot)
        assert isinstance(app.screen, JobsScreen)
        shown = {b.binding.action for b in app.screen.active_bindings.values()}
        assert {"reset", "cancel", "reset_errors"}.isdisjoint(shown)
        assert set(batch.statuses()[i] for i in batch.ids["ERROR"]) == {"ERROR"}


async def test_filter_by_status_then_a_marks_only_the_visible_jobs(batch: Batch) -> None:
    app = build_app(batch.settings, batch.folder, start="batch")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"error", "enter")
        table = app.screen.table
        assert table.visible_ids == batch.ids["ERROR"]
        await pilot.press("a")
        assert table.marked == set(batch.ids["ERROR"])
        await pilot.press("slash", "escape")
        assert len(table.visible_ids) == 6
        assert table.marked == set(batch.ids["ERROR"])


async def test_text_filter_matches_any_column(batch: Batch) -> None:
    app = build_app(batch.settings, batch.folder, start="batch")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"act1", "enter")
        assert app.screen.table.visible_ids == [batch.ids["ACTIVE"][1]]


async def test_sorting_keeps_the_cursor_on_the_same_job(batch: Batch) -> None:
    app = build_app(batch.settings, batch.folder, start="batch")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.table
        await pilot.press("down", "down", "down", "down", "down")
        job = table.cursor_job_id
        await pilot.press("s", "S")  # by id, reversed
        assert table.visible_ids[0] == batch.ids["ACTIVE"][-1]
        assert table.cursor_job_id == job
        await pilot.press("s", "s")  # by date, then status
        assert table.sort_column == "status"
        assert table.cursor_job_id == job


async def test_enter_opens_details_with_the_full_error_text(batch: Batch) -> None:
    app = build_app(batch.settings, batch.folder, start="batch")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, JobDetails)
        error = app.screen.query_one("#error-text").render()
        assert "Patient is on the opt-out list [/] [bold]" in str(error)
        assert app.screen.job.source_path is not None  # the extended record arrived
        await pilot.press("escape")
        assert isinstance(app.screen, JobsScreen)


async def test_keys_are_remapped_by_binding_id_from_the_settings(batch: Batch) -> None:
    batch.settings.keymap = {"jobs.reset": "x"}
    app = build_app(batch.settings, batch.folder, start="batch")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("r")
        assert isinstance(app.screen, JobsScreen)
        await pilot.press("x")
        assert isinstance(app.screen, Confirmation)


async def test_p_pauses_and_resumes_the_live_refresh(batch: Batch) -> None:
    source = BatchJobSource(batch.settings, batch.folder)
    app = AnonApp({"batch": lambda: JobsScreen(source, interval=0.05)})
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        while screen.polls < 2:
            await pilot.pause(0.05)
        await pilot.press("p")
        await settle(pilot)
        paused_at = screen.polls
        await asyncio.sleep(0.4)
        await settle(pilot)
        assert screen.polls == paused_at
        await pilot.press("p")
        while screen.polls < paused_at + 2:
            await pilot.pause(0.05)


async def test_refresh_shows_status_changes_made_elsewhere(batch: Batch) -> None:
    source = BatchJobSource(batch.settings, batch.folder)
    app = AnonApp({"batch": lambda: JobsScreen(source, interval=0.05)})
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        while screen.polls < 1:
            await pilot.pause(0.05)
        from anonapi_core.actions.jobs import cancel_jobs

        target = batch.ids["ACTIVE"][1]
        cancel_jobs(batch.settings, batch.settings.active_server(), [target])
        polls = screen.polls
        while screen.polls < polls + 2:
            await pilot.pause(0.05)
        assert status_cells(screen, [target]) == ["INACTIVE"]
