"""Fixtures for dashboard tests: private settings, a real embedded server, jobs in a known state.

Jobs in ERROR are made the way a worker makes them: claimed from the server's store and
finished with an error. The server for these tests runs without workers, so nothing moves
unless the test (or the dashboard under test) moves it.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from textual.app import App
from textual.pilot import Pilot

from anonapi_core.batch import add_to_batch
from anonapi_core.client import AnonClient
from anonapi_core.models import JobStatus
from anonapi_core.settings import Settings, save_settings
from anonapi_server.sample_studies import write_study
from anonapi_server.testing import EmbeddedServer

PROJECT = "Wetenschap-Algemeen"
SIZE = (120, 34)


@pytest.fixture(autouse=True)
def private_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Settings in a temp file and the working folder in tmp: the developer's files stay out."""
    path = tmp_path / "settings.yml"
    monkeypatch.setenv("ANONAPI_SETTINGS", str(path))
    monkeypatch.chdir(tmp_path)
    return path


@pytest.fixture(scope="module")
def idle_server(idle_server: EmbeddedServer) -> EmbeddedServer:
    """The shared idle server (tests/conftest.py) with one small study on its `in` share."""
    write_study(
        idle_server.share_root / "in" / "study",
        patient_id="P1",
        patient_name="A^B",
        n_files=1,
        rows=16,
        columns=16,
    )
    return idle_server


def settings_for(server: EmbeddedServer, path: Path) -> Settings:
    settings = Settings(
        servers={"local": server.url},
        active_server_name="local",
        user_name=server.user_name,
        user_token=server.token,
        path=path,
    )
    save_settings(settings)
    return settings


@dataclass
class Batch:
    """A batch folder on the idle server whose jobs have known statuses."""

    server: EmbeddedServer
    settings: Settings
    folder: Path
    ids: dict[str, list[str]]  # status -> job ids

    def statuses(self) -> dict[str, str]:
        all_ids = [int(i) for ids in self.ids.values() for i in ids]
        return {str(k): v for k, v in self.server.store.job_statuses(all_ids).items()}


def create_jobs(settings: Settings, server: EmbeddedServer, count: int, label: str) -> list[str]:
    with AnonClient.from_settings(settings) as client:
        return [
            str(
                client.create_job(
                    {
                        "source_type": "PATH",
                        "source_path": "folder:" + server.unc("in", "study"),
                        "destination_type": "PATH",
                        "destination_path": server.unc("out"),
                        "project_name": PROJECT,
                        "anonymizedpatientname": f"{label}{n}",
                        "description": f"{label} job {n} [/]",
                    }
                ).job_id
            )
            for n in range(count)
        ]


def fail_jobs(server: EmbeddedServer, job_ids: list[str], error: str) -> None:
    """Claim the jobs as a worker would and finish them in ERROR."""
    wanted = set(job_ids)
    while wanted:
        claim = server.store.claim_job("test-worker", 60)
        assert claim is not None, f"jobs {wanted} were not claimable"
        if str(claim.job_id) in wanted:
            server.store.finish(claim, JobStatus.ERROR, error)
            wanted.discard(str(claim.job_id))
        else:
            server.store.finish(claim, JobStatus.DONE)


@pytest.fixture
def batch(idle_server: EmbeddedServer, tmp_path: Path, private_settings: Path) -> Batch:
    """Four ERROR jobs (with a bracketed error text) and two ACTIVE ones in a batch folder."""
    settings = settings_for(idle_server, private_settings)
    errors = create_jobs(settings, idle_server, 4, "err")
    fail_jobs(idle_server, errors, "Patient is on the opt-out list [/] [bold]")
    active = create_jobs(settings, idle_server, 2, "act")
    folder = tmp_path / "batch"
    folder.mkdir()
    add_to_batch(folder, settings.active_server(), errors + active)
    return Batch(idle_server, settings, folder, {"ERROR": errors, "ACTIVE": active})


async def until(pilot: Pilot, condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the app run until `condition` holds; fail (never hang) after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"still not true after {timeout} s"
        await pilot.pause(0.05)


async def settle(pilot: Pilot, rounds: int = 3) -> None:
    """Let workers finish and their messages be handled; stop cursors blinking for snapshots."""
    for _ in range(rounds):
        # A DirectoryTree's loader worker runs for the tree's whole life: not ours to wait for.
        ours = [w for w in pilot.app.workers if w.group != "_loader"]
        if ours:  # an empty list would mean "all workers"
            await pilot.app.workers.wait_for_complete(ours)
        await pilot.pause()
    for box in pilot.app.screen.query("Input, TextArea"):
        box.cursor_blink = False


@asynccontextmanager
async def running(app: App, size: tuple[int, int] = SIZE) -> AsyncIterator[Pilot]:
    """The app headless at the tests' terminal size, its first data shown."""
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        yield pilot
