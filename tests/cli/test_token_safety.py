"""The token goes only where the user sent it, and what `server status` says about tokens.

A recording server on loopback stands for a stranger's server: the tests prove no request (and so
no token) reaches it, not just that a message is printed.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from anonapi_core.credentials import is_loopback, plain_http_warning
from anonapi_core.settings import load_settings
from anonapi_server.testing import EmbeddedServer
from tests.cli.conftest import Anon, connect
from tests.support.recorder import recording_server


def test_a_batch_naming_a_server_not_in_the_settings_gets_no_token(
    anon: Anon, idle: EmbeddedServer, workdir: Path
) -> None:
    with recording_server() as stranger:
        (workdir / ".anonbatch").write_text(
            f"job_ids: ['1', '2']\nserver: {{name: p01, url: '{stranger.url}'}}\n"
        )
        results = [anon("batch", *c) for c in (["status"], ["reset", "--yes"], ["cancel", "--yes"])]

    assert stranger.requests == []
    for result in results:
        assert result.exit_code == 1, result.output
        assert f"Not sending your token to {stranger.url}" in result.output
        assert "anon server add NAME" in result.output


def test_a_server_in_the_settings_is_matched_by_url_not_name(anon: Anon, workdir: Path) -> None:
    with recording_server() as known:
        known.body = {
            "1": {
                **dict.fromkeys(["error", "description", "files_downloaded", "files_processed"]),
                "job_id": 1,
                "date": "2024-01-01T10:00:00",
                "user_name": "u",
                "status": "DONE",
                "project_name": "P",
                "priority": 0,
            }
        }
        anon("server", "add", "mine", known.url + "/")
        anon("server", "activate", "mine")
        anon("settings", "user", "set-username", "u")
        anon("settings", "user", "set-token", input="secret\n")
        (workdir / ".anonbatch").write_text(
            f"job_ids: ['1']\nserver: {{name: other-name, url: '{known.url}'}}\n"
        )
        result = anon("batch", "status")

    assert result.exit_code == 0, result.output
    assert known.requests and known.requests[0].headers["authorization"] == "Token secret"


def test_no_token_says_how_to_set_one_and_sends_nothing(anon: Anon) -> None:
    with recording_server() as server:
        anon("server", "add", "s", server.url)
        anon("server", "activate", "s")
        anon("settings", "user", "set-username", "kees")
        status = anon("server", "status")
        jobs = anon("server", "jobs")

    assert server.requests == []
    message = "no token set for user kees; run `anon settings user set-token`"
    assert (status.exit_code, jobs.exit_code) == (1, 1)
    assert message in status.output and message in jobs.output
    assert "Illegal header" not in status.output + jobs.output


def test_a_refused_token_is_not_ok(anon: Anon, idle: EmbeddedServer) -> None:
    connect(anon, idle)
    anon("settings", "user", "set-token", input="not-the-real-token\n")

    result = anon("server", "status")

    assert result.exit_code == 1
    assert f"is online, but it does not accept user {idle.user_name}'s token" in result.output
    assert "OK" not in result.output


def test_an_accepted_token_is_ok(anon: Anon, idle: EmbeddedServer) -> None:
    connect(anon, idle)

    result = anon("server", "status")

    assert result.exit_code == 0
    assert result.output.startswith("OK: ")


@pytest.mark.parametrize(
    ("url", "loopback", "warned"),
    [
        ("http://127.0.0.1:5000", True, False),
        ("http://localhost/p01", True, False),
        ("http://[::1]:80", True, False),
        ("https://anon.example.org/p01", False, False),
        ("http://anon.example.org/p01", False, True),
        ("HTTP://10.0.0.7", False, True),
    ],
)
def test_plain_http_to_another_machine_is_warned_about(url, loopback, warned):
    assert is_loopback(url) is loopback
    assert (plain_http_warning(url) is not None) is warned


def test_the_warning_reaches_the_user_once(
    anon: Anon, settings_file: Path, monkeypatch, caplog
) -> None:
    """A plain-http server elsewhere: the CLI shows `Warning: ...` before trying it."""
    anon("server", "add", "far", "http://192.0.2.1:9")  # TEST-NET: never routed
    anon("server", "activate", "far")
    anon("settings", "user", "set-username", "kees")
    anon("settings", "user", "set-token", input="secret\n")
    settings = load_settings(settings_file)
    settings.timeout = 0.2
    from anonapi_core.settings import save_settings

    save_settings(settings)
    with caplog.at_level(logging.WARNING, logger="anonapi_core"):
        anon("server", "status")
        anon("server", "status")
    warnings = [r.getMessage() for r in caplog.records if "plain http" in r.getMessage()]
    assert warnings == [
        "http://192.0.2.1:9 uses plain http: your token and job details cross the network "
        "unencrypted; ask for its https address"
    ]


def test_get_token_saves_a_new_token_and_says_what_comes_next_without_showing_it(
    anon: Anon, settings_file: Path
) -> None:
    anon("settings", "user", "set-username", "kees")

    result = anon("settings", "user", "get-token")
    token = load_settings(settings_file).user_token
    shown = anon("settings", "user", "get-token", "--show")
    new_token = load_settings(settings_file).user_token

    assert result.exit_code == 0 and shown.exit_code == 0
    assert len(token) == 64 and token.isalnum()
    assert token not in result.output
    assert "administrator" in result.output
    assert "anon-server user add kees --token" in result.output
    assert new_token != token
    assert f"anon-server user add kees --token {new_token}" in shown.output
