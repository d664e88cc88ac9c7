"""`anon settings ...` and `anon status`: the settings file, user name and token."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.cli.conftest import Anon


def test_status_lists_servers_with_the_active_one_starred(anon: Anon) -> None:
    anon("server", "add", "p01", "https://host/p01")
    anon("server", "add", "p02", "https://host/p02/")
    anon("server", "activate", "p02")

    result = anon("status")

    assert result.exit_code == 0
    assert "  p01        https://host/p01" in result.output
    assert "* p02        https://host/p02" in result.output


def test_set_username_is_saved_in_the_settings_file(anon: Anon, settings_file: Path) -> None:
    result = anon("settings", "user", "set-username", "z123")

    assert result.exit_code == 0
    assert yaml.safe_load(settings_file.read_text())["user_name"] == "z123"


def test_set_username_refuses_an_empty_name(anon: Anon) -> None:
    result = anon("settings", "user", "set-username", "  ")

    assert result.exit_code == 2
    assert "cannot be empty" in result.output


def test_set_token_reads_standard_input_and_never_prints_the_token(
    anon: Anon, settings_file: Path
) -> None:
    result = anon("settings", "user", "set-token", input="s3cret-token\n")

    assert result.exit_code == 0
    assert yaml.safe_load(settings_file.read_text())["user_token"] == "s3cret-token"
    info = anon("settings", "user", "info")
    shown = anon("settings", "show")
    for output in (result.output, info.output, shown.output):
        assert "s3cret-token" not in output
    assert "API token: set" in info.output


def test_set_token_with_empty_input_changes_nothing(anon: Anon, settings_file: Path) -> None:
    anon("settings", "user", "set-token", input="first\n")

    result = anon("settings", "user", "set-token", input="\n")

    assert result.exit_code == 1
    assert "No token given" in result.output
    assert yaml.safe_load(settings_file.read_text())["user_token"] == "first"


def test_set_token_is_not_accepted_as_an_argument(anon: Anon) -> None:
    result = anon("settings", "user", "set-token", "on-the-command-line")

    assert result.exit_code == 2


def test_get_token_saves_a_new_random_token_without_printing_it(
    anon: Anon, settings_file: Path
) -> None:
    result = anon("settings", "user", "get-token")

    token = yaml.safe_load(settings_file.read_text())["user_token"]
    assert result.exit_code == 0
    assert len(token) == 64
    assert token not in result.output


def test_set_validate_ssl_is_saved(anon: Anon, settings_file: Path) -> None:
    result = anon("settings", "set-validate-ssl", "false")

    assert result.exit_code == 0
    assert yaml.safe_load(settings_file.read_text())["validate_ssl"] is False


def test_set_validate_ssl_refuses_a_non_boolean(anon: Anon) -> None:
    result = anon("settings", "set-validate-ssl", "maybe")

    assert result.exit_code == 2
    assert "maybe" in result.output


def test_show_json_names_the_settings_file(anon: Anon, settings_file: Path) -> None:
    import json

    result = anon("settings", "show", "--json")

    assert result.exit_code == 0
    assert json.loads(result.output)["settings_file"] == str(settings_file)


def test_a_corrupt_settings_file_is_one_error_line_naming_it(
    anon: Anon, settings_file: Path
) -> None:
    settings_file.parent.mkdir(parents=True, exist_ok=True)
    settings_file.write_text("servers: [unclosed\n")

    result = anon("status")

    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert result.output.startswith("Error: ")
    assert str(settings_file) in result.output
    assert settings_file.read_text() == "servers: [unclosed\n"


def test_an_unknown_active_server_is_a_clear_error(anon: Anon, settings_file: Path) -> None:
    settings_file.parent.mkdir(parents=True, exist_ok=True)
    settings_file.write_text("servers: {a: http://x}\nactive_server_name: b\n")

    result = anon("settings", "user", "info")

    assert result.exit_code == 1
    assert "active server 'b'" in result.output
