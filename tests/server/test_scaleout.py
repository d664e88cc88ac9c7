"""Scale-out on PostgreSQL: worker hosts without an API, per-host share mounts, heartbeats and
status, and the faults a cluster meets (a host killed, the database restarted, a late worker)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path

import httpx
import pytest
import yaml
from click.testing import CliRunner

from anonapi_core.models import JobStatus
from anonapi_server.admin import init_home
from anonapi_server.cli import cli
from anonapi_server.config import ServerHome
from anonapi_server.pg_cluster import Cluster
from anonapi_server.sample_studies import write_study
from anonapi_server.store import Store
from anonapi_server.testing import EmbeddedServer, running_server
from anonapi_server.worker import Worker

PROJECT = "Wetenschap-Algemeen"


def new_jobs(store: Store, count: int, source: str, destination: str) -> list[int]:
    values = {
        "user_name": "testuser",
        "project_name": PROJECT,
        "source_type": "PATH",
        "source_path": source,
        "destination_path": destination,
        "source_anonymizedpatientid": "PSEUDO",
    }
    return [store.create_job(values)["job_id"] for _ in range(count)]


def worker_home(root: Path, database: str, mounts: dict[str, str], lease: float) -> Path:
    """The home of a worker host on the shared database, mounting the shares as given."""
    home = ServerHome(root)
    init_home(home, database=database, lease_seconds=lease)
    config = yaml.safe_load(home.config_path.read_text())
    home.config_path.write_text(yaml.safe_dump({**config, "shares": mounts}))
    return root


@contextmanager
def worker_host(home: Path, workers: int = 1) -> Iterator[subprocess.Popen]:
    """`anon-server worker` in its own process group (so a test can kill the whole host).

    Its output goes to a file in the home: a pipe nobody reads would fill and stall it.
    """
    with (home / "worker.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", "from anonapi_server.cli import cli; cli()", "worker"]
            + ["--home", str(home), "--workers", str(workers)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
        with suppress(ProcessLookupError):  # no worker process of the host outlives the test
            os.killpg(process.pid, signal.SIGKILL)


def wait_done(store: Store, job_ids: list[int], timeout: float = 90) -> dict[int, str]:
    deadline = time.monotonic() + timeout
    while True:
        found = store.job_statuses(job_ids)
        if set(found.values()) <= {"DONE", "ERROR"} and len(found) == len(job_ids):
            return found
        assert time.monotonic() < deadline, f"jobs not finished: {found}"
        time.sleep(0.1)


def outputs(destination: Path) -> dict[str, int]:
    """Published output folders and their file counts; partial folders show up too."""
    return {
        d.name: sum(1 for f in d.rglob("*") if f.is_file() and not f.name.startswith("."))
        for d in destination.iterdir()
    }


@pytest.fixture
def pg_server(pg_cluster: Cluster) -> Iterator[EmbeddedServer]:
    """An API host (no workers of its own) on a fresh PostgreSQL database."""
    with running_server(workers=0, database=pg_cluster.new_database(), lease_seconds=2) as s:
        yield s


def study(server: EmbeddedServer, name: str, n_files: int = 4) -> str:
    write_study(
        server.share_root / "in" / name, patient_id="P1", patient_name="Doe^John",
        n_files=n_files, rows=16, columns=16,
    )  # fmt: skip
    (server.share_root / "out").mkdir(exist_ok=True)
    return server.unc("in", name)


def test_a_host_claims_only_jobs_on_shares_it_mounts(database_url: str, tmp_path: Path):
    store = Store(database_url)
    store.create_schema()
    store.add_project(PROJECT)
    store.set_share("fs", "data", str(tmp_path))
    store.set_share("fs", "scans", str(tmp_path))
    on_scans = new_jobs(store, 1, "\\\\fs\\scans\\in", "\\\\fs\\data\\out")
    on_data = new_jobs(store, 1, "folder:\\\\fs\\data\\in", "\\\\FS\\Data\\out")
    data_only = Store(database_url, mounts={"data": "/mnt/data"})
    try:
        assert [s.local_path for s in data_only.mounted_shares()] == ["/mnt/data"]
        claim = data_only.claim_job("w", 60)
        assert claim is not None and claim.job_id == on_data[0]
        assert data_only.claim_job("w", 60) is None  # the scans job waits for another host
        everything = Store(database_url, mounts={"\\\\fs\\scans": "/x", "data": "/y"})
        assert everything.claim_job("w2", 60).job_id == on_scans[0]
        everything.close()
    finally:
        data_only.close()
        store.close()


def test_status_ext_hosts_and_metrics_show_hosts_workers_leases_and_queue(
    pg_server: EmbeddedServer, tmp_path: Path
):
    source = study(pg_server, "s1")
    home = worker_home(
        tmp_path / "w1", pg_server.store.url, {"data": str(pg_server.share_root)}, lease=2
    )
    with worker_host(home, workers=2):
        (job_id,) = new_jobs(pg_server.store, 1, source, pg_server.unc("out"))
        assert wait_done(pg_server.store, [job_id]) == {job_id: "DONE"}
        deadline = time.monotonic() + 20
        while True:  # the workers' first heartbeats
            reply = httpx.get(
                f"{pg_server.url}/ext/hosts",
                params={"user_name": pg_server.user_name},
                headers={"Authorization": f"Token {pg_server.token}"},
            )
            assert reply.status_code == 200
            hosts = {h["role"]: h for h in reply.json()["hosts"]}
            if hosts.get("worker", {}).get("live_workers") == 2:
                break
            assert time.monotonic() < deadline, reply.json()
            time.sleep(0.2)
        assert hosts["api"]["alive"] and hosts["worker"]["shares"] == "data"
        assert reply.json()["queue_depth"] == 0
        status = CliRunner().invoke(cli, ["status", "--home", str(home)])
        assert status.exit_code == 0
        assert "Queue: 0 job(s) waiting" in status.output and " worker " in status.output
        as_json = json.loads(
            CliRunner().invoke(cli, ["status", "--home", str(home), "--json"]).output
        )
        assert as_json["jobs_by_status"] == {"DONE": 1}
        metrics = httpx.get(f"{pg_server.url}/metrics")
        assert metrics.status_code == 200 and metrics.headers["content-type"].startswith(
            "text/plain"
        )
        text = metrics.text
        assert 'anon_jobs{status="DONE"} 1.0' in text
        assert "anon_queue_depth 0.0" in text
        assert 'anon_live_workers{host="' in text and "anon_claim_seconds_count" in text
    # A worker host that stops cleanly leaves the status.
    roles = [h["role"] for h in json.loads(
        CliRunner().invoke(cli, ["status", "--home", str(home), "--json"]).output
    )["hosts"]]  # fmt: skip
    assert roles == ["api"]


def test_a_killed_worker_host_s_job_runs_again_elsewhere_and_is_written_once(
    pg_server: EmbeddedServer, tmp_path: Path
):
    source = study(pg_server, "big", n_files=400)  # still running when killed
    mounts = {"data": str(pg_server.share_root)}
    first = worker_home(tmp_path / "w1", pg_server.store.url, mounts, lease=2)
    second = worker_home(tmp_path / "w2", pg_server.store.url, mounts, lease=2)
    (job_id,) = new_jobs(pg_server.store, 1, source, pg_server.unc("out"))
    with worker_host(first) as process:
        deadline = time.monotonic() + 30
        while not (pg_server.store.job(job_id)["files_downloaded"] or 0):
            assert time.monotonic() < deadline, "job did not start"
            time.sleep(0.01)
        os.killpg(process.pid, signal.SIGKILL)  # the machine is gone, workers and all
        process.wait(10)
    # Killed while reading the headers (ACTIVE) or writing the output (UPLOADED): unfinished.
    assert pg_server.store.job(job_id)["status"] in ("ACTIVE", "UPLOADED")
    with worker_host(second):
        assert wait_done(pg_server.store, [job_id]) == {job_id: "DONE"}
    job = pg_server.store.jobs_by_id([job_id], extended=False)[0]
    assert job["files_processed"] == 400
    published = outputs(pg_server.share_root / "out")
    assert published == {str(job_id): 400}, published  # once: no second copy, no partial left


def test_two_api_hosts_and_two_worker_hosts_run_every_job_exactly_once(
    pg_server: EmbeddedServer, tmp_path: Path
):
    source = study(pg_server, "s", n_files=2)
    # The second worker host mounts the share somewhere else (a link to the same folder).
    elsewhere = tmp_path / "mnt-data"
    elsewhere.symlink_to(pg_server.share_root)
    one = worker_home(tmp_path / "w1", pg_server.store.url, {"data": str(pg_server.share_root)}, 2)
    two = worker_home(
        tmp_path / "w2", pg_server.store.url, {"\\\\localhost\\data": str(elsewhere)}, 2
    )
    second_api_home = tmp_path / "api2"
    with ExitStack() as stack:
        api2 = stack.enter_context(
            running_server(second_api_home, workers=0, database=pg_server.store.url, user="two")
        )
        stack.enter_context(worker_host(one, 2))
        stack.enter_context(worker_host(two, 2))
        job_ids = []
        for n in range(16):
            api = (pg_server, api2)[n % 2]
            reply = httpx.post(
                f"{api.url}/create_job",
                data={
                    "user_name": api.user_name,
                    "source_type": "PATH",
                    "source_path": source,
                    "destination_path": pg_server.unc("out"),
                    "project_name": PROJECT,
                    "anonymizedpatientid": "X",
                    "anonymizedpatientname": "X",
                },  # fmt: skip
                headers={"Authorization": f"Token {api.token}"},
            )
            assert reply.status_code == 200, reply.text
            job_ids.append(reply.json()["job_id"])
        assert set(wait_done(pg_server.store, job_ids).values()) == {"DONE"}
    rows = pg_server.store.jobs_by_id(job_ids, extended=False)
    with pg_server.store.engine.connect() as conn:
        attempts = dict(conn.exec_driver_sql("SELECT job_id, attempt FROM jobs").all())
    assert all(attempts[i] == 1 for i in job_ids), attempts  # each claimed once
    assert all(r["files_processed"] == 2 for r in rows)
    assert outputs(pg_server.share_root / "out") == {str(i): 2 for i in job_ids}


def test_workers_reconnect_after_a_database_restart_and_lose_nothing(
    pg_cluster: Cluster, tmp_path: Path
):
    database = pg_cluster.new_database()
    with running_server(workers=0, database=database, lease_seconds=2) as api:
        source = study(api, "s", n_files=3)
        home = worker_home(tmp_path / "w", database, {"data": str(api.share_root)}, lease=2)
        job_ids = new_jobs(api.store, 30, source, api.unc("out"))
        with worker_host(home, workers=2):
            deadline = time.monotonic() + 60
            while "DONE" not in api.store.job_statuses(job_ids).values():
                assert time.monotonic() < deadline, "no job finished"
                time.sleep(0.05)
            pg_cluster.restart()  # every connection of every host is cut
            statuses = wait_done(api.store, job_ids, timeout=120)
        assert set(statuses.values()) == {"DONE"}
        with api.store.engine.connect() as conn:
            attempts = dict(conn.exec_driver_sql("SELECT job_id, attempt FROM jobs").all())
        # Only jobs in flight at the restart (at most one per worker) ran a second attempt.
        assert sum(attempts.values()) <= len(job_ids) + 2, attempts
        assert outputs(api.share_root / "out") == {str(i): 3 for i in job_ids}


def test_a_late_worker_s_result_is_discarded_not_published_over_the_new_attempt(
    pg_server: EmbeddedServer,
):
    source = study(pg_server, "s", n_files=3)
    (job_id,) = new_jobs(pg_server.store, 1, source, pg_server.unc("out"))
    url = pg_server.store.url
    release, blocked = threading.Event(), threading.Event()

    class Stalled(Worker):
        """A worker cut off from the database mid-write: its lease is not renewed."""

        def _engine(self, project):  # noqa: ANN001, ANN202
            engine = super()._engine(project)

            class Slow:
                def deidentify_file(self, *args):  # noqa: ANN002, ANN202
                    blocked.set()
                    release.wait(30)
                    return engine.deidentify_file(*args)

            return Slow()

    late_store = Store(url)
    late = Stalled(late_store, "late", lease_seconds=1, shutdown=threading.Event())
    late_result: list[object] = []
    from anonapi_server import worker as worker_module

    original = worker_module.Heartbeat.run
    worker_module.Heartbeat.run = lambda self: None  # no renewals: the lease runs out
    try:
        thread = threading.Thread(target=lambda: late_result.append(late.run_one()))
        thread.start()
        assert blocked.wait(30)
        time.sleep(1.5)  # the late worker's lease expires
        worker_module.Heartbeat.run = original
        current_store = Store(url)
        current = Worker(current_store, "current", lease_seconds=30, shutdown=threading.Event())
        assert current.run_one()
        final = pg_server.share_root / "out" / str(job_id)
        published = final.stat().st_ino
        release.set()
        thread.join(30)
    finally:
        worker_module.Heartbeat.run = original
        release.set()
    assert late_result == [True]
    assert final.stat().st_ino == published  # the late attempt did not replace the output
    job = pg_server.store.job(job_id)
    assert job["status"] == JobStatus.DONE.value
    assert outputs(pg_server.share_root / "out") == {str(job_id): 3}
    late_store.close()
    current_store.close()
