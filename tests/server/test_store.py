"""Job ownership in the store: one owner per job, leases, and attempts that fence late writers."""

from __future__ import annotations

import threading
import time

import pytest

from anonapi_core.models import JobStatus
from anonapi_server.store import Store


@pytest.fixture
def store(database_url: str) -> Store:
    store = Store(database_url)
    store.create_schema()
    store.add_project("P")
    yield store
    store.close()


def new_jobs(store: Store, count: int) -> list[int]:
    values = {"user_name": "u", "project_name": "P", "source_type": "PATH"}
    return [store.create_job(values)["job_id"] for _ in range(count)]


def test_concurrent_workers_claim_every_job_exactly_once(store: Store):
    created = new_jobs(store, 60)
    claimed: list[int] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        own = Store(store.url)  # its own connections, as a separate process would have
        while (claim := own.claim_job(f"w{n}", 60)) is not None:
            with lock:
                claimed.append(claim.job_id)
        own.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == created


def test_a_worker_past_its_lease_cannot_overwrite_the_new_attempt(store: Store):
    (job_id,) = new_jobs(store, 1)
    late = store.claim_job("late", lease_seconds=0.01)
    time.sleep(0.05)
    current = store.claim_job("current", lease_seconds=60)
    assert current is not None and late is not None
    assert current.job_id == job_id and current.attempt == late.attempt + 1
    assert not store.update_claimed(late, files_processed=99)
    assert store.update_claimed(current, files_processed=1)


def test_a_leased_job_is_not_claimed_twice(store: Store):
    new_jobs(store, 1)
    assert store.claim_job("a", lease_seconds=60) is not None
    assert store.claim_job("b", lease_seconds=60) is None


def test_a_reset_fences_the_running_attempt_and_makes_the_job_claimable(store: Store):
    (job_id,) = new_jobs(store, 1)
    running = store.claim_job("a", lease_seconds=60)
    assert running is not None
    store.modify_job(job_id, {"status": "ACTIVE"}, restart=True)
    assert not store.finish(running, status=JobStatus.DONE)
    again = store.claim_job("b", lease_seconds=60)
    assert again is not None and again.attempt == running.attempt + 2


def test_tokens_are_stored_hashed_and_checked(store: Store):
    store.set_user("alice", "s3cret-token", None)
    assert store.check_token("alice", "s3cret-token")
    assert not store.check_token("alice", "other")
    assert not store.check_token("bob", "s3cret-token")
    with store.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT token_hash FROM users").scalar_one()
    assert "s3cret-token" not in stored
