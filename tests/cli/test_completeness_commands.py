"""`anon batch verify` and `anon batch report` on jobs the real embedded server ran."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from anonapi_server.sample_studies import write_study
from anonapi_server.testing import EmbeddedServer
from tests.actions.conftest import write_mapping
from tests.cli.conftest import Anon


@pytest.fixture
def done_batch(
    anon: Anon, connected: EmbeddedServer, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[EmbeddedServer, str, Path]:
    """One job over a three-file study, run to DONE; the share is reachable from 'here'."""
    study = workdir.parent.name  # unique per test: the session server is shared
    write_study(
        connected.share_root / "proj" / study,
        patient_id="VERIFY1",
        patient_name="Verify^One",
        n_files=3,
        rows=8,
        columns=8,
    )
    write_mapping(workdir, connected, f"source,pseudo_name\nfolder:{study},PV1\n")
    result = anon("create", "from-mapping", "--yes")
    assert result.exit_code == 0, result.output
    [job_id] = json.loads(anon("batch", "info", "--json").stdout)["job_ids"]
    assert connected.wait_for([job_id])[int(job_id)] == "DONE"
    monkeypatch.setenv("ANONAPI_SHARE_ROOTS", f"{connected.unc_root}={connected.share_root}")
    return connected, str(job_id), connected.share_root / "proj" / study


def test_a_complete_job_verifies(anon: Anon, done_batch) -> None:
    result = anon("batch", "verify", "--json")
    assert result.exit_code == 0, result.output
    [job] = json.loads(result.stdout)["jobs"]
    assert (job["expected"], job["downloaded"], job["processed"], job["written"]) == (3, 3, 3, 3)
    assert job["expected_from"] == "files in the source folder"
    assert job["complete"] is True


def test_an_output_short_by_one_file_is_a_mismatch(anon: Anon, done_batch) -> None:
    server, job_id, _ = done_batch
    output = server.share_root / "out" / job_id
    next(p for p in output.rglob("*") if p.is_file() and not p.name.startswith(".")).unlink()
    result = anon("batch", "verify")
    assert result.exit_code == 1
    assert "output folder holds 2 files, 3 were written" in result.output
    assert "0 of 1 jobs complete, 1 mismatches" in result.output


def test_a_source_with_a_file_more_than_was_processed_is_a_mismatch(anon: Anon, done_batch) -> None:
    _, _, study = done_batch
    (study / "late-arrival.dcm").write_bytes(b"not yet processed")
    result = anon("batch", "verify", "--json")
    assert result.exit_code == 1
    [job] = json.loads(result.stdout)["jobs"]
    assert job["problems"] == ["expected 4 files (files in the source folder), downloaded 3"]


def test_without_a_reachable_share_the_counts_are_compared_with_a_note(
    anon: Anon, done_batch, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANONAPI_SHARE_ROOTS")
    result = anon("batch", "verify", "--json")
    [job] = json.loads(result.stdout)["jobs"]
    assert job["expected"] is None
    assert "expected count unknown: source share not reachable from this machine" in job["notes"]
    assert result.exit_code == 0  # nothing disagrees that could be checked


def test_report_writes_an_xlsx_a_data_manager_can_send(anon: Anon, done_batch, workdir) -> None:
    _, job_id, _ = done_batch
    result = anon("batch", "report", "-o", "jobs.xlsx")
    assert result.exit_code == 0, result.output
    assert "Wrote 1 jobs to jobs.xlsx (xlsx)" in result.output
    sheet = load_workbook(workdir / "jobs.xlsx").active
    row = {h.value: c.value for h, c in zip(sheet[1], sheet[2], strict=True)}
    assert row["job_id"] == int(job_id) and row["status"] == "DONE"
    assert row["pseudo_name"] == "PV1" and row["files_processed"] == 3
    assert sheet[2][list(row).index("created")].is_date


def test_report_refuses_an_unknown_format_in_one_line(anon: Anon, done_batch) -> None:
    result = anon("batch", "report", "-o", "jobs.txt")
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1].startswith("Error: Cannot tell the report format")
