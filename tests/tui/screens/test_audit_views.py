"""The audit views on a real embedded server: a job's history in its details, `L` for the log.

Jobs are created from a mapping as a user creates them, so the history starts where theirs does;
status changes are the ones the live batch screen saw while polling.
"""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Static

from anonapi_core.actions.batch import act_on_batch
from anonapi_core.actions.create import create_jobs_from_mapping
from anonapi_tui.app import AnonApp
from anonapi_tui.job_sources import ServerJobSource
from anonapi_tui.screens.action_log import ActionLogScreen
from anonapi_tui.screens.help import HelpScreen
from anonapi_tui.screens.job_details import JobDetails
from anonapi_tui.screens.jobs import JobsScreen
from anonapi_tui.widgets.confirmation import Confirmation
from tests.actions.conftest import write_mapping
from tests.tui.conftest import SIZE, Batch, fail_jobs, settings_for, settle, until
from tests.tui.screens.test_jobs import live, plain


def mapped_batch(batch: Batch, tmp_path: Path) -> tuple[Batch, list[str]]:
    """A batch folder whose two jobs were created from its mapping (the `batch` fixture's
    server and settings; its own jobs stay in its own folder)."""
    folder = tmp_path / "mapped"
    folder.mkdir()
    mapping = write_mapping(
        folder, batch.server, "source,pseudo_name\nfolder:s1,MAP1\nfolder:s2,MAP2"
    )
    report = create_jobs_from_mapping(batch.settings, mapping, folder)
    ids = [c.job_id for c in report.created]
    assert len(ids) == 2 and report.ok
    return Batch(batch.server, batch.settings, folder, {"ACTIVE": ids}), ids


async def test_details_show_the_history_created_failed_reset_as_the_dashboard_saw_it(
    batch: Batch, tmp_path: Path
) -> None:
    mapped, (first, second) = mapped_batch(batch, tmp_path)
    row = (mapped.folder / "anon_mapping.csv").read_text().splitlines().index("folder:s2,MAP2") + 1
    async with live(mapped) as (pilot, screen):
        fail_jobs(mapped.server, [second], "Could not read the source")
        await until(pilot, lambda: screen.table.jobs[second].status == "ERROR")
        screen.table.move_cursor(row=screen.table.get_row_index(second))
        await pilot.press("r")
        await until(pilot, lambda: isinstance(pilot.app.screen, Confirmation))
        await pilot.press("y")
        await until(pilot, lambda: mapped.statuses()[second] == "ACTIVE")
        await until(pilot, lambda: screen.table.jobs[second].status == "ACTIVE")
        screen.table.move_cursor(row=screen.table.get_row_index(second))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, JobDetails))
        details = pilot.app.screen
        await until(
            pilot, lambda: "History" in plain(details.query_one("#timeline", Static).content)
        )
        lines = [
            line.split("  ", 1)[1].strip()
            for line in plain(details.query_one("#timeline", Static).content).splitlines()[1:]
        ]
    user = mapped.settings.user_name
    assert lines == [
        f"created by {user} from anon_mapping.csv row {row}",
        "status first seen ACTIVE",
        "status ACTIVE -> ERROR",
        f"reset by {user}: done",
        "status ERROR -> ACTIVE",
    ]


async def test_l_shows_each_reset_and_cancel_with_every_jobs_outcome(
    batch: Batch, tmp_path: Path
) -> None:
    mapped, ids = mapped_batch(batch, tmp_path)
    server = mapped.settings.active_server()
    act_on_batch(mapped.settings, mapped.folder, "reset", server, ids)
    act_on_batch(mapped.settings, mapped.folder, "cancel", server, [ids[0], "999999"])
    async with live(mapped) as (pilot, screen):
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))
        keys = pilot.app.screen.query_one(DataTable)
        assert "L" in [keys.get_row_at(n)[0].plain for n in range(keys.row_count)]
        await pilot.press("escape")
        await pilot.press("L")
        await until(pilot, lambda: isinstance(pilot.app.screen, ActionLogScreen))
        log = pilot.app.screen
        await settle(pilot)
        runs = log.query_one("#runs", DataTable)
        outcomes = log.query_one("#outcomes", DataTable)
        assert runs.row_count == 2
        newest = [cell.plain for cell in runs.get_row_at(0)]
        assert newest[1:6] == [mapped.settings.user_name, "cancel", "2", "1", "1"]
        first = [cell.plain for cell in outcomes.get_row_at(0)]
        assert first[0] == "999999" and first[1].startswith("refused: ")
        assert [cell.plain for cell in outcomes.get_row_at(1)] == [ids[0], "done"]
        await pilot.press("down")
        await settle(pilot)
        assert outcomes.row_count == 2
        assert {outcomes.get_row_at(n)[1].plain for n in range(2)} == {"done"}
        await pilot.press("escape")
        assert isinstance(pilot.app.screen, JobsScreen)


async def test_the_log_key_is_only_on_a_batch_screen(batch: Batch) -> None:
    settings = settings_for(batch.server, batch.settings.path)
    app = AnonApp({"server_jobs": lambda: JobsScreen(ServerJobSource(settings), interval=30)})
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.screen.check_action("open_log", ()) is False
        await pilot.press("L")
        assert isinstance(app.screen, JobsScreen)
