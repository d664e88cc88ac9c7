"""The pseudonym registry: private, keyed hashes only, conflicts across batches, and a restart."""

from __future__ import annotations

import os
import sqlite3
import stat
from datetime import date
from pathlib import Path

import pytest

from anonapi_core.exceptions import PersistenceError
from anonapi_core.pseudonym_registry import (
    DATABASE_NAME,
    KEY_NAME,
    SCHEMA_VERSION,
    data_dir,
    open_registry,
)

SOURCE = "accession_number:98765432"


def test_the_registry_survives_a_restart_and_keeps_no_source_in_clear(tmp_path: Path) -> None:
    registry = open_registry(tmp_path)
    assert registry.record([(SOURCE, "P1", "Patient1")], "batch-a", date(2025, 1, 2)) == 1
    assert registry.record([(SOURCE, "P1", "Patient1")], "batch-a") == 0  # recorded already
    del registry
    again = open_registry(tmp_path)
    [entry] = again.entries()
    assert (entry.pseudonym, entry.batch, entry.recorded) == ("P1", "batch-a", date(2025, 1, 2))
    assert entry.source_hash == again.source_hash(SOURCE) != SOURCE
    assert b"98765432" not in (tmp_path / DATABASE_NAME).read_bytes()
    assert again.schema_version == SCHEMA_VERSION


@pytest.mark.skipif(os.name == "nt", reason="POSIX file modes")
def test_database_and_key_are_private(tmp_path: Path) -> None:
    open_registry(tmp_path)
    for name in (DATABASE_NAME, KEY_NAME):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name


def test_a_source_with_a_second_pseudonym_in_a_later_batch_is_a_conflict(tmp_path: Path) -> None:
    registry = open_registry(tmp_path)
    registry.record([(SOURCE, "P1", "")], "batch-2024", date(2024, 5, 1))
    [conflict] = registry.conflicts(SOURCE, "P2", batch="batch-2026")
    assert conflict.kind == "second_pseudonym"
    assert "'P1' before (2024-05-01 in batch batch-2024)" in conflict.describe()
    assert registry.conflicts(SOURCE, "P1", batch="batch-2026") == []


def test_a_pseudonym_reused_for_another_source_is_a_conflict(tmp_path: Path) -> None:
    registry = open_registry(tmp_path)
    registry.record([(SOURCE, "P1", "")], "batch-2024")
    [conflict] = registry.conflicts("accession_number:1", "P1", batch="batch-2026")
    assert conflict.kind == "reused"
    # The batch being checked does not conflict with itself.
    assert registry.conflicts("accession_number:1", "P1", batch="batch-2024") == []


def test_hashes_are_keyed_per_user(tmp_path: Path) -> None:
    one, other = open_registry(tmp_path / "a"), open_registry(tmp_path / "b")
    assert one.source_hash(SOURCE) != other.source_hash(SOURCE)


def test_forget_by_pseudonym_and_by_batch(tmp_path: Path) -> None:
    registry = open_registry(tmp_path)
    registry.record([(SOURCE, "P1", ""), ("accession_number:2", "P2", "")], "a")
    registry.record([("accession_number:3", "P3", "")], "b")
    assert registry.forget(pseudonym="P1") == 1
    assert registry.forget(batch="b") == 1
    assert [e.pseudonym for e in registry.entries()] == ["P2"]


def test_a_registry_of_a_newer_version_is_refused_not_changed(tmp_path: Path) -> None:
    open_registry(tmp_path)
    with sqlite3.connect(tmp_path / DATABASE_NAME) as conn:
        conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    with pytest.raises(PersistenceError, match="newer anonapi"):
        open_registry(tmp_path)


def test_a_damaged_key_is_reported_with_what_to_do(tmp_path: Path) -> None:
    open_registry(tmp_path)
    (tmp_path / KEY_NAME).write_text("not hex")
    with pytest.raises(PersistenceError, match="damaged; move it away"):
        open_registry(tmp_path)


def test_the_data_folder_follows_the_environment(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ANONAPI_DATA_DIR", str(tmp_path))
    assert data_dir() == tmp_path
