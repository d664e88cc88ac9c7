"""`anon server ...`: the known servers, and checking them against a real embedded server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.cli.conftest import Anon


def test_add_then_list_shows_the_server(anon: Anon, settings_file: Path) -> None:
    result = anon("server", "add", "p01", "https://host/p01/")

    assert result.exit_code == 0
    assert "added p01: https://host/p01 to list" in result.output
    assert yaml.safe_load(settings_file.read_text())["servers"] == {"p01": "https://host/p01"}
    assert "  p01" in anon("server", "list").output


def test_add_does_not_silently_replace_an_existing_server(anon: Anon) -> None:
    anon("server", "add", "p01", "https://host/p01")

    refused = anon("server", "add", "p01", "https://other/p01")
    replaced = anon("server", "add", "p01", "https://other/p01", "--replace")

    assert refused.exit_code == 1
    assert "already exists" in refused.output
    assert replaced.exit_code == 0
    assert "https://other/p01" in anon("server", "list").output


def test_add_refuses_a_url_without_scheme(anon: Anon) -> None:
    result = anon("server", "add", "p01", "host/p01")

    assert result.exit_code == 1
    assert "must start with http" in result.output


def test_remove_the_active_server_leaves_none_active(anon: Anon, settings_file: Path) -> None:
    anon("server", "add", "p01", "https://host/p01")
    anon("server", "activate", "p01")

    result = anon("server", "remove", "p01")

    assert result.exit_code == 0
    assert "removed p01: https://host/p01 from list" in result.output
    assert yaml.safe_load(settings_file.read_text())["active_server_name"] is None


def test_remove_or_activate_an_unknown_server_names_the_known_ones(anon: Anon) -> None:
    anon("server", "add", "p01", "https://host/p01")

    for command in ("remove", "activate"):
        result = anon("server", command, "nope")
        assert result.exit_code == 1
        assert "Unknown server 'nope'" in result.output
        assert "p01" in result.output


@pytest.mark.parametrize(
    "command", [("status",), ("server", "list"), ("server", "status", "--all")]
)
def test_without_servers_the_output_says_so_and_how_to_add_one(
    anon: Anon, command: tuple[str, ...]
) -> None:
    result = anon(*command)

    assert result.exit_code == 0
    assert "No servers yet; add one with: anon server add NAME URL" in result.output
    assert "Available servers" not in result.output


def test_list_json(anon: Anon) -> None:
    anon("server", "add", "p01", "https://host/p01")
    anon("server", "activate", "p01")

    listed = json.loads(anon("server", "list", "--json").output)

    assert listed == [{"name": "p01", "url": "https://host/p01", "active": True}]


def test_commands_needing_a_server_say_none_is_active(anon: Anon) -> None:
    result = anon("server", "jobs")

    assert result.exit_code == 1
    assert "No active server" in result.output
    assert "anon server activate" in result.output


def test_status_of_a_running_server_is_ok(anon: Anon, connected) -> None:
    result = anon("server", "status")

    assert result.exit_code == 0
    assert "OK: local" in result.output


def test_status_of_an_unreachable_server_keeps_the_cause(anon: Anon) -> None:
    anon("server", "add", "dead", "http://127.0.0.1:9")
    anon("server", "activate", "dead")
    anon("settings", "user", "set-username", "kees")
    anon("settings", "user", "set-token", input="secret\n")

    result = anon("server", "status")

    assert result.exit_code == 1
    assert "connection refused" in result.output


def test_status_all_checks_every_server(anon: Anon, connected) -> None:
    anon("server", "add", "dead", "http://127.0.0.1:9")

    result = anon("server", "status", "--all", "--json")

    checks = {c["name"]: c for c in json.loads(result.stdout)}
    assert result.exit_code == 1
    assert checks["local"]["ok"] and checks["local"]["latency_s"] is not None
    assert not checks["dead"]["ok"] and "refused" in checks["dead"]["error"]


def test_jobs_lists_the_servers_latest_jobs(anon: Anon, connected) -> None:
    result = anon("server", "jobs")

    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == f"most recent {len(lines) - 4} jobs on local: {connected.url}:"
    assert lines[2].split() == ["id", "date", "status", "down", "proc", "user"]
