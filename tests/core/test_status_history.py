"""Status changes as the client saw them: changes only, bounded per job, shared by processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from anonapi_core import status_history
from anonapi_core.status_history import STATUSES_NAME, observe_statuses, read_statuses


def test_only_first_sightings_and_changes_are_written_not_every_poll(tmp_path: Path) -> None:
    assert [s.job_id for s in observe_statuses(tmp_path, {"1": "ACTIVE", "2": "ACTIVE"})] == [
        "1",
        "2",
    ]
    for _ in range(5):
        assert observe_statuses(tmp_path, {"1": "ACTIVE", "2": "ACTIVE"}) == []
    (change,) = observe_statuses(tmp_path, {"1": "DONE", "2": "ACTIVE"})
    assert (change.job_id, change.status) == ("1", "DONE")
    assert [s.status for s in read_statuses(tmp_path, "1")] == ["ACTIVE", "DONE"]
    assert len((tmp_path / STATUSES_NAME).read_text().splitlines()) == 3


def test_what_another_process_wrote_is_read_again_before_comparing(tmp_path: Path) -> None:
    observe_statuses(tmp_path, {"1": "ACTIVE"})
    with (tmp_path / STATUSES_NAME).open("a") as f:  # the CLI, polling the same batch
        f.write('{"job_id":"1","status":"ERROR","time":"2026-12-07T08:00:00+00:00"}\n')
    assert observe_statuses(tmp_path, {"1": "ERROR"}) == []


def test_compaction_keeps_each_jobs_newest_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(status_history, "MAX_BYTES", 3_000)
    monkeypatch.setattr(status_history, "PER_JOB", 2)
    observe_statuses(tmp_path, {"quiet": "DONE"})
    for n in range(100):
        observe_statuses(tmp_path, {"busy": "ACTIVE" if n % 2 else "ERROR"})
    assert [s.status for s in read_statuses(tmp_path, "quiet")] == ["DONE"]
    busy = read_statuses(tmp_path, "busy")
    assert 2 <= len(busy) < 50
    assert busy[-1].status == "ACTIVE"
    assert (tmp_path / STATUSES_NAME).stat().st_size <= 3_000
