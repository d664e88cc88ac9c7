"""A worker's error texts: a failing share is named as the side (source or destination) that failed.

The worker runs in this process, on a server without worker processes, so that a test can make
the file system fail where it wants to.
"""

from __future__ import annotations

import errno
import threading
from collections.abc import Iterator

import pydicom.filereader
import pytest

from anonapi_core.server.deid import engine
from anonapi_core.server.worker import Worker
from anonapi_core.testing import EmbeddedServer, running_server
from tests.server.conftest import call, create_path_job, write_small_study


@pytest.fixture(scope="module")
def idle_server() -> Iterator[EmbeddedServer]:
    with running_server(workers=0) as server:
        write_small_study(server, "study", n_files=2)
        yield server


def run_in_process(server: EmbeddedServer) -> dict:
    job_id = create_path_job(server, "folder:" + server.unc("in", "study")).json()["job_id"]
    assert Worker(server.store, "in-test", 30, threading.Event()).run_one()
    return call(server, "get_job", job_id=job_id).json()


def fail_with(error: OSError):
    def fail(*_args, **_kwargs):
        raise error

    return fail


def test_a_source_file_that_fails_while_read_is_reported_as_a_read_error_naming_it(
    idle_server: EmbeddedServer, monkeypatch: pytest.MonkeyPatch
):
    # An I/O error in the middle of a file carries no file name, unlike a failing open().
    monkeypatch.setattr(
        pydicom.filereader, "read_partial", fail_with(OSError(errno.EIO, "Input/output error"))
    )
    job = run_in_process(idle_server)
    assert job["status"] == "ERROR"
    assert job["error"] == (
        r"Could not read source file \\localhost\data\in\study\1 on share \\localhost\data "
        "(Input/output error): check that the share is reachable and the file readable"
    )


def test_a_failing_write_is_reported_as_a_write_error_naming_the_output_file(
    idle_server: EmbeddedServer, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(
        engine, "write_part10", fail_with(OSError(errno.ENOSPC, "No space left on device"))
    )
    job = run_in_process(idle_server)
    assert job["status"] == "ERROR"
    assert job["error"] == (
        rf"Could not write \\localhost\data\out\{job['job_id']}\1 on share \\localhost\data "
        "(No space left on device): check that the share is writable and has free space"
    )
    assert not list((idle_server.share_root / "out").glob(f"*{job['job_id']}*"))
