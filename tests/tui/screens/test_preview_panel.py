"""`p` on a file in the folder picker previews its de-identification (real keys, 80x24)."""

from __future__ import annotations

from pathlib import Path

from anonapi_core.settings import Settings, save_settings
from anonapi_server.sample_studies import write_study
from anonapi_tui.main import build_app
from anonapi_tui.widgets.preview_panel import PreviewPanel
from tests.tui.conftest import running, settle, until

SMALL = (80, 24)


def settings_without_server(path: Path) -> Settings:
    settings = Settings(job_default_parameters=[("project", "Wetenschap-Algemeen")], path=path)
    save_settings(settings)
    return settings


async def test_p_on_a_file_shows_rules_and_verdict(tmp_path: Path, private_settings: Path):
    folder = tmp_path / "work"
    write_study(
        folder / "study", patient_id="PV1", patient_name="Doe^J", n_files=1, rows=8, columns=8
    )
    app = build_app(settings_without_server(private_settings), folder, start="folders")
    async with running(app, SMALL) as pilot:
        await pilot.press("p")  # on the root folder: nothing to preview
        await settle(pilot)
        assert not isinstance(app.screen, PreviewPanel)
        await pilot.press("down", "enter")  # open study/
        await settle(pilot)
        await pilot.press("down", "m")  # a file cannot be marked
        assert app.screen.marked == []
        await pilot.press("p")
        await settle(pilot)
        await until(pilot, lambda: isinstance(app.screen, PreviewPanel))
        preview = app.screen.preview
        assert preview.verdict == "written" and preview.project == "Wetenschap-Algemeen"
        name = next(r for r in preview.rows if r.path == "(0010,0010)")
        assert (name.before, name.after) == ("Doe^J", "PSEUDO^NAME")
        assert app.screen.query_one("#preview-rows").row_count == len(preview.rows)
        await pilot.press("escape")
        assert not isinstance(app.screen, PreviewPanel)
