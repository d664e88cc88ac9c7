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


@pytest.fixture
def connected(anon: Anon, request: pytest.FixtureRequest):
    """Settings pointing at a real embedded server (user, token, active), as a user sets them up."""
    server = request.getfixturevalue("anon_server")
    assert anon("server", "add", "local", server.url).exit_code == 0
    assert anon("server", "activate", "local").exit_code == 0
    assert anon("settings", "user", "set-username", server.user_name).exit_code == 0
    assert anon("settings", "user", "set-token", input=server.token + "\n").exit_code == 0
    return server
