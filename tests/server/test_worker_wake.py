"""Idle workers start a new job when the API creates it, not at their next look for one.

Asserted by behaviour: the worker here looks only once a minute, so a job it runs within the
test's few seconds was started by the wake-up.
"""

from __future__ import annotations

import sys
import threading
from multiprocessing.connection import Connection
from typing import Any

import httpx

from anonapi_server.app import create_app
from anonapi_server.supervisor import WorkerPool
from anonapi_server.testing import EmbeddedServer
from anonapi_server.worker import Worker
from tests.server.conftest import PROJECT, create_path_job, write_small_study

A_MINUTE = 60.0


class LookingWorker(Worker):
    """A Worker that says when it has looked for a job and found none."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.found_nothing = threading.Event()

    def run_one(self) -> bool:
        worked = super().run_one()
        if not worked:
            self.found_nothing.set()
        return worked


def test_an_idle_worker_takes_a_new_job_as_soon_as_it_is_woken(idle_server: EmbeddedServer):
    source = write_small_study(idle_server, "woken", n_files=1)
    shutdown, wake = threading.Event(), threading.Semaphore(0)
    worker = LookingWorker(idle_server.store, "woken", 30, shutdown, wake=wake)
    thread = threading.Thread(target=worker.run_forever, args=(A_MINUTE,), daemon=True)
    thread.start()
    try:
        assert worker.found_nothing.wait(10)  # idle now, for a minute unless woken
        job_id = create_path_job(idle_server, "folder:" + source).json()["job_id"]
        wake.release()
        statuses = idle_server.wait_for([job_id], timeout=20)
        assert statuses == {job_id: "DONE"}
    finally:
        shutdown.set()
        wake.release()
        thread.join(10)
    assert not thread.is_alive()


async def test_the_api_wakes_the_workers_when_it_creates_a_job_and_not_when_it_refuses_one(
    idle_server: EmbeddedServer,
):
    woken: list[int] = []
    app = create_app(idle_server.store, wake=lambda: woken.append(1))
    values = {
        "user_name": idle_server.user_name,
        "source_type": "PATH",
        "source_path": "folder:" + idle_server.unc("in", "anything"),
        "destination_type": "PATH",
        "destination_path": idle_server.unc("out"),
        "project_name": PROJECT,
        "anonymizedpatientid": "P",
        "anonymizedpatientname": "P",
    }
    headers = {"Authorization": f"Token {idle_server.token}"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        bad = {**values, "project_name": ""}
        refused = await client.post("/create_job", data=bad, headers=headers)
        assert refused.status_code == 400
        assert woken == []
        created = await client.post("/create_job", data=values, headers=headers)
        assert created.status_code == 200, created.text
    assert woken == [1]


def wait_to_be_woken(worker_id: str, control: Connection, wake: Any) -> None:
    """A worker process's stand-in: exits 0 when woken within a minute, 1 otherwise."""
    sys.exit(0 if wake.acquire(timeout=A_MINUTE) else 1)


def test_the_pool_wakes_each_worker_process():
    pool = WorkerPool(wait_to_be_woken, (), 2)
    try:
        processes = pool.processes
        pool.wake()
        for process in processes:
            process.join(30)
            assert process.exitcode == 0
    finally:
        pool.stop()
