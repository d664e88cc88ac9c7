"""A worker's error texts: a failing share is named as the side (source or destination) that failed.

The worker runs in this process, on a server without worker processes, so that a test can make
the file system fail where it wants to.
"""

from __future__ import annotations

import errno
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from anonapi_server.admin import add_opt_out
from anonapi_server.config import ServerHome
from anonapi_server.deid import direct, engine
from anonapi_server.testing import EmbeddedServer
from anonapi_server.worker import SourceReader, Worker
from tests.server.conftest import call, create_path_job, write_small_study


@pytest.fixture(scope="module")
def idle_server(idle_server: EmbeddedServer) -> EmbeddedServer:
    """The shared idle server (tests/conftest.py) with a two-file study on its `in` share."""
    write_small_study(idle_server, "study", n_files=2)
    return idle_server


def run_in_process(server: EmbeddedServer) -> dict:
    job_id = create_path_job(server, "folder:" + server.unc("in", "study")).json()["job_id"]
    assert Worker(server.store, "in-test", 30, threading.Event()).run_one()
    return call(server, "get_job", job_id=job_id).json()


def fail_with(error: OSError):
    def fail(*_args, **_kwargs):
        raise error

    return fail


class FailingReads:
    """A source file whose reads fail as a share's do in the middle of a file (an I/O error
    without a file name) while `failing()` says so."""

    def __init__(self, fp: Any, failing: Callable[[], bool]):
        self._fp, self._failing = fp, failing

    def read(self, *args: Any) -> bytes:
        if self._failing():
            raise OSError(errno.EIO, "Input/output error")
        return self._fp.read(*args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fp, name)


def failing_reads(monkeypatch: pytest.MonkeyPatch, failing: Callable[[], bool]) -> None:
    """Every source file the worker opens reads as `FailingReads`, whichever parser reads it."""
    stream = SourceReader.stream

    @contextmanager
    def opened(self: SourceReader, file: Any) -> Iterator[Any]:
        with stream(self, file) as fp:
            yield FailingReads(fp, failing)

    monkeypatch.setattr(SourceReader, "stream", opened)


def test_a_source_file_that_fails_while_read_is_reported_as_a_read_error_naming_it(
    idle_server: EmbeddedServer, monkeypatch: pytest.MonkeyPatch
):
    # An I/O error in the middle of a file carries no file name, unlike a failing open().
    failing_reads(monkeypatch, lambda: True)
    job = run_in_process(idle_server)
    assert job["status"] == "ERROR"
    assert job["error"] == (
        r"Could not read source file \\localhost\data\in\study\1 on share \\localhost\data "
        "(Input/output error): check that the share is reachable and the file readable"
    )


def test_a_failing_write_is_reported_as_a_write_error_naming_the_output_file(
    idle_server: EmbeddedServer, monkeypatch: pytest.MonkeyPatch
):
    failing = fail_with(OSError(errno.ENOSPC, "No space left on device"))
    monkeypatch.setattr(engine, "write_part10", failing)
    monkeypatch.setattr(direct, "write_chunks", failing)  # the engine writes on either path
    job = run_in_process(idle_server)
    assert job["status"] == "ERROR"
    assert job["error"] == (
        rf"Could not write \\localhost\data\out\{job['job_id']}\1\1.dcm on share \\localhost\data "
        "(No space left on device): check that the share is writable and has free space"
    )
    assert not list((idle_server.share_root / "out").glob(f"*{job['job_id']}*"))


def test_a_source_file_unreadable_at_the_opt_out_check_fails_the_job_even_if_it_reads_later(
    idle_server: EmbeddedServer, monkeypatch: pytest.MonkeyPatch
):
    """A file whose patient was not checked must never be written, even when a re-read works."""
    add_opt_out(ServerHome(idle_server.home), "OPTED-OUT")
    source = write_small_study(idle_server, "opted_out", patient_id="OPTED-OUT", n_files=1)
    reads = []

    def first_read() -> bool:
        reads.append(1)
        return len(reads) == 1

    failing_reads(monkeypatch, first_read)
    job_id = create_path_job(idle_server, "folder:" + source).json()["job_id"]
    assert Worker(idle_server.store, "in-test", 30, threading.Event()).run_one()
    job = call(idle_server, "get_job", job_id=job_id).json()
    assert job["status"] == "ERROR"
    assert job["error"].startswith(r"Could not read source file \\localhost\data\in\opted_out\1 ")
    assert not (idle_server.share_root / "out" / str(job_id)).exists()
