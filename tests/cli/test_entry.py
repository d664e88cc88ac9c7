"""The `anon` console script: the root help without click, identical to click's, at every width."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from anonapi_cli.entry import help_width
from anonapi_cli.root_help import TEXTS, WIDTHS, render

ENTRY = """
import sys
from anonapi_cli.entry import main
sys.argv[0] = "anon"  # as the console script names itself
try:
    main()
finally:
    print("click" in sys.modules)
"""


@pytest.mark.parametrize("width", WIDTHS)
def test_the_stored_help_is_what_click_prints(width: int) -> None:
    assert TEXTS[width] == render(width), "run `python -m anonapi_cli.root_help` to regenerate"


@pytest.mark.parametrize(
    ("columns", "width"), [("80", 78), ("100", 98), ("250", 98), ("30", 50), ("", 78), ("x", 78)]
)
def test_help_width_follows_clicks_rule(
    columns: str, width: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    monkeypatch.setattr(os, "get_terminal_size", lambda fd: os.terminal_size((80, 24)))
    assert help_width() == width


def anon(*args: str, columns: str) -> tuple[str, bool]:
    """Run the console script's `main`: what it printed, and whether it imported click."""
    env = {**os.environ, "COLUMNS": columns}
    run = subprocess.run(
        [sys.executable, "-c", ENTRY, *args], env=env, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    *help_lines, imported_click = run.stdout.splitlines(True)
    return "".join(help_lines), imported_click.strip() == "True"


@pytest.mark.parametrize("args", [["--help"], ["-h"], []], ids=repr)
def test_root_help_at_a_stored_width_needs_no_click(args: list[str]) -> None:
    printed, imported_click = anon(*args, columns="80")
    assert printed == render(78)
    assert not imported_click


def test_root_help_at_another_width_is_clicks_own() -> None:
    printed, imported_click = anon("--help", columns="61")
    assert printed == render(59)
    assert imported_click
