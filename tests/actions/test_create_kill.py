"""`create from-mapping` killed with a real kill -9 at each point of a run, then run again: every
row ends with exactly one job on the server and its id in `.anonbatch`.

The killed run is a child process that wraps one function of the core so the process kills
itself (SIGKILL; TerminateProcess on Windows) right before or after it: no cleanup code runs,
as with a power cut. Before the rerun, 120 newer jobs of the same user push the killed run's jobs
out of the server's "latest 100" list, which the old recovery searched.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from anonapi_core.actions.create import RUN_MARKER_NAME
from anonapi_core.batch import BATCH_FILE_NAME, CreationJournal, load_batch
from anonapi_core.client import AnonClient
from anonapi_core.models import Server
from anonapi_core.settings import Settings, save_settings
from anonapi_server.testing import EmbeddedServer
from tests.actions.conftest import write_mapping

ROWS = 6
NEWER_JOBS = 120

# argv: point, n. Kills the process at the n-th call of the wrapped function.
CHILD = """
import os, signal, sys
from anonapi_core import batch
from anonapi_core.client import AnonClient

point, n = sys.argv[1], int(sys.argv[2])
calls = []

def die():
    os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))

def wrap(owner, name, before):
    real = getattr(owner, name)
    def wrapper(*args, **kwargs):
        calls.append(name)
        if before and len(calls) == n:
            die()
        result = real(*args, **kwargs)
        if not before and len(calls) == n:
            die()
        return result
    setattr(owner, name, wrapper)

{
    "before_create": lambda: wrap(AnonClient, "create_job", True),
    "after_reply": lambda: wrap(AnonClient, "create_job", False),
    "after_journal": lambda: wrap(batch.CreationJournal, "record", False),
    "before_batch": lambda: wrap(batch, "save_batch", True),
}[point]()
from anonapi_cli.main import cli
cli(["create", "from-mapping", "--yes"])
"""


def _ours(server: EmbeddedServer, first: int, tag: str) -> list[str]:
    """Sources of this test's jobs on the server (ids from `first` on)."""
    jobs = (server.store.job(i) for i in range(first, server.store.count_jobs() + first + 1))
    return sorted(j["source_path"] for j in jobs if j and tag in (j["source_path"] or ""))


@pytest.mark.parametrize(
    ("point", "n"),
    [
        ("before_create", 3),  # some jobs created and journalled, the rest not sent
        ("after_reply", 1),  # the first job exists on the server, its id reached nothing
        ("after_reply", ROWS),  # the last job exists on the server, its id reached nothing
        ("after_journal", 3),  # mid-run, just after an id was journalled
        ("after_journal", ROWS),  # every id journalled, the batch never written
        ("before_batch", 1),  # all created and journalled, killed as the batch is written
    ],
)
def test_a_run_killed_at_any_point_ends_with_one_job_per_row_after_a_rerun(
    idle_server: EmbeddedServer, tmp_path: Path, point: str, n: int
) -> None:
    tag = f"k{point}{n}"
    grid = "source,pseudo_name\n" + "".join(f"folder:{tag}/s{i},P{i}\n" for i in range(ROWS))
    write_mapping(tmp_path, idle_server, grid)
    settings = Settings(
        servers={"idle": idle_server.url},
        active_server_name="idle",
        user_name=idle_server.user_name,
        user_token=idle_server.token,
    )
    env = {**os.environ, "ANONAPI_SETTINGS": str(save_settings(settings, tmp_path / "s.yml"))}
    first = idle_server.store.count_jobs() + 1
    run = [sys.executable, "-c"]

    killed = subprocess.run(
        [*run, CHILD, point, str(n)], cwd=tmp_path, env=env, capture_output=True, timeout=120
    )
    with AnonClient(
        Server(name="idle", url=idle_server.url), idle_server.user_name, idle_server.token
    ) as client:  # someone else's work in between: more than a "latest 100" window
        client.for_each(
            lambda i: client.create_job(
                {
                    "source_type": "PATH",
                    "source_path": "folder:" + idle_server.unc("other", i),
                    "destination_type": "PATH",
                    "destination_path": idle_server.unc("out"),
                    "project_name": "Wetenschap-Algemeen",
                    "anonymizedpatientname": f"X{i}",
                }
            ),
            [str(i) for i in range(NEWER_JOBS)],
        )
    rerun = subprocess.run(
        [*run, "from anonapi_cli.main import cli; cli()", "create", "from-mapping", "--yes"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert killed.returncode != 0  # it really died
    assert rerun.returncode == 0, rerun.stderr
    sources = _ours(idle_server, first, tag)
    assert len(sources) == ROWS and len(set(sources)) == ROWS  # none missing, none twice
    batch = load_batch(tmp_path)
    assert (tmp_path / BATCH_FILE_NAME).is_file()
    assert len(batch.job_ids) == ROWS
    assert sorted(idle_server.store.job(int(i))["source_path"] for i in batch.job_ids) == sources
    assert not (tmp_path / RUN_MARKER_NAME).exists()


def test_the_next_command_folds_a_journal_the_batch_never_got(
    idle_server: EmbeddedServer, tmp_path: Path
) -> None:
    """`batch status` after a kill before the batch was written shows the jobs; ids removed
    from the batch later do not come back from the journal."""
    server = Server(name="idle", url=idle_server.url)
    journal = CreationJournal(tmp_path, server)
    journal.record("row-a", "11")
    journal.record("row-b", "12")

    assert load_batch(tmp_path).job_ids == ["11", "12"]
    assert load_batch(tmp_path).server == server
    batch = load_batch(tmp_path)
    batch.remove(["12"])
    from anonapi_core.batch import save_batch

    save_batch(tmp_path, batch)
    assert load_batch(tmp_path).job_ids == ["11"]
