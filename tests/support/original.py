"""The original `anonapi==2.1.2` from PyPI, in a virtual environment of its own.

It needs pydicom < 3 while we need pydicom >= 3, so it cannot share our environment, and its
`anon` console script would shadow ours. Compatibility tests run it from `.cache/original-anonapi`,
created on first use (and by `.ci/run` up front): a fresh clone needs nothing installed by hand.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

from filelock import FileLock

REPO_ROOT = Path(__file__).resolve().parents[2]
ORIGINAL_VERSION = "2.1.2"
VENV_DIR = Path(os.environ.get("ANONAPI_ORIGINAL_VENV", REPO_ROOT / ".cache" / "original-anonapi"))


def _bin_dir(venv_dir: Path) -> Path:
    return venv_dir / ("Scripts" if sys.platform == "win32" else "bin")


def original_python() -> Path:
    """Path to a Python that has the original anonapi installed, creating the venv if needed."""
    python = _bin_dir(VENV_DIR) / ("python.exe" if sys.platform == "win32" else "python")
    marker = VENV_DIR / f".anonapi-{ORIGINAL_VERSION}"
    VENV_DIR.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(VENV_DIR.parent / "original-anonapi.lock")):
        if not marker.exists():
            venv.EnvBuilder(with_pip=True, clear=True).create(VENV_DIR)
            subprocess.run(
                [str(python), "-m", "pip", "install", "-q", f"anonapi=={ORIGINAL_VERSION}"],
                check=True,
            )
            marker.touch()
    return python


def original_anon() -> list[str]:
    """Command prefix that runs the original `anon` CLI."""
    return [str(original_python()), "-c", "from anonapi.cli.entrypoint import cli; cli()"]
