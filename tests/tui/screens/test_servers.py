"""The servers screen: concurrent checks with causes, and add / activate / remove saved at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from anonapi_core.settings import Settings, load_settings
from anonapi_server.testing import EmbeddedServer
from anonapi_tui.app import AnonApp
from anonapi_tui.main import build_app
from tests.tui.conftest import running, settings_for, settle

DEAD_URL = "http://127.0.0.1:9"


@pytest.fixture
def settings(idle_server: EmbeddedServer, private_settings: Path) -> Settings:
    settings = settings_for(idle_server, private_settings)
    settings.add_server("dead", DEAD_URL)
    return settings


@pytest.fixture
def app(settings: Settings, tmp_path: Path) -> AnonApp:
    """The dashboard on its servers screen."""
    return build_app(settings, tmp_path, start="servers")


def row(app, name: str) -> list[str]:
    return [
        cell.plain if hasattr(cell, "plain") else str(cell)
        for cell in app.screen.query_one("#servers").get_row(name)
    ]


async def test_each_server_shows_up_with_latency_or_down_with_the_cause(app: AnonApp) -> None:
    async with running(app):
        active, name, _url, status, latency, error = row(app, "local")
        assert (active, status, error) == ("●", "up", "")
        assert latency.endswith(" ms")
        _, _, _, status, latency, error = row(app, "dead")
        assert (status, latency) == ("down", "")
        assert "refused" in error
        # The embedded server offers its hosts: the screen says how many and what waits.
        state = str(app.screen.query_one("#servers-state").render())
        assert "local: 1/1 host(s) up" in state and "job(s) waiting" in state


async def test_a_adds_a_server_and_saves_it(app: AnonApp, private_settings: Path) -> None:
    async with running(app) as pilot:
        await pilot.press("a", *"p02", "enter", *"https://p02.example/api/", "enter")
        await settle(pilot)
        assert load_settings(private_settings).servers["p02"] == "https://p02.example/api"
        assert row(app, "p02")[1] == "p02"


async def test_enter_activates_the_server_under_the_cursor(
    app: AnonApp, private_settings: Path
) -> None:
    async with running(app) as pilot:
        assert app.screen.cursor_server == "dead"  # sorted by name
        await pilot.press("enter")
        assert load_settings(private_settings).active_server_name == "dead"
        assert row(app, "dead")[0] == "●"


async def test_d_removes_a_server_after_confirmation(app: AnonApp, private_settings: Path) -> None:
    async with running(app) as pilot:
        await pilot.press("d", "y")
        await settle(pilot)
        assert "dead" not in load_settings(private_settings).servers
        assert app.screen.query_one("#servers").row_count == 1
