"""`anon-server`'s one error policy: every failure a user can cause is one `Error:` line, exit 1."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import anonapi_server
from anonapi_server.admin import AdminError
from anonapi_server.cli import cli
from anonapi_server.config import ConfigError
from anonapi_server.errors import ServerError
from anonapi_server.shares import PathRefused
from anonapi_server.store import StoreError


def fails_with_one_line(*args: str) -> str:
    """Run `anon-server args`; assert it failed as the policy says and return the line."""
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1
    return result.output.strip()


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("server") / "home"
    assert CliRunner().invoke(cli, ["init", str(home)]).exit_code == 0
    return home


def test_every_server_refusal_has_one_root() -> None:
    for error in (AdminError, ConfigError, StoreError, PathRefused):
        assert issubclass(error, ServerError)


BUILTIN_ROOTS = {"Exception", "ValueError", "RuntimeError", "OSError", "LookupError", "TypeError"}


def test_no_public_server_exception_bypasses_the_root() -> None:
    """A new exception class in the server derives from ServerError, not straight from Python's."""
    root = Path(anonapi_server.__file__).parent
    offenders = [
        f"{path.relative_to(root)}: {node.name}"
        for path in root.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ClassDef)
        and not node.name.startswith("_")
        and node.name != "ServerError"
        and any(isinstance(base, ast.Name) and base.id in BUILTIN_ROOTS for base in node.bases)
        and not any(isinstance(base, ast.Name) and base.id == "ServerError" for base in node.bases)
    ]
    assert offenders == []


def test_init_below_a_file_names_the_path(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    line = fails_with_one_line("init", str(tmp_path / "a-file" / "home"))
    assert "a-file" in line


def test_a_broken_config_file_is_one_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    CliRunner().invoke(cli, ["init", str(home)])
    (home / "anon-server.yml").write_text("database_url: [\n")
    line = fails_with_one_line("user", "add", "x", "--home", str(home))
    assert "anon-server.yml" in line


@pytest.mark.parametrize(
    "args",
    [
        ["project", "add", "Wetenschap-Algemeen"],  # the store refuses a second one
        ["share", "add", "gone", "{home}/no-such-folder"],
        ["user", "add", "x", "--project", "Nope"],
        ["project", "add", "Y", "--user", "nobody"],
    ],
    ids=" ".join,
)
def test_refusals_of_admin_commands_are_one_line(home: Path, args: list[str]) -> None:
    fails_with_one_line(*[a.format(home=home) for a in args], "--home", str(home))


def test_the_installed_command_prints_no_traceback(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    run = subprocess.run(
        [sys.executable, "-c", "from anonapi_server.cli import cli; cli()", "init"]
        + [str(tmp_path / "a-file" / "home")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 1
    assert run.stderr.startswith("Error: ") and "Traceback" not in run.stderr
