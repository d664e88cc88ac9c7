"""Fixtures for CLI tests: a private settings file, a scratch working folder, and `anon` itself.

Commands run through click's CliRunner with exceptions NOT caught, so any traceback a user could
see fails the test instead of hiding in a result object.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from anonapi_cli.main import cli
from anonapi_core.client import AnonClient
from anonapi_core.models import Server
from anonapi_server.testing import EmbeddedServer

Anon = Callable[..., Result]


@pytest.fixture
def settings_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Settings live in a temp file, so no test reads or writes the developer's own."""
    path = tmp_path / "config" / "settings.yml"
    monkeypatch.setenv("ANONAPI_SETTINGS", str(path))
    return path


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


@pytest.fixture
def anon(settings_file: Path, workdir: Path) -> Anon:
    """Run `anon ARGS...` in the working folder; `input=` feeds prompts."""
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> Result:
        return runner.invoke(cli, list(args), input=input, catch_exceptions=False)

    return run


def connect(anon: Anon, server) -> None:
    """Point the settings at `server` (user, token, active) the way a user sets them up."""
    assert anon("server", "add", "local", server.url).exit_code == 0
    assert anon("server", "activate", "local").exit_code == 0
    assert anon("settings", "user", "set-username", server.user_name).exit_code == 0
    assert anon("settings", "user", "set-token", input=server.token + "\n").exit_code == 0


@pytest.fixture
def connected(anon: Anon, anon_server_session):
    """Settings pointing at the session's shared embedded server (its workers process jobs)."""
    connect(anon, anon_server_session)
    return anon_server_session


@pytest.fixture
def idle(anon: Anon, idle_server: EmbeddedServer) -> EmbeddedServer:
    """Settings pointing at the idle server."""
    connect(anon, idle_server)
    return idle_server


def make_jobs(server: EmbeddedServer, statuses: list[str], **fields: str) -> list[str]:
    """Create one job per status on `server` directly in its API, then force each status.

    The sources need not exist: on a server without workers nothing reads them.
    """
    with AnonClient(Server(name="t", url=server.url), server.user_name, server.token) as client:
        ids = []
        for n in range(len(statuses)):
            job = client.create_job(
                {
                    "source_type": "PATH",
                    "source_path": "folder:" + server.unc("nowhere", str(n)),
                    "destination_type": "PATH",
                    "destination_path": server.unc("out"),
                    "project_name": "Wetenschap-Algemeen",
                    "description": "test job",
                    "anonymizedpatientname": fields.get("pseudo_name", f"name{n}"),
                    "anonymizedpatientid": fields.get("pseudo_id", f"id{n}"),
                }
            )
            ids.append(str(job.job_id))
    for job_id, status in zip(ids, statuses, strict=True):
        error = fields.get("error", f"failure of job {job_id}") if status == "ERROR" else None
        server.store.modify_job(int(job_id), {"status": status, "error": error}, restart=False)
    return ids


def statuses(server: EmbeddedServer, ids: list[str]) -> dict[str, str]:
    return {str(k): v for k, v in server.store.job_statuses([int(i) for i in ids]).items()}
