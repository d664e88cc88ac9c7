"""The command palette offers the current screen's commands and runs them like their keys."""

from __future__ import annotations

from textual.command import CommandList, CommandPalette

from anonapi_tui.main import build_app
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
