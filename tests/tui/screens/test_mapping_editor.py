"""The mapping editor: per-cell validation in place, rows added and deleted, atomic save, and
job creation on the real server that opens the batch screen."""

from __future__ import annotations

from pathlib import Path

import pytest

from anonapi_core.batch import load_batch
from anonapi_core.mapping import load_mapping
from anonapi_core.settings import Settings
from anonapi_server.demo import share_mapping
from anonapi_server.testing import EmbeddedServer
from anonapi_tui.main import build_app
from anonapi_tui.screens.jobs import JobsScreen
from anonapi_tui.widgets.confirmation import Confirmation
from tests.tui.conftest import running, settings_for, settle


@pytest.fixture
def settings(idle_server: EmbeddedServer, private_settings: Path) -> Settings:
    return settings_for(idle_server, private_settings)


@pytest.fixture
def folder(idle_server: EmbeddedServer, tmp_path: Path) -> Path:
    """A folder with a valid one-row mapping pointing at the server's share."""
    folder = tmp_path / "work"
    folder.mkdir()
    share_mapping(
        idle_server,
        [{"source": "folder:study", "pseudo_name": "PSEUDO1", "description": "first"}],
        folder / "anon_mapping.csv",
        source_folder="in",
        output_folder="out",
        description="Test mapping",
    )
    return folder


def cell(app, row: int, column: str) -> str:
    return app.screen.query_one("#grid").get_cell(str(row), column).plain


async def edit_source(pilot, value: str) -> None:
    """Move to the source cell of the first row, open the editor, replace the text."""
    pilot.app.screen.query_one("#grid").focus()
    await pilot.press("home", "right", "enter", "ctrl+u", *value, "enter")


async def test_unknown_source_type_is_marked_in_its_cell_until_fixed(settings, folder) -> None:
    app = build_app(settings, folder, start="mapping")
    async with running(app) as pilot:
        assert app.screen.problems == []
        await edit_source(pilot, "floder:study")
        assert cell(app, 0, "source").startswith("⚠")
        problems = str(app.screen.query_one("#problems").render())
        assert "row 1" not in problems or "source" in problems
        assert "unknown source type 'floder'" in problems
        await edit_source(pilot, "folder:study")
        assert cell(app, 0, "source") == "folder:study"
        assert app.screen.problems == []


async def test_a_non_unc_destination_option_is_reported(settings, folder) -> None:
    app = build_app(settings, folder, start="mapping")
    async with running(app) as pilot:
        app.screen.query_one("#options").focus()
        await pilot.press("down", "down", "right", "enter", "ctrl+u", *"C:/output", "enter")
        assert "'C:/output' is not a UNC path" in str(app.screen.query_one("#problems").render())


async def test_n_adds_a_row_flagged_for_source_and_pseudonym_and_d_deletes_it(
    settings, folder
) -> None:
    app = build_app(settings, folder, start="mapping")
    async with running(app) as pilot:
        await pilot.press("n")
        assert len(app.screen.mapping.rows) == 2
        assert cell(app, 1, "source") == "⚠ "
        assert cell(app, 1, "pseudo_name") == "⚠ "
        await pilot.press("d")
        assert len(app.screen.mapping.rows) == 1
        assert app.screen.problems == []


async def test_ctrl_s_writes_the_edited_mapping(settings, folder) -> None:
    app = build_app(settings, folder, start="mapping")
    async with running(app) as pilot:
        await edit_source(pilot, "folder:other")
        await pilot.press("ctrl+s")
    saved = load_mapping(folder / "anon_mapping.csv")
    assert saved.rows[0]["source"] == "folder:other"
    assert saved.rows[0]["pseudo_name"] == "PSEUDO1"
    assert [p.name for p in folder.iterdir()] == ["anon_mapping.csv"]  # no temp file left


async def test_create_jobs_confirms_creates_on_the_server_and_opens_the_batch(
    settings, folder, idle_server: EmbeddedServer
) -> None:
    app = build_app(settings, folder, start="mapping")
    async with running(app) as pilot:
        await pilot.press("ctrl+g")
        await settle(pilot)
        assert isinstance(app.screen, Confirmation)
        assert app.screen.question.startswith("Create 1 job on local")
        await pilot.press("y")
        await settle(pilot, rounds=6)
        job_ids = load_batch(folder).job_ids
        assert len(job_ids) == 1
        assert idle_server.store.job(int(job_ids[0]))["source_anonymizedpatientname"] == "PSEUDO1"
        assert isinstance(app.screen, JobsScreen)
        assert app.screen.table.visible_ids == job_ids


async def test_create_jobs_is_refused_while_rows_are_invalid(settings, folder, idle_server) -> None:
    app = build_app(settings, folder, start="mapping")
    async with running(app) as pilot:
        await edit_source(pilot, "floder:study")
        await pilot.press("ctrl+g")
        await settle(pilot)
        assert not isinstance(app.screen, Confirmation)
    assert not (folder / ".anonbatch").exists()


async def test_quitting_with_unsaved_edits_asks_first(settings, folder) -> None:
    app = build_app(settings, folder, start="mapping")
    async with running(app) as pilot:
        await pilot.press("n", "q")
        assert isinstance(app.screen, Confirmation)
        assert app.screen.question == "Quit without saving the mapping?"
        await pilot.press("n")
        assert app.is_running
        await pilot.press("ctrl+s", "q")
        await pilot.pause()
        assert not app.is_running


async def test_tab_into_the_description_keeps_its_text_and_types_at_its_end(
    settings, folder
) -> None:
    app = build_app(settings, folder, start="mapping")
    async with running(app) as pilot:
        app.screen.query_one("#grid").focus()
        await pilot.press("tab")  # from the grid, the focus wraps round to the description
        description = app.screen.query_one("#description")
        assert app.focused is description
        await pilot.press(*" v2")
        assert description.value == "Test mapping v2"
        assert app.screen.mapping.description == "Test mapping v2"
