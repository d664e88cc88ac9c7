"""Completeness rules on jobs as a server reports them, with shares mapped to local folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from anonapi_core.models import JobInfo
from anonapi_core.reconcile import local_path, pacs_identifier, reconcile, share_roots
from anonapi_core.selection import new_selection, save_selection

UNC = "\\\\srv\\share"


def job(**fields) -> JobInfo:
    base = {
        "job_id": 7,
        "date": "2026-11-29T10:15:00",
        "user_name": "u",
        "status": "DONE",
        "error": None,
        "description": "",
        "project_name": "P",
        "priority": 0,
        "files_downloaded": 2,
        "files_processed": 2,
        "source_type": "PATH",
        "destination_path": UNC + "\\out",
    }
    return JobInfo.parse(base | fields)


@pytest.fixture
def roots(tmp_path: Path) -> dict[str, Path]:
    return share_roots(f"{UNC}={tmp_path};not-unc=/x")


def test_share_roots_parse_only_unc_entries(roots, tmp_path: Path) -> None:
    assert roots == {UNC.lower(): tmp_path}


def test_expected_files_of_a_selection_are_its_entries(roots, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    save_selection(new_selection(folder, ["a.dcm", "b.dcm", "c.dcm"]))
    result = reconcile(job(source_path=f"fileselection:{UNC}\\in\\fileselection.txt"), roots)
    assert (result.expected.count, result.expected.basis) == (3, "file selection entries")
    assert result.problems == ["expected 3 files (file selection entries), downloaded 2"]


def test_a_path_that_leaves_its_share_through_a_link_is_not_followed(roots, tmp_path: Path):
    outside = tmp_path.parent / (tmp_path.name + "-outside")
    outside.mkdir()
    (tmp_path / "link").symlink_to(outside)
    assert local_path(f"{UNC}\\link", roots) is None
    assert local_path(f"{UNC}\\in", roots) == tmp_path / "in"
    if os.name != "nt":
        assert local_path("\\\\other\\share\\x", roots) is None


def test_pacs_jobs_use_the_pacs_count(roots) -> None:
    uid_job = job(source_type="WADO", source_instance_id="1.2.3", files_downloaded=5)
    assert pacs_identifier(uid_job) == "study_instance_uid:1.2.3"
    acc_job = job(source_type="WADO", source_instance_id="accession_number:12")
    assert pacs_identifier(acc_job) == "accession_number:12"
    result = reconcile(uid_job, roots, {"study_instance_uid:1.2.3": 6})
    assert result.problems[0] == "expected 6 files (instances in the PACS), downloaded 5"


def test_an_error_job_is_a_mismatch_and_a_running_one_has_no_verdict(roots) -> None:
    failed = reconcile(job(status="ERROR", error="opt-out"), roots)
    assert failed.mismatch and failed.summary() == "ended in ERROR: opt-out"
    running = reconcile(job(status="ACTIVE"), roots)
    assert not running.mismatch and running.summary() == "not finished (ACTIVE)"


def test_quarantined_files_are_accounted_for_in_the_output(roots, tmp_path: Path) -> None:
    source = tmp_path / "in"
    source.mkdir()
    for name in ("a", "b", "c"):
        (source / name).write_bytes(b"x")
    output = tmp_path / "out" / "7"
    output.mkdir(parents=True)
    (output / "a").write_bytes(b"x")
    (output / "b").write_bytes(b"x")
    counts = {"files_downloaded": 3, "files_processed": 3, "files_quarantined": 1}
    result = reconcile(job(source_path=f"folder:{UNC}\\in", **counts), roots)
    assert result.complete, result.problems
    assert result.written == 2 and "1 quarantined" in result.notes
