"""The settings screen: edits are written on save, the token is never shown, bad defaults named."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input

from anonapi_core.settings import Settings, load_settings, save_settings
from anonapi_tui.app import AnonApp
from anonapi_tui.main import build_app
from tests.tui.conftest import running


@pytest.fixture
def app(tmp_path: Path, private_settings: Path) -> AnonApp:
    """The dashboard on its settings screen, with a saved user name and token."""
    settings = Settings(user_name="olduser", user_token="secret-token", path=private_settings)
    save_settings(settings)
    return build_app(settings, tmp_path, start="settings")


async def test_ctrl_s_saves_user_name_and_job_defaults(
    app: AnonApp, private_settings: Path
) -> None:
    async with running(app) as pilot:
        app.screen.query_one("#user_name", Input).focus()
        await pilot.press("ctrl+u", *"newuser")
        app.screen.query_one("#job_defaults").focus()
        await pilot.press(*"project,Wetenschap-Algemeen", "ctrl+s")
        saved = load_settings(private_settings)
        assert saved.user_name == "newuser"
        assert saved.user_token == "secret-token"
        assert saved.job_default_parameters == [("project", "Wetenschap-Algemeen")]


async def test_the_token_is_masked(app: AnonApp) -> None:
    async with running(app):
        assert app.screen.query_one("#user_token", Input).password
        assert "secret-token" not in app.export_screenshot()


async def test_a_bad_default_line_is_named_and_nothing_is_saved(
    app: AnonApp, private_settings: Path
) -> None:
    async with running(app) as pilot:
        app.screen.query_one("#job_defaults").focus()
        await pilot.press(*"projekt,P", "ctrl+s")
        state = str(app.screen.query_one("#settings-state").render())
        assert "line 1" in state and "projekt,P" in state
        assert load_settings(private_settings).job_default_parameters == []
