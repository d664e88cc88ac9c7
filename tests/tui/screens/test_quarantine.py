"""Quarantine view on a real embedded server: `Q` on a job lists the files it held back and why,
`r`/`d` release or drop one after a confirmation; a server without the extension says so."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable

from anonapi_core.models import Server
from anonapi_core.settings import Settings
from anonapi_server.testing import EmbeddedServer, running_server
from anonapi_tui.app import AnonApp
from anonapi_tui.main import build_app
from anonapi_tui.screens.help import HelpScreen
from anonapi_tui.screens.jobs import JobsScreen
from anonapi_tui.screens.quarantine import QuarantineScreen, ServerHeldFiles
from anonapi_tui.widgets.confirmation import Confirmation
from tests.support.held_files import job_with_held_files
from tests.support.recorder import recording_server
from tests.tui.conftest import settings_for, until


@pytest.fixture(scope="module")
def working_server() -> Iterator[EmbeddedServer]:
    """A server with a worker: the jobs must really run to hold files back."""
    with running_server(workers=1) as running:
        yield running


async def open_quarantine(pilot: Pilot, job_id: str) -> QuarantineScreen:
    """Put the cursor on the job with the arrow keys, then press Q, as a user would."""
    screen = pilot.app.screen
    assert isinstance(screen, JobsScreen)
    await until(pilot, lambda: job_id in screen.table.jobs)
    for _ in range(len(screen.table.jobs)):
        if screen.table.cursor_job_id == job_id:
            break
        await pilot.press("down")
    assert screen.table.cursor_job_id == job_id
    await pilot.press("Q")
    await until(pilot, lambda: isinstance(pilot.app.screen, QuarantineScreen))
    quarantine = pilot.app.screen
    assert isinstance(quarantine, QuarantineScreen)
    await until(pilot, lambda: quarantine.loaded)
    return quarantine


@pytest.mark.parametrize("size", [(80, 24), (200, 60)])
async def test_q_lists_held_files_and_r_y_releases_the_one_under_the_cursor(
    working_server: EmbeddedServer, private_settings: Path, tmp_path: Path, size: tuple[int, int]
) -> None:
    job_id = str(job_with_held_files(working_server, f"tui-release-{size[0]}"))
    app = build_app(settings_for(working_server, private_settings), tmp_path, start="server_jobs")
    async with app.run_test(size=size) as pilot:
        quarantine = await open_quarantine(pilot, job_id)
        assert [(f.place, f.state) for f in quarantine.files] == [
            ("1_2\\1.dcm", "held"),
            ("1_2\\2.dcm", "held"),
        ]
        table = quarantine.query_one(DataTable)
        assert table.get_row_at(0)[3].plain.startswith("burned-in annotation")
        state = str(quarantine.query_one("#held-state").render())
        assert state.startswith("2 files of 2 still held")

        await pilot.press("r")
        await until(pilot, lambda: isinstance(pilot.app.screen, Confirmation))
        question = pilot.app.screen.question
        assert question.startswith(f"Release held file {quarantine.files[0].file_id} of job")
        assert "Recorded as your decision" in question
        await pilot.press("y")
        await until(pilot, lambda: quarantine.files[0].state == "released")
        assert (working_server.share_root / "out" / job_id / "1_2" / "1.dcm").is_file()
        assert quarantine.files[0].decided_by == working_server.user_name
        assert str(quarantine.query_one("#held-state").render()).startswith("1 file of 2")

        await pilot.press("escape")
        await until(pilot, lambda: isinstance(pilot.app.screen, JobsScreen))


async def test_d_drops_only_after_yes_and_a_decided_file_cannot_be_decided_again(
    working_server: EmbeddedServer, private_settings: Path, tmp_path: Path
) -> None:
    job_id = str(job_with_held_files(working_server, "tui-drop"))
    app = build_app(settings_for(working_server, private_settings), tmp_path, start="server_jobs")
    async with app.run_test(size=(120, 34)) as pilot:
        quarantine = await open_quarantine(pilot, job_id)
        await pilot.press("down", "d")
        await until(pilot, lambda: isinstance(pilot.app.screen, Confirmation))
        assert "It is never published" in pilot.app.screen.question
        await pilot.press("n")
        await until(pilot, lambda: pilot.app.screen is quarantine)
        assert [f.state for f in quarantine.files] == ["held", "held"]

        await pilot.press("d")
        await until(pilot, lambda: isinstance(pilot.app.screen, Confirmation))
        await pilot.press("y")
        await until(pilot, lambda: quarantine.files[1].state == "dropped")
        assert not (working_server.share_root / "out" / job_id / "1_2" / "2.dcm").exists()
        # On a decided file release and drop are greyed out and do nothing.
        await pilot.press("r")
        await pilot.pause(0.2)
        assert pilot.app.screen is quarantine


async def test_the_key_is_in_the_footer_and_in_help(
    working_server: EmbeddedServer, private_settings: Path, tmp_path: Path
) -> None:
    app = build_app(settings_for(working_server, private_settings), tmp_path, start="server_jobs")
    async with app.run_test(size=(200, 40)) as pilot:
        screen = app.screen
        footer_keys = {
            b.binding.id for b in screen.active_bindings.values() if b.binding.show and b.enabled
        }
        assert "jobs.quarantine" in footer_keys
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        table = app.screen.query_one(DataTable)
        rows = [[cell.plain for cell in table.get_row_at(i)] for i in range(table.row_count)]
        assert ["Q", "Quarantine"] in [row[:2] for row in rows]


async def test_a_server_without_the_extension_says_not_available(private_settings: Path) -> None:
    with recording_server() as idis:
        idis.status, idis.body = 404, {"documentation": "IDIS web API"}
        settings = Settings(
            servers={"idis": idis.url}, active_server_name="idis", user_name="u", user_token="t"
        )
        held = ServerHeldFiles(settings, Server(name="idis", url=idis.url))
        app = AnonApp({"batch": lambda: QuarantineScreen(held, "12")})
        async with app.run_test(size=(80, 24)) as pilot:
            screen = app.screen
            assert isinstance(screen, QuarantineScreen)
            await until(pilot, lambda: screen.loaded)
            state = str(screen.query_one("#held-state").render())
            assert state == f"quarantine is not available on this server ({idis.url})"
            assert not screen.query_one(DataTable).display


async def test_read_only_shows_held_files_but_refuses_release_and_drop(
    working_server: EmbeddedServer, private_settings: Path, tmp_path: Path
) -> None:
    job_id = str(job_with_held_files(working_server, "tui-read-only", held=1))
    settings = settings_for(working_server, private_settings)
    app = build_app(settings, tmp_path, start="server_jobs", read_only=True)
    async with app.run_test(size=(120, 34)) as pilot:
        quarantine = await open_quarantine(pilot, job_id)
        assert [f.state for f in quarantine.files] == ["held"]
        shown = {b.binding.id for b in quarantine.active_bindings.values() if b.enabled}
        assert not shown & {"quarantine.release", "quarantine.drop"}
        await pilot.press("r", "d")
        await pilot.pause(0.2)
        assert pilot.app.screen is quarantine
    assert working_server.store.job_statuses([int(job_id)]) == {int(job_id): "DONE"}
    assert not (working_server.share_root / "out" / job_id / "1_2").exists()
