"""`anon-tui` as a user starts it: the demo end to end, and a broken settings file."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "anonapi_tui.main", *args],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def svg_text(svg: str) -> str:
    """The characters of a Textual screenshot in order, spaces as spaces."""
    parts = re.findall(r"<text[^>]*>(.*?)</text>", svg)
    return html.unescape("".join(parts)).replace("\xa0", " ")


def test_demo_jobs_with_its_pacs_rows_reach_done_and_error_on_screen(
    tmp_path: Path, private_settings: Path
) -> None:
    shot = tmp_path / "demo.svg"
    result = run(["--demo", "--screenshot", str(shot)], {}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "14 jobs   DONE 13  ERROR 1" in svg_text(shot.read_text())  # the summary bar
    assert not private_settings.exists()  # the demo used its own settings file


def test_a_broken_settings_file_is_one_line_without_traceback(tmp_path: Path) -> None:
    settings = tmp_path / "settings.yml"
    settings.write_text("servers: [unclosed\n")
    result = run(
        ["--screenshot", str(tmp_path / "x.svg")], {"ANONAPI_SETTINGS": str(settings)}, tmp_path
    )
    assert result.returncode == 2
    assert result.stderr.startswith("Error: ") and "settings.yml" in result.stderr
    assert "Traceback" not in result.stderr
