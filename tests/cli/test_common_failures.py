"""Failures every command shares: a broken settings file, a missing batch, mapping or selection,
and the editor commands (the OS launcher is replaced: tests must not open windows)."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from tests.cli.conftest import Anon

SETTINGS_COMMANDS = [
    ["status"],
    ["server", "list"],
    ["server", "jobs"],
    ["server", "add", "x", "http://x"],
    ["settings", "show"],
    ["settings", "user", "info"],
    ["settings", "user", "get-token"],
    ["create", "show-defaults"],
    ["batch", "init"],
    ["map", "init"],
    ["job", "list", "1"],
]


@pytest.mark.parametrize("command", SETTINGS_COMMANDS, ids=" ".join)
def test_a_broken_settings_file_fails_every_command_with_one_line(
    anon: Anon, settings_file: Path, command: list[str]
) -> None:
    settings_file.parent.mkdir(parents=True, exist_ok=True)
    settings_file.write_text("user_name: [a\n")

    result = anon(*command)

    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1
    assert str(settings_file) in result.output
    assert settings_file.read_text() == "user_name: [a\n"


@pytest.mark.parametrize(
    "command",
    [
        ["add", "1"],
        ["remove", "1"],
        ["reset", "--yes"],
        ["cancel", "--yes"],
        ["cancel-active", "--yes"],
    ],
    ids=" ".join,
)
def test_batch_commands_without_a_batch_fail(anon: Anon, command: list[str]) -> None:
    result = anon("batch", *command)

    assert result.exit_code == 1
    assert "No batch defined" in result.output


@pytest.mark.parametrize("command", [["delete", "--yes"], ["edit"], ["add-accession-numbers", "1"]])
def test_map_commands_without_a_mapping_fail(anon: Anon, command: list[str]) -> None:
    result = anon("map", *command)

    assert result.exit_code == 1
    assert "anon map init" in result.output


def test_select_delete_without_a_selection_fails(anon: Anon) -> None:
    result = anon("select", "delete", "--yes")

    assert result.exit_code == 1
    assert "There is no file selection" in result.output


@pytest.fixture
def launched(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    opened: list[str] = []

    def fake_launch(url: str, wait: bool = False, locate: bool = False) -> int:
        opened.append(url)
        return 0

    monkeypatch.setattr(click, "launch", fake_launch)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)
    return opened


def test_edit_commands_open_their_file(
    anon: Anon, workdir: Path, settings_file: Path, launched: list[str]
) -> None:
    anon("map", "init")
    (workdir / "fileselection.txt").write_text("description: d\nid: i\nselected_paths: []\n")

    results = [anon(*c) for c in (["map", "edit"], ["select", "edit"], ["settings", "edit"])]

    assert [r.exit_code for r in results] == [0, 0, 0]
    assert launched == [
        str(workdir / "anon_mapping.csv"),
        str(workdir / "fileselection.txt"),
        str(settings_file),
    ]


@pytest.mark.parametrize("variable", ["VISUAL", "EDITOR"])
def test_edit_commands_use_the_users_editor_before_the_desktop(
    anon: Anon,
    workdir: Path,
    launched: list[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    variable: str,
) -> None:
    """A real editor process: a script that records which file it was given."""
    import sys

    record = tmp_path / "edited.txt"
    script = tmp_path / "editor.py"
    script.write_text(f"import sys; open({str(record)!r}, 'a').write(sys.argv[1] + '\\n')\n")
    monkeypatch.setenv(variable, f'"{sys.executable}" "{script}"')
    anon("map", "init")

    result = anon("map", "edit")

    assert result.exit_code == 0, result.output
    assert launched == []
    assert record.read_text().splitlines() == [str(workdir / "anon_mapping.csv")]


def test_an_editor_that_fails_is_one_line(
    anon: Anon, monkeypatch: pytest.MonkeyPatch, launched: list[str]
) -> None:
    monkeypatch.setenv("EDITOR", "no-such-editor-anywhere")

    result = anon("settings", "edit")

    assert result.exit_code == 1
    assert "Could not run the editor 'no-such-editor-anywhere'" in result.output


def test_edit_without_an_editor_says_so(
    anon: Anon, monkeypatch: pytest.MonkeyPatch, settings_file: Path
) -> None:
    monkeypatch.setattr(click, "launch", lambda *a, **k: 1)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)

    result = anon("settings", "edit")

    assert result.exit_code == 1
    assert f"Could not open an editor for {settings_file}" in result.output


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (["server", "remove", "nosuch"], "nosuch"),
        (["server", "activate", "nosuch"], "nosuch"),
        (["select", "status"], "There is no file selection"),
        (["select", "edit"], "There is no file selection"),
        (["batch", "delete", "--yes"], "No batch defined"),
        (["batch", "info"], "No batch defined"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else "",
)
def test_commands_on_something_that_does_not_exist_fail_with_one_line(
    anon: Anon, command: list[str], message: str
) -> None:
    result = anon(*command)

    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_output_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """`anon ... | head`: the reader is gone before anon writes; no "Error: Broken pipe"."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "ANONAPI_SETTINGS": str(tmp_path / "settings.yml")}
    process = subprocess.Popen(
        [sys.executable, "-c", "from anonapi_cli.main import cli; cli()", "status"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    process.stdout.close()  # as `head` does once it has its lines
    stderr = process.stderr.read().decode()
    process.wait(timeout=60)
    assert "Broken pipe" not in stderr and "Traceback" not in stderr
    assert process.returncode in (0, 1)


def test_a_folder_where_the_settings_file_should_be_is_one_line(
    anon: Anon, settings_file: Path
) -> None:
    settings_file.mkdir(parents=True)

    result = anon("status")

    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1
    assert settings_file.name in result.output
