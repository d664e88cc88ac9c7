"""One embedded server per test module, a tiny IDIS caller speaking the original's wire form,
and the calls and studies several test modules need."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from anonapi_server.pg_cluster import Cluster, ClusterUnavailable, throwaway_cluster
from anonapi_server.sample_studies import write_study
from anonapi_server.testing import EmbeddedServer, running_server

PROJECT = "Wetenschap-Algemeen"


@pytest.fixture(scope="module")
def server() -> Iterator[EmbeddedServer]:
    with running_server(workers=1) as running:
        yield running


def call(
    server: EmbeddedServer,
    function: str,
    method: str = "GET",
    *,
    token: str | None = None,
    **params: Any,
) -> httpx.Response:
    """Call an API function as the original client does: form body also on GET, user_name added."""
    params.setdefault("user_name", server.user_name)
    return httpx.request(
        method,
        f"{server.url}/{function}",
        data=params,
        headers={"Authorization": f"Token {token or server.token}"},
        timeout=10,
    )


def create_path_job(server: EmbeddedServer, source_path: str, **params: Any) -> httpx.Response:
    values = {
        "source_type": "PATH",
        "source_path": source_path,
        "destination_type": "PATH",
        "destination_path": server.unc("out"),
        "project_name": PROJECT,
        "description": "test job",
        "anonymizedpatientid": "PSEUDO1",
        "anonymizedpatientname": "Pseudo^One",
        **params,
    }
    return call(server, "create_job", "POST", **values)


def write_small_study(
    server: EmbeddedServer, name: str, *, patient_id: str = "P1", n_files: int = 3, **kw: Any
) -> str:
    """A study of tiny images in `in/<name>` on the server's share; returns the folder's UNC."""
    write_study(
        server.share_root / "in" / name,
        patient_id=patient_id,
        patient_name="Doe^John",
        n_files=n_files,
        rows=16,
        columns=16,
        **kw,
    )
    return server.unc("in", name)


def wait_until_started(server: EmbeddedServer, job_id: int) -> None:
    """Wait until a worker has read a file of the job, so that it is caught mid-run."""
    deadline = time.monotonic() + 20
    while not (call(server, "get_job", job_id=job_id).json()["files_downloaded"] or 0):
        assert time.monotonic() < deadline, "job did not start"
        time.sleep(0.01)


def reset_job(server: EmbeddedServer, job_id: int) -> httpx.Response:
    """Reset a job with exactly the fields the original client sends."""
    return call(
        server,
        "modify_job",
        "POST",
        job_id=job_id,
        status="ACTIVE",
        files_downloaded=0,
        files_processed=0,
        error=" ",
    )


def set_opt_out_ignore(server: EmbeddedServer, job_id: int, reason: str) -> httpx.Response:
    """Mark a job to run although its patient opted out, as the original client sends it."""
    return call(
        server,
        "modify_job",
        "POST",
        job_id=job_id,
        source_ignore_opt_out="True",
        source_ignore_opt_out_reason=f"Reason: {reason}",
    )


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """One throwaway PostgreSQL cluster for the session; skipped where PostgreSQL is missing,
    except under CI=true, where CI installs it and a missing one is a failure."""
    try:
        with throwaway_cluster() as cluster:
            yield cluster
    except ClusterUnavailable as e:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI=true: {e}")
        pytest.skip(f"PostgreSQL tests skipped: {e}")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each kind: every test using it runs on both stores."""
    if request.param == "sqlite":
        return f"sqlite:///{(tmp_path / 'jobs.db').as_posix()}"
    return request.getfixturevalue("pg_cluster").new_database()


@pytest.fixture(scope="module")
def idle_server() -> Iterator[EmbeddedServer]:
    """A server without worker processes: a test runs the worker in-process with `run_once`."""
    with running_server(workers=0) as running:
        yield running


def run_once(server: EmbeddedServer, job_id: int) -> dict:
    """Run the next claimable job (the test's `job_id`) in this process; return the job."""
    from anonapi_server.worker import Worker

    assert Worker(server.store, "in-test", 30, threading.Event()).run_one()
    return call(server, "get_job", job_id=job_id).json()


def new_job(server: EmbeddedServer, source_path: str, **params: Any) -> int:
    reply = create_path_job(server, source_path, **params)
    assert reply.status_code == 200, reply.text
    return reply.json()["job_id"]
