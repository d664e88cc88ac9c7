"""The `anon-server` command line: init, admin commands, run; errors as one line, no traceback."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from anonapi_server.cli import cli
from anonapi_server.config import ServerHome
from anonapi_server.store import Store


def anon_server(*args: str, env: dict | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def home(tmp_path: Path, database_url: str) -> Path:
    """A home on SQLite (the default) and one on PostgreSQL: admin commands work on both."""
    home = tmp_path / "home"
    postgres = [] if database_url.startswith("sqlite") else ["--database", database_url]
    assert anon_server("init", str(home), *postgres).exit_code == 0
    return home


def open_store(home: Path) -> Store:
    return Store(ServerHome(home).load_config().database_url)


@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_help_works_with_both_flags(flag: str):
    result = anon_server(flag)
    assert result.exit_code == 0
    assert "user" in result.output and "run" in result.output


def test_init_creates_config_database_share_and_default_project(home: Path):
    store = open_store(home)
    try:
        assert (home / "anon-server.yml").is_file()
        assert (home / "shares" / "data").is_dir()
        assert [(s.host, s.name) for s in store.shares()] == [("localhost", "data")]
        assert store.project_names() == ["Wetenschap-Algemeen"]
    finally:
        store.close()


def test_init_of_an_existing_home_changes_nothing(home: Path):
    result = anon_server("init", str(home))
    assert result.exit_code == 0
    assert "already is a server home" in result.output


def test_user_add_prints_a_generated_token_that_the_store_accepts(home: Path):
    result = anon_server("user", "add", "alice", "--home", str(home))
    token = result.output.strip()
    assert result.exit_code == 0 and len(token) >= 32
    store = open_store(home)
    try:
        assert store.check_token("alice", token)
        assert store.user_in_project("alice", "Wetenschap-Algemeen")
    finally:
        store.close()


def test_user_add_takes_the_home_from_the_environment(home: Path):
    result = anon_server(
        "user", "add", "bob", "--token", "tok", env={"ANON_SERVER_HOME": str(home)}
    )
    assert result.output.strip() == "tok"


def test_user_add_for_an_unknown_project_is_one_clear_error(home: Path):
    result = anon_server("user", "add", "carol", "--project", "Nope", "--home", str(home))
    assert result.exit_code == 1
    assert result.output.strip() == "Error: Unknown project(s): Nope"


def test_project_add_connects_the_users_given(home: Path):
    anon_server("user", "add", "dave", "--home", str(home))
    result = anon_server("project", "add", "Trial", "--user", "dave", "--home", str(home))
    assert result.exit_code == 0
    store = open_store(home)
    try:
        assert store.user_in_project("dave", "Trial")
    finally:
        store.close()


def test_project_add_refuses_an_unknown_option(home: Path):
    result = anon_server("project", "add", "X", "--option", "no-such-option", "--home", str(home))
    assert result.exit_code == 1
    assert "Unknown option(s) no-such-option" in result.output


def test_project_add_twice_is_refused(home: Path):
    result = anon_server("project", "add", "Wetenschap-Algemeen", "--home", str(home))
    assert result.exit_code == 1
    assert "already exists" in result.output


def test_share_add_serves_a_folder_and_refuses_a_missing_one(home: Path, tmp_path: Path):
    (tmp_path / "scans").mkdir()
    ok = anon_server("share", "add", "scans", str(tmp_path / "scans"), "--home", str(home))
    assert ok.exit_code == 0 and ok.output.startswith("\\\\localhost\\scans is ")
    bad = anon_server("share", "add", "gone", str(tmp_path / "gone"), "--home", str(home))
    assert bad.exit_code == 1 and "is not a folder" in bad.output


def test_opt_out_add_puts_the_patient_on_the_list(home: Path):
    assert anon_server("opt-out", "add", "P42", "--home", str(home)).exit_code == 0
    store = open_store(home)
    try:
        assert store.opted_out(["P42", "P43"]) == {"P42"}
    finally:
        store.close()


def test_commands_on_a_folder_that_is_not_a_home_say_how_to_make_one(tmp_path: Path):
    result = anon_server("user", "add", "x", "--home", str(tmp_path))
    assert result.exit_code == 1
    assert "is not a server home" in result.output and "anon-server init" in result.output


def test_commands_without_any_home_say_how_to_give_one():
    result = anon_server("opt-out", "add", "P1", env={"ANON_SERVER_HOME": ""})
    assert result.exit_code == 1
    assert "--home" in result.output


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_run_serves_the_api_and_sees_users_added_while_running(home: Path):
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from anonapi_server.cli import cli; cli()",
            "run",
            "--home",
            str(home),
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                assert httpx.get(url + "/").status_code == 404
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.1)
        token = anon_server("user", "add", "late", "--home", str(home)).output.strip()
        reply = httpx.request(
            "GET",
            url + "/get_jobs",
            data={"user_name": "late"},
            headers={"Authorization": f"Token {token}"},
        )
        assert reply.status_code == 200
    finally:
        process.terminate()
        process.wait(20)


def test_user_add_again_replaces_the_token(home: Path):
    anon_server("user", "add", "erin", "--token", "first", "--home", str(home))
    result = anon_server("user", "add", "erin", "--token", "second", "--home", str(home))
    assert result.exit_code == 0
    store = open_store(home)
    try:
        assert store.check_token("erin", "second") and not store.check_token("erin", "first")
    finally:
        store.close()


def test_init_on_an_unreachable_database_is_one_line_and_leaves_no_home(tmp_path: Path):
    home = tmp_path / "home"
    url = "postgresql://anon:secret@127.0.0.1:1/nothing"
    result = anon_server("init", str(home), "--database", url)
    assert result.exit_code == 1
    assert result.output.startswith("Error: Database of") and len(result.output.splitlines()) == 1
    assert "secret" not in result.output
    assert not (home / "anon-server.yml").exists()


def test_init_refuses_a_database_that_is_not_postgresql(tmp_path: Path):
    result = anon_server("init", str(tmp_path / "h"), "--database", "mysql://x@y/z")
    assert result.exit_code == 1 and "postgresql://" in result.output
