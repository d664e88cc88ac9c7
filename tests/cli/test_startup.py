"""The installed `anon`: fast start-up (no heavy imports), exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "ANONAPI_SETTINGS": str(tmp_path / "settings.yml"), "LC_ALL": "C"}


def _imported(tmp_path: Path, *args: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=set(HEAVY)), *args],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_help_imports_no_heavy_package(tmp_path: Path) -> None:
    assert _imported(tmp_path, "--help") == []


def test_batch_status_imports_no_heavy_package(tmp_path: Path) -> None:
    (tmp_path / ".anonbatch").write_text(
        "job_ids: ['1']\nserver: {name: gone, url: 'http://127.0.0.1:9'}\n"
    )

    assert _imported(tmp_path, "batch", "status") == []


@pytest.fixture
def anon_exe() -> str:
    exe = shutil.which("anon", path=str(Path(sys.executable).parent))
    assert exe, "the anon console script is not installed in this environment"
    return exe


def test_no_arguments_prints_help_and_succeeds(anon_exe: str, tmp_path: Path) -> None:
    result = subprocess.run([anon_exe], env=_env(tmp_path), capture_output=True, text=True)

    assert result.returncode == 0
    assert "Commands:" in result.stdout


def test_short_help_works_on_subcommands(anon_exe: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [anon_exe, "batch", "status", "-h"], env=_env(tmp_path), capture_output=True, text=True
    )

    assert result.returncode == 0
    assert "--watch" in result.stdout


def test_a_user_mistake_is_one_line_on_stderr_with_exit_code_1(
    anon_exe: str, tmp_path: Path
) -> None:
    result = subprocess.run(
        [anon_exe, "batch", "info"],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
    )

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("Error: No batch")
    assert "Traceback" not in result.stderr


def test_a_usage_mistake_exits_2(anon_exe: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [anon_exe, "job", "cancel", "7-3"], env=_env(tmp_path), capture_output=True, text=True
    )

    assert result.returncode == 2
    assert "'7-3'" in result.stderr


def test_an_unsupported_locale_does_not_crash(anon_exe: str, tmp_path: Path) -> None:
    env = {**_env(tmp_path), "LC_ALL": "xx_XX.UTF-8", "LANG": "xx_XX.UTF-8"}

    result = subprocess.run([anon_exe, "status"], env=env, capture_output=True, text=True)

    assert result.returncode == 0, result.stderr
    assert "Reading settings from" in result.stdout


def test_verbose_logs_go_to_stderr_interpolated(anon_exe: str, tmp_path: Path) -> None:
    (tmp_path / ".anonbatch").write_text(
        "job_ids: ['1']\nserver: {name: gone, url: 'http://127.0.0.1:9'}\n"
    )

    result = subprocess.run(
        [anon_exe, "-vv", "batch", "status"],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
    )

    assert result.returncode == 1
    assert result.stdout == ""
    assert "DEBUG" in result.stderr and "%s" not in result.stderr
    assert result.stderr.splitlines()[-1].startswith("Error: Cannot reach http://127.0.0.1:9")
