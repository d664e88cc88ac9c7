"""The programs we are measured against, each in a virtual environment of its own under `bench/`.

The original `anonapi==2.1.2` needs pydicom < 3 and ships its own `anon` console script, so it
cannot share the project's environment; dicognito and dicom-anonymizer get a second one so their
pins never disturb ours. Both are created on first use from PyPI (a fresh clone needs nothing by
hand) and recognised afterwards by a marker file naming exactly what was installed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from dataclasses import dataclass
from pathlib import Path

from common import Timing, run_command
from filelock import FileLock

BENCH_DIR = Path(__file__).resolve().parent
LOCK_DIR = BENCH_DIR / ".data"


@dataclass(frozen=True)
class Anchor:
    """A virtual environment holding a fixed set of packages."""

    name: str
    requirements: tuple[str, ...]

    @property
    def venv_dir(self) -> Path:
        return BENCH_DIR / f".venv-{self.name}"

    @property
    def python(self) -> Path:
        if sys.platform == "win32":
            return self.venv_dir / "Scripts" / "python.exe"
        return self.venv_dir / "bin" / "python"

    def ensure(self) -> Path:
        """Create the environment unless its marker says it already holds `requirements`."""
        marker = self.venv_dir / ".bench-installed"
        wanted = "\n".join(self.requirements)
        LOCK_DIR.mkdir(parents=True, exist_ok=True)
        with FileLock(str(LOCK_DIR / f"venv-{self.name}.lock")):
            if marker.exists() and marker.read_text() == wanted:
                return self.python
            print(
                f"[anchors] creating {self.venv_dir.name}: {' '.join(self.requirements)}",
                flush=True,
            )
            venv.EnvBuilder(with_pip=True, clear=True).create(self.venv_dir)
            subprocess.run(
                [str(self.python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
                + list(self.requirements),
                check=True,
            )
            marker.write_text(wanted)
        return self.python

    def version(self, package: str) -> str:
        """Installed version of `package` in this environment (for the tables' captions)."""
        out = subprocess.run(
            [
                str(self.ensure()),
                "-c",
                f"from importlib.metadata import version; print(version({package!r}))",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip()


ORIGINAL = Anchor("original", ("anonapi==2.1.2",))
DEID = Anchor("deid", ("dicognito", "dicom-anonymizer"))


def original_anon() -> list[str]:
    """Command prefix that runs the original `anon` CLI from its environment."""
    return [str(ORIGINAL.ensure()), "-c", "from anonapi.cli.entrypoint import cli; cli()"]


def anchor_task(anchor: Anchor, task: str, *args: object, runs: int) -> tuple[Timing, dict]:
    """Run one of `anchor_tasks.py`'s self-timed tasks in `anchor`'s environment."""
    argv = [str(anchor.ensure()), str(BENCH_DIR / "anchor_tasks.py"), task]
    proc = run_command(argv + [str(a) for a in args] + [str(runs)])
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return Timing(tuple(result.pop("runs"))), result


def main() -> None:
    """Create every anchor environment up front, so that no timing ever includes an install."""
    for anchor in (ORIGINAL, DEID):
        anchor.ensure()
        print(f"[anchors] {anchor.venv_dir.name} ready")


if __name__ == "__main__":
    main()
