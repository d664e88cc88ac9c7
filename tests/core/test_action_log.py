"""The batch's action log: who did what to which jobs, without patient names or file names."""

from __future__ import annotations

from pathlib import Path

from anonapi_core.action_log import ACTION_LOG_NAME, read_actions, record_action
from anonapi_core.client import JobResult


def test_entries_are_appended_and_read_back_oldest_first(tmp_path: Path) -> None:
    record_action(tmp_path, "z1", "reset", "p01", [JobResult("1", True), JobResult("2", True)])
    refused = JobResult("3", False, r'Server refused: patient "PAT123" at \\srv\share\IM1.dcm')
    record_action(tmp_path, "z2", "cancel", "p01", [refused])

    first, second = read_actions(tmp_path)
    assert (first.user, first.action, first.done, first.refused) == ("z1", "reset", 2, 0)
    assert second.outcomes[0].reason == 'Server refused: patient "<name>" at <path>'
    assert "PAT123" not in (tmp_path / ACTION_LOG_NAME).read_text()
    assert second.summary().endswith("z2 cancel 1 job on p01: 0 done, 1 refused")


def test_reading_keeps_only_the_newest_and_skips_damaged_lines(tmp_path: Path) -> None:
    for n in range(5):
        record_action(tmp_path, "u", "reset", "p01", [JobResult(str(n), True)])
    with (tmp_path / ACTION_LOG_NAME).open("a") as log:
        log.write("{not json\n")
    entries = read_actions(tmp_path, limit=3)
    assert [e.outcomes[0].job_id for e in entries] == ["2", "3", "4"]
    assert read_actions(tmp_path / "nowhere") == []
