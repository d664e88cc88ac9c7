"""Helpers for core tests: run the original `anonapi` on files we wrote, and expect a loader to
refuse a broken file with one line that names it."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.original import original_python


def run_original(script: str, *args: str | Path, env: dict[str, str] | None = None) -> str:
    """Stdout of `script` run by the original's Python with `args`; the test fails if it fails."""
    result = subprocess.run(
        [str(original_python()), "-c", script, *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def refusal(
    load: Callable[[Path], object], path: Path, content: str, error: type[Exception]
) -> str:
    """Write `content` to `path` and return the message of the `error` that loading it raises."""
    path.write_text(content)
    with pytest.raises(error) as caught:
        load(path)
    return str(caught.value)
