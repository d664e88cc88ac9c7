"""`e` writes the batch report and `v` verifies completeness, on jobs a real server ran."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook

from anonapi_core.actions.create import create_jobs_from_mapping
from anonapi_core.batch import load_batch
from anonapi_server.sample_studies import write_study
from anonapi_server.testing import EmbeddedServer, running_server
from anonapi_tui.main import build_app
from anonapi_tui.widgets.completeness_panel import CompletenessPanel
from tests.actions.conftest import write_mapping
from tests.tui.conftest import running, settings_for, settle, until

SMALL = (80, 24)


@pytest.fixture(scope="module")
def working_server() -> Iterator[EmbeddedServer]:
    with running_server(workers=1) as server:
        yield server


@pytest.fixture
def done_batch(
    working_server: EmbeddedServer, tmp_path: Path, private_settings: Path, monkeypatch
) -> tuple[object, Path, list[str]]:
    """Two jobs run to DONE; the second one's output is then short by one file."""
    settings = settings_for(working_server, private_settings)
    for n in (0, 1):
        write_study(
            working_server.share_root / "proj" / f"{tmp_path.name}-s{n}",
            patient_id=f"T{n}",
            patient_name="T^T",
            n_files=2,
            rows=8,
            columns=8,
        )
    grid = "source,pseudo_name\n" + "".join(f"folder:{tmp_path.name}-s{n},PT{n}\n" for n in (0, 1))
    folder = tmp_path / "batch"
    folder.mkdir()
    create_jobs_from_mapping(settings, write_mapping(folder, working_server, grid), folder)
    ids = [str(i) for i in load_batch(folder).job_ids]
    assert set(working_server.wait_for(ids).values()) == {"DONE"}
    output = working_server.share_root / "out" / ids[1]
    next(p for p in output.rglob("*") if p.is_file() and not p.name.startswith(".")).unlink()
    share = f"{working_server.unc_root}={working_server.share_root}"
    monkeypatch.setenv("ANONAPI_SHARE_ROOTS", share)
    return settings, folder, ids


async def test_v_marks_the_job_short_by_one_file_and_says_why(done_batch) -> None:
    settings, folder, ids = done_batch
    app = build_app(settings, folder, start="batch")
    async with running(app, SMALL) as pilot:
        await until(pilot, lambda: len(app.screen.table.jobs) == 2)
        await pilot.press("v")
        await settle(pilot)
        await until(pilot, lambda: isinstance(app.screen, CompletenessPanel))
        result = app.screen.result
        assert [r.job_id for r in result.mismatches] == [ids[1]]
        assert "output folder holds 1 files, 2 were written" in result.mismatches[0].summary()
        await pilot.press("escape")
        assert list(app.screen.table.selection()) == [ids[1]]


async def test_e_writes_the_report_next_to_the_batch(done_batch) -> None:
    settings, folder, ids = done_batch
    app = build_app(settings, folder, start="batch")
    async with running(app, SMALL) as pilot:
        await until(pilot, lambda: len(app.screen.table.jobs) == 2)
        await pilot.press("e")
        await settle(pilot)
        await until(pilot, lambda: any(folder.glob("jobs-report-*.xlsx")))
    [report] = folder.glob("jobs-report-*.xlsx")
    sheet = load_workbook(report).active
    assert sorted(str(row[0].value) for row in sheet.iter_rows(min_row=2)) == sorted(ids)


async def test_job_details_of_the_short_job_say_what_is_missing(done_batch) -> None:
    from anonapi_tui.screens.job_details import JobDetails

    settings, folder, ids = done_batch
    app = build_app(settings, folder, start="batch")
    async with running(app, SMALL) as pilot:
        await until(pilot, lambda: len(app.screen.table.jobs) == 2)
        app.screen.table.move_cursor(row=app.screen.table.get_row_index(ids[1]))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, JobDetails))
        line = app.screen.query_one("#completeness")
        await until(pilot, lambda: line.display)
        text = str(line.render())
        assert "Completeness: output folder holds 1 files, 2 were written" in text
        assert line.has_class("invalid")
