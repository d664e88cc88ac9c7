"""Triage on a real embedded server: failed jobs grouped by cause, a group opened and repaired."""

from __future__ import annotations

from anonapi_core.action_log import read_actions
from anonapi_tui.screens.triage import TriageScreen
from anonapi_tui.widgets.confirmation import Confirmation
from tests.tui.conftest import Batch, create_jobs, fail_jobs, settle, until
from tests.tui.screens.test_jobs import live


def add_share_failures(batch: Batch) -> list[str]:
    """Two more failed jobs, each naming its own missing file: one group of two."""
    from anonapi_core.batch import add_to_batch

    ids = create_jobs(batch.settings, batch.server, 2, "share")
    for n, job_id in enumerate(ids):
        fail_jobs(batch.server, [job_id], rf"Cannot read \\localhost\data\in\s{n}: no such folder")
    add_to_batch(batch.folder, batch.settings.active_server(), ids)
    batch.ids["SHARE"] = ids
    return ids


async def test_t_groups_errors_largest_first_and_enter_shows_only_that_group(
    batch: Batch,
) -> None:
    share = add_share_failures(batch)
    async with live(batch) as (pilot, screen):
        await until(pilot, lambda: len(screen.table.jobs) == 8)
        await pilot.press("t")
        await until(pilot, lambda: isinstance(pilot.app.screen, TriageScreen))
        triage = pilot.app.screen
        assert [g.count for g in triage.groups] == [4, 2]
        assert triage.groups[1].job_ids == share
        await pilot.press("down", "enter")
        await settle(pilot)
        assert sorted(screen.table.visible_ids) == sorted(share)
        shown = str(screen.query_one("#shown").render())
        assert shown.startswith("2 of 8 shown (group ")
        await pilot.press("escape")
        await settle(pilot)
        assert len(screen.table.visible_ids) == 8
        assert str(screen.query_one("#shown").render()) == ""


async def test_r_on_a_group_resets_exactly_its_jobs_after_a_preview(batch: Batch) -> None:
    share = add_share_failures(batch)
    async with live(batch) as (pilot, screen):
        await until(pilot, lambda: len(screen.table.jobs) == 8)
        await pilot.press("t")
        await until(pilot, lambda: isinstance(pilot.app.screen, TriageScreen))
        await pilot.press("down", "r")
        await until(pilot, lambda: isinstance(pilot.app.screen, Confirmation))
        assert "Reset 2 jobs of error group" in pilot.app.screen.question
        assert "of 8 on the server" in pilot.app.screen.question
        await pilot.press("y")
        await until(pilot, lambda: all(batch.statuses()[i] == "ACTIVE" for i in share))
        assert all(batch.statuses()[i] == "ERROR" for i in batch.ids["ERROR"])
        (entry,) = read_actions(batch.folder)
        assert entry.action == "reset" and [o.job_id for o in entry.outcomes] == share
