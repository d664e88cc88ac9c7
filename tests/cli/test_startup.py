"""The installed `anon`: fast start-up (no heavy imports), exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from anonapi_server.testing import EmbeddedServer
from tests.cli.conftest import make_jobs

HEAVY = ("textual", "pydicom", "openpyxl", "uvicorn", "starlette", "sqlalchemy")

PROBE = """
import json, sys
from anonapi_cli.main import cli
try:
    cli(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r})))
"""

# What a command that sends nothing to a server does not need either.
WIRE = ("pydantic", "httpx")


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "ANONAPI_SETTINGS": str(tmp_path / "settings.yml"), "LC_ALL": "C"}


def _imported(tmp_path: Path, *args: str, heavy: tuple[str, ...] = HEAVY) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=set(heavy)), *args],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_help_imports_no_heavy_package(tmp_path: Path) -> None:
    assert _imported(tmp_path, "--help") == []


def _write_batch_of_an_unreachable_server(folder: Path) -> None:
    """A batch on a server the user's settings know (the token goes only there) that is gone."""
    (folder / ".anonbatch").write_text(
        "job_ids: ['1']\nserver: {name: gone, url: 'http://127.0.0.1:9'}\n"
    )
    (folder / "settings.yml").write_text(
        "servers: {gone: 'http://127.0.0.1:9'}\nuser_name: kees\nuser_token: secret\n"
    )


def test_batch_status_imports_no_heavy_package(tmp_path: Path) -> None:
    _write_batch_of_an_unreachable_server(tmp_path)

    assert _imported(tmp_path, "batch", "status") == []


def test_status_of_an_empty_batch_loads_no_wire_models_nor_http_client(tmp_path: Path) -> None:
    (tmp_path / ".anonbatch").write_text("job_ids: []\nserver: {name: s, url: 'http://h'}\n")

    assert _imported(tmp_path, "batch", "status", heavy=HEAVY + WIRE) == []


@pytest.fixture
def anon_exe() -> str:
    exe = shutil.which("anon", path=str(Path(sys.executable).parent))
    assert exe, "the anon console script is not installed in this environment"
    return exe


def _run(anon_exe: str, tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """The installed `anon ARGS` in `tmp_path`, with private settings and `env` added."""
    return subprocess.run(
        [anon_exe, *args],
        cwd=tmp_path,
        env=_env(tmp_path) | env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_no_arguments_prints_help_and_succeeds(anon_exe: str, tmp_path: Path) -> None:
    result = _run(anon_exe, tmp_path)

    assert result.returncode == 0
    assert "Commands:" in result.stdout


def test_short_help_works_on_subcommands(anon_exe: str, tmp_path: Path) -> None:
    result = _run(anon_exe, tmp_path, "batch", "status", "-h")

    assert result.returncode == 0
    assert "--watch" in result.stdout


def test_a_user_mistake_is_one_line_on_stderr_with_exit_code_1(
    anon_exe: str, tmp_path: Path
) -> None:
    result = _run(anon_exe, tmp_path, "batch", "info")

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("Error: No batch")
    assert "Traceback" not in result.stderr


def test_a_usage_mistake_exits_2(anon_exe: str, tmp_path: Path) -> None:
    result = _run(anon_exe, tmp_path, "job", "cancel", "7-3")

    assert result.returncode == 2
    assert "'7-3'" in result.stderr


def test_an_unsupported_locale_does_not_crash(anon_exe: str, tmp_path: Path) -> None:
    result = _run(anon_exe, tmp_path, "status", LC_ALL="xx_XX.UTF-8", LANG="xx_XX.UTF-8")

    assert result.returncode == 0, result.stderr
    assert "Reading settings from" in result.stdout


def test_verbose_logs_go_to_stderr_interpolated(anon_exe: str, tmp_path: Path) -> None:
    _write_batch_of_an_unreachable_server(tmp_path)

    result = _run(anon_exe, tmp_path, "-vv", "batch", "status")

    assert result.returncode == 1
    assert result.stdout == ""
    assert "DEBUG" in result.stderr and "%s" not in result.stderr
    assert result.stderr.splitlines()[-1].startswith("Error: Cannot reach http://127.0.0.1:9")


def test_a_scan_into_a_pipe_draws_no_bar_and_loads_no_rich(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not dicom")

    assert _imported(tmp_path, "select", "add", "--no-check-dicom", "*", heavy=("rich",)) == []
    assert (tmp_path / "fileselection.txt").exists()


def test_the_client_and_job_actions_load_no_wire_models_before_a_request(tmp_path: Path) -> None:
    # The models load in a thread while the first reply for jobs is on the way (model_loading);
    # importing them up front would add their ~50 ms to every command's start.
    probe = (
        "import sys, anonapi_core.client, anonapi_core.actions.jobs, anonapi_core.actions.batch\n"
        "import anonapi_core.throughput  # batch status --watch\n"
        "print(sorted(m for m in ('pydantic', 'anonapi_core.models') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], env=_env(tmp_path), capture_output=True, text=True
    )

    assert result.stdout.strip() == "[]", result.stderr


def _batch_on(server: EmbeddedServer, folder: Path, statuses: list[str]) -> list[str]:
    """A batch in `folder` of new jobs with `statuses` on `server`, with settings to reach it."""
    ids = make_jobs(server, statuses)
    (folder / "settings.yml").write_text(
        f"servers: {{local: '{server.url}'}}\nactive_server_name: local\n"
        f"user_name: {server.user_name}\nuser_token: {server.token}\n"
    )
    (folder / ".anonbatch").write_text(
        f"job_ids: [{', '.join(ids)}]\nserver: {{name: local, url: '{server.url}'}}\n"
    )
    return ids


def test_a_fresh_process_reads_a_batchs_jobs(
    anon_exe: str, tmp_path: Path, idle_server: EmbeddedServer
) -> None:
    ids = _batch_on(idle_server, tmp_path, ["DONE", "ERROR", "DONE"])

    result = _run(anon_exe, tmp_path, "batch", "status")

    assert result.returncode == 0, result.stderr
    assert [line.split()[0] for line in result.stdout.splitlines()[3:6]] == ids
    assert "DONE         2" in result.stdout and "ERROR        1" in result.stdout


def test_the_status_table_of_a_batch_builds_no_wire_models(
    tmp_path: Path, idle_server: EmbeddedServer
) -> None:
    # Importing pydantic and building a model per job was a quarter of `anon batch status`;
    # a correct reply is shown from its records (job_fields).
    _batch_on(idle_server, tmp_path, ["DONE", "ACTIVE"])

    assert _imported(tmp_path, "batch", "status", heavy=("pydantic",)) == []
    assert "pydantic" in _imported(tmp_path, "batch", "status", "--json", heavy=("pydantic",))
