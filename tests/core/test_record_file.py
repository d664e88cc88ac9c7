"""Private, bounded JSON-lines records: appended whole, capped, 0600, torn lines survived."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from anonapi_core.record_file import append_records, read_records


def test_records_are_appended_and_read_back_oldest_first(tmp_path: Path) -> None:
    path = tmp_path / "records"
    append_records(path, [{"n": 1}, {"n": 2}], max_bytes=10_000)
    append_records(path, [{"n": 3}], max_bytes=10_000)
    assert [r["n"] for r in read_records(path)] == [1, 2, 3]
    assert read_records(tmp_path / "missing") == []


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_a_record_file_is_private_also_when_it_existed_before(tmp_path: Path) -> None:
    fresh, old = tmp_path / "fresh", tmp_path / "old"
    append_records(fresh, [{"n": 1}], max_bytes=10_000)
    old.write_text('{"n": 0}\n')
    old.chmod(0o644)
    append_records(old, [{"n": 1}], max_bytes=10_000)
    assert fresh.stat().st_mode & 0o777 == 0o600
    assert old.stat().st_mode & 0o777 == 0o600


def test_a_line_torn_by_a_kill_is_skipped_and_the_next_append_starts_a_new_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "records"
    append_records(path, [{"n": 1}], max_bytes=10_000)
    with path.open("ab") as f:
        f.write(b'{"n": 2, "cut')  # a kill in the middle of a write
    append_records(path, [{"n": 3}], max_bytes=10_000)
    assert [r["n"] for r in read_records(path)] == [1, 3]


def test_a_file_past_its_cap_keeps_its_newest_records_within_half_the_cap(tmp_path: Path) -> None:
    path = tmp_path / "records"
    for n in range(200):
        append_records(path, [{"n": n, "pad": "x" * 40}], max_bytes=2_000)
        assert path.stat().st_size <= 2_000 + 60
    kept = [r["n"] for r in read_records(path)]
    assert kept == list(range(kept[0], 200))
    assert len(kept) < 200


def test_compaction_applies_the_pruner_before_the_cap(tmp_path: Path) -> None:
    path = tmp_path / "records"
    append_records(path, [{"n": n} for n in range(100)], max_bytes=10_000)
    append_records(
        path,
        [{"n": 100, "pad": "x" * 10_000}],
        max_bytes=10_000,
        prune=lambda records: [r for r in records if r["n"] % 2 == 0 and r["n"] < 100],
    )
    assert [r["n"] for r in read_records(path)] == list(range(0, 100, 2))
