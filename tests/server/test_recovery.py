"""A killed worker never leaves a job DONE with partial output, and its job runs again."""

from __future__ import annotations

import sys
import time
from multiprocessing.connection import Connection
from typing import Any

from anonapi_server.supervisor import WorkerPool
from anonapi_server.testing import EmbeddedServer, running_server
from tests.server.conftest import call, create_path_job, wait_until_started, write_small_study

FILES = 2000  # enough that the job is still running when the test interrupts it (300 no longer was)


def start_long_job(server: EmbeddedServer) -> int:
    """A job caught while its worker reads the source."""
    source = write_small_study(server, "big", patient_id="P", n_files=FILES)
    job_id = create_path_job(server, "folder:" + source).json()["job_id"]
    wait_until_started(server, job_id)
    return job_id


def test_a_job_of_a_killed_worker_is_not_done_and_runs_again_after_its_lease():
    with running_server(workers=1, lease_seconds=1) as server:
        job_id = start_long_job(server)
        worker = server.worker_processes[0]
        worker.kill()
        worker.join(5)

        time.sleep(1.2)  # past the lease
        job = call(server, "get_job", job_id=job_id).json()
        assert job["status"] in ("ACTIVE", "UPLOADED")
        assert not (server.share_root / "out" / str(job_id)).exists()

        # The server's supervisor restarts the killed worker, which claims the job again.
        assert server.wait_for([job_id], timeout=60) == {job_id: "DONE"}
        job = call(server, "get_job", job_id=job_id).json()
        assert job["files_processed"] == FILES
        assert len(server.output_files("out", str(job_id))) == FILES


def test_a_job_interrupted_by_a_server_stop_runs_again_after_restart(tmp_path):
    home = tmp_path / "home"
    with running_server(home, workers=1) as server:
        job_id = start_long_job(server)
    with running_server(home, workers=1) as server:
        assert server.store.job_statuses([job_id])[job_id] in ("ACTIVE", "UPLOADED")
        assert server.wait_for([job_id], timeout=30) == {job_id: "DONE"}
        assert len(server.output_files("out", str(job_id))) == FILES


def wait_to_be_told_to_stop(worker_id: str, control: Connection, wake: Any) -> None:
    """A worker process's stand-in: exits 0 when told to stop within a minute, 1 otherwise."""
    sys.exit(0 if control.poll(60) and control.recv() == "stop" else 1)


def test_a_stopping_server_tells_its_workers_first_without_waiting_for_them():
    # A server stops its workers before its API, which may take seconds: a job does not run on
    # to its end meanwhile (the test above once saw its interrupted job finish DONE).
    pool = WorkerPool(wait_to_be_told_to_stop, (), 2)
    try:
        processes = pool.processes
        pool.ask_to_stop()  # returns at once: nothing joined here
        for process in processes:
            process.join(30)
            assert process.exitcode == 0
    finally:
        pool.stop()
