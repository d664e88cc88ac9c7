"""The command palette offers the current screen's commands and runs them like their keys."""

from __future__ import annotations

import pytest
from textual.command import CommandList, CommandPalette
from textual.widgets import DataTable
from textual.widgets._footer import FooterKey

from anonapi_tui.main import build_app
from anonapi_tui.screens.help import HelpScreen
from anonapi_tui.widgets.confirmation import Confirmation
from tests.tui.conftest import Batch, running, settle, until


async def palette_titles(app) -> list[str]:
    from anonapi_tui.commands import ScreenCommands

    provider = ScreenCommands(app.screen)
    return [title for title, _help, _run in provider._commands()]


async def test_palette_runs_reset_errors_like_its_key(batch: Batch) -> None:
    app = build_app(batch.settings, batch.folder, start="batch")
    async with running(app) as pilot:
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"reset errors")
        commands = app.screen.query_one(CommandList)

        def found() -> bool:  # the search runs in a task: wait for its best match
            index = commands.highlighted
            return index is not None and "errors" in str(commands.get_option_at_index(index).prompt)

        await until(pilot, found)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, Confirmation)
        assert app.screen.question.startswith("Reset 4 jobs in ERROR")


async def test_palette_offers_no_destructive_command_in_read_only_mode(batch: Batch) -> None:
    app = build_app(batch.settings, batch.folder, start="batch", read_only=True)
    async with running(app):
        titles = await palette_titles(app)
        assert "Filter (/)" in titles
        assert not [t for t in titles if t.startswith(("Reset", "Cancel"))]


@pytest.mark.parametrize(
    ("screen", "command", "label"),
    [("mapping", "mapping.edit", "Edit"), ("servers", "servers.activate", "Activate")],
)
async def test_enter_shows_its_command_in_footer_help_and_palette(
    batch: Batch, screen: str, command: str, label: str
) -> None:
    """The focused table's own hidden `enter` used to hide the screen's command everywhere."""
    app = build_app(batch.settings, batch.folder, start=screen)
    async with running(app) as pilot:
        assert app.screen.active_bindings["enter"].binding.id == command
        assert label in [key.description for key in app.screen.query(FooterKey)]
        assert f"{label} (⏎)" in await palette_titles(app)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        help_row = app.screen.query_one(DataTable).get_row("enter")
        assert [str(cell) for cell in help_row[:2]] == ["⏎", label]
