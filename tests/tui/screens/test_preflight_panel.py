"""The mapping editor's pre-flight panel, driven by real keys at 80x24 against a real server."""

from __future__ import annotations

from pathlib import Path

import pytest

from anonapi_core.batch import load_batch
from anonapi_core.settings import Settings
from anonapi_server.demo import share_mapping
from anonapi_server.testing import EmbeddedServer
from anonapi_tui.main import build_app
from anonapi_tui.widgets.confirmation import Confirmation
from anonapi_tui.widgets.preflight_panel import PreflightPanel
from tests.tui.conftest import running, settings_for, settle

SMALL = (80, 24)


@pytest.fixture
def settings(idle_server: EmbeddedServer, private_settings: Path) -> Settings:
    return settings_for(idle_server, private_settings)


def folder_with(idle_server: EmbeddedServer, tmp_path: Path, rows: list[dict[str, str]]) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    share_mapping(
        idle_server,
        rows,
        folder / "anon_mapping.csv",
        source_folder="in",
        output_folder="out",
        description="Pre-flight test",
    )
    return folder


TWO_PSEUDONYMS = [
    {"source": "folder:study", "pseudo_name": "PSEUDO1"},
    {"source": "folder:study", "pseudo_name": "PSEUDO2"},
]
# An error only the pre-flight finds: the shared validation (which refuses duplicates) passes it.
EXCEL_DAMAGE = [
    {"source": "folder:study", "pseudo_name": "PSEUDO1"},
    {"source": "accession_number:1.23457E+11", "pseudo_name": "PSEUDO2"},
]


def panel_messages(app) -> list[str]:
    return [finding.message for finding in app.screen.report.sorted_findings()]


async def test_k_shows_the_findings_and_escape_closes(settings, idle_server, tmp_path) -> None:
    folder = folder_with(idle_server, tmp_path, TWO_PSEUDONYMS)
    app = build_app(settings, folder, start="mapping")
    async with running(app, SMALL) as pilot:
        await pilot.press("k")
        await settle(pilot)
        assert isinstance(app.screen, PreflightPanel)
        [message] = panel_messages(app)
        assert message.startswith("the same study as line 11 under another pseudonym")
        assert app.screen.report.errors[0].line == 12
        await pilot.press("y")  # means nothing outside creation
        assert isinstance(app.screen, PreflightPanel)
        await pilot.press("escape")
        assert not isinstance(app.screen, PreflightPanel)


async def test_create_stops_at_the_panel_and_goes_on_only_when_told(
    settings, idle_server, tmp_path
) -> None:
    folder = folder_with(idle_server, tmp_path, EXCEL_DAMAGE)
    before = idle_server.store.count_jobs()
    app = build_app(settings, folder, start="mapping")
    async with running(app, SMALL) as pilot:
        await pilot.press("ctrl+g")
        await settle(pilot)
        assert isinstance(app.screen, PreflightPanel) and app.screen.creating
        await pilot.press("n")
        await settle(pilot)
        assert idle_server.store.count_jobs() == before
        await pilot.press("ctrl+g")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, Confirmation)
        await pilot.press("y")
        await settle(pilot, rounds=6)
    assert len(load_batch(folder).job_ids) == 2
    assert idle_server.store.count_jobs() == before + 2


async def test_a_clean_mapping_goes_straight_to_the_confirmation(
    settings, idle_server, tmp_path
) -> None:
    folder = folder_with(idle_server, tmp_path, TWO_PSEUDONYMS[:1])
    app = build_app(settings, folder, start="mapping")
    async with running(app, SMALL) as pilot:
        await pilot.press("ctrl+g")
        await settle(pilot)
        assert isinstance(app.screen, Confirmation)
