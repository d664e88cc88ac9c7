"""The held-files rows on both stores (SQLite and PostgreSQL): a rerun replaces them, only the
current attempt's are shown, and a decision is taken once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from anonapi_server.quarantine_store import HeldFile, current_rows, decide, record_held
from anonapi_server.store import Store


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = Store(database_url)
    store.create_schema()
    store.add_project("P")
    yield store
    store.close()


def held(n: int) -> HeldFile:
    return HeldFile(f"f{n}", "1", f"{n}.dcm", "burned_in", "burned-in annotation", 3 * 2**31, "ab")


def test_rows_of_the_current_attempt_are_shown_and_decided_once(store: Store):
    job_id = store.create_job({"user_name": "u", "project_name": "P", "source_type": "PATH"})[
        "job_id"
    ]
    first = store.claim_job("w", 60)
    assert first is not None and first.job_id == job_id
    assert record_held(store, job_id, first.attempt, [held(1), held(2)])
    rows = current_rows(store, job_id)
    assert [(r["file_id"], r["state"], r["source_size"]) for r in rows] == [
        ("f1", "held", 3 * 2**31),
        ("f2", "held", 3 * 2**31),
    ]
    assert decide(store, job_id, "f1", first.attempt, "released", "u")
    assert not decide(store, job_id, "f1", first.attempt, "dropped", "v")
    assert current_rows(store, job_id, "f1")[0]["decided_by"] == "u"

    # A reset starts a new attempt: the old rows are hidden and cannot be decided on; the
    # attempt that runs then replaces them, and a late write of the old attempt is refused.
    store.modify_job(job_id, {"status": "ACTIVE"}, restart=True)
    assert current_rows(store, job_id) == []
    assert not decide(store, job_id, "f2", first.attempt, "dropped", "u")
    second = store.claim_job("w", 60)
    assert second is not None
    assert not record_held(store, job_id, first.attempt, [held(9)])
    assert record_held(store, job_id, second.attempt, [held(2)])
    assert [(r["file_id"], r["state"]) for r in current_rows(store, job_id)] == [("f2", "held")]
