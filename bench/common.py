"""What every benchmark script shares: timing, targets, the Markdown table, machine, data folder.

A figure is always the median of several runs with its min and max, because the machine is shared
with other work and a single run says little. Ratios are ours / anchor in time, so "at most 0.3x"
reads directly off the table and "5x faster" is a ratio of at most 0.2.
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
DATA_DIR = BENCH_DIR / ".data"
FULL_RUNS = 5
QUICK_RUNS = 2


@dataclass(frozen=True)
class Timing:
    """Wall-clock seconds of repeated runs of one thing."""

    runs: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def min(self) -> float:
        return min(self.runs)

    @property
    def max(self) -> float:
        return max(self.runs)

    def cell(self) -> str:
        return f"{fmt_seconds(self.median)} ({fmt_seconds(self.min)}–{fmt_seconds(self.max)})"


def fmt_seconds(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms" if seconds >= 0.01 else f"{seconds * 1000:.1f} ms"
    return f"{seconds:.2f} s"


def measure(
    fn: Callable[[], object],
    runs: int,
    *,
    setup: Callable[[], object] | None = None,
    warmup: int = 0,
) -> Timing:
    """Time `fn` `runs` times after `warmup` untimed calls; `setup` runs untimed before each."""
    times = []
    for i in range(warmup + runs):
        if setup is not None:
            setup()
        start = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - start
        if i >= warmup:
            times.append(elapsed)
    return Timing(tuple(times))


class CommandFailed(RuntimeError):
    """A timed command exited with an unexpected code: its figures would mean nothing."""


def run_command(
    argv: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    ok_codes: Sequence[int] = (0,),
) -> subprocess.CompletedProcess[str]:
    """Run a command to completion; `CommandFailed` (with its output) on an unexpected exit code."""
    proc = subprocess.run(
        list(argv),
        cwd=cwd,
        env=dict(env) if env is not None else None,
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
    )
    if proc.returncode not in ok_codes:
        tail = (proc.stdout[-1500:] + "\n" + proc.stderr[-1500:]).strip()
        raise CommandFailed(f"{' '.join(map(str, argv))} exited {proc.returncode}:\n{tail}")
    return proc


def measure_command(
    argv: Sequence[str],
    runs: int,
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    ok_codes: Sequence[int] = (0,),
    setup: Callable[[], object] | None = None,
    warmup: int = 1,
) -> Timing:
    """Time a whole process (start-up included) the way a user waits for it."""
    return measure(
        lambda: run_command(argv, cwd=cwd, env=env, stdin=stdin, ok_codes=ok_codes),
        runs,
        setup=setup,
        warmup=warmup,
    )


@dataclass(frozen=True)
class Target:
    """A goal from the issue, and how to tell from the figures whether it was met."""

    text: str
    check: Callable[[Timing, Timing | None], bool]


def at_most_ratio(ratio: float) -> Target:
    return Target(f"≤ {ratio:g}x", lambda ours, anchor: ours.median <= ratio * anchor.median)


def at_least_faster(factor: float) -> Target:
    return Target(
        f"≥ {factor:g}x faster", lambda ours, anchor: anchor.median >= factor * ours.median
    )


def at_most_seconds(seconds: float) -> Target:
    return Target(f"≤ {fmt_seconds(seconds)}", lambda ours, _anchor: ours.median <= seconds)


def faster_than_anchor_and_at_most(seconds: float) -> Target:
    return Target(
        f"≤ {fmt_seconds(seconds)} and faster",
        lambda ours, anchor: (
            ours.median <= seconds and anchor is not None and ours.median < anchor.median
        ),
    )


def at_least_rate(items: int, rate: float, unit: str) -> Target:
    """`items` processed per run at `rate` per second or more."""
    return Target(f"≥ {rate:,.0f} {unit}/s", lambda ours, _anchor: items / ours.median >= rate)


def rate_note(items: int, timing: Timing, unit: str) -> str:
    return f"{items / timing.median:,.0f} {unit}/s"


@dataclass
class Row:
    """One line of a scenario's table; `ours` is a reason when our side cannot be measured."""

    case: str
    ours: Timing | str
    anchor: Timing | str | None = None
    anchor_name: str = ""
    target: Target | None = None
    note: str = ""

    def cells(self) -> list[str]:
        ours = (
            self.ours.cell() if isinstance(self.ours, Timing) else f"**not measured**: {self.ours}"
        )
        if isinstance(self.anchor, Timing):
            anchor = (
                f"{self.anchor_name}: {self.anchor.cell()}"
                if self.anchor_name
                else self.anchor.cell()
            )
        elif isinstance(self.anchor, str):
            anchor = f"{self.anchor_name}: not measured: {self.anchor}"
        else:
            anchor = "—"
        both = isinstance(self.ours, Timing) and isinstance(self.anchor, Timing)
        ratio = "—"
        if both:
            r = self.ours.median / self.anchor.median
            ratio = f"{r:.2f}x ({1 / r:.1f}x faster)" if r < 1 else f"{r:.2f}x (slower)"
        return [
            self.case,
            ours,
            anchor,
            ratio,
            self.target.text if self.target else "—",
            self.verdict(),
            self.note,
        ]

    def verdict(self) -> str:
        if self.target is None:
            return "—"
        if not isinstance(self.ours, Timing):
            return "NOT MEASURED"
        anchor = self.anchor if isinstance(self.anchor, Timing) else None
        try:
            return "met" if self.target.check(self.ours, anchor) else "**NOT MET**"
        except (AttributeError, TypeError):
            return "NOT MEASURED"


HEADER = [
    "case",
    "ours: median (min–max)",
    "anchor: median (min–max)",
    "ours/anchor",
    "target",
    "met",
    "note",
]


@dataclass
class Report:
    """A scenario's Markdown section: heading, what was measured, the table, notes."""

    title: str
    setup: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def render(self) -> str:
        lines = [f"## {self.title}", "", self.setup, ""]
        lines.append("| " + " | ".join(HEADER) + " |")
        lines.append("|" + "---|" * len(HEADER))
        for row in self.rows:
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in row.cells()) + " |")
        if self.notes:
            lines.append("")
            lines.extend(f"- {n}" for n in self.notes)
        return "\n".join(lines) + "\n"


def parse_args(
    description: str, options: Callable[[argparse.ArgumentParser], object] | None = None
) -> argparse.Namespace:
    """`--quick`, and whatever `options` adds (a scenario's own switches)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="small sizes and 2 runs: a smoke test")
    if options is not None:
        options(parser)
    return parser.parse_args()


def runs_for(quick: bool) -> int:
    return QUICK_RUNS if quick else FULL_RUNS


def data_dir(name: str, quick: bool) -> Path:
    """Where a scenario keeps its generated data (git-ignored); quick and full sizes never mix."""
    path = DATA_DIR / ("quick" if quick else "full") / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def bin_path(venv_python: Path, script: str) -> Path:
    """A console script installed next to a venv's Python."""
    name = f"{script}.exe" if sys.platform == "win32" else script
    return venv_python.parent / name


def ours_anon() -> list[str]:
    """Our `anon` console script from the environment running the bench, its modules compiled.

    pip compiles a package's modules when it installs it, as it did for the original; an editable
    install under PYTHONDONTWRITEBYTECODE (CI, this machine) never would, and every run would
    compile our modules from source. Compiling them once here times what users run.
    """
    _compile_our_packages()
    return [str(bin_path(Path(sys.executable), "anon"))]


@functools.cache
def _compile_our_packages() -> None:
    import compileall

    for package in ("anonapi_core", "anonapi_cli"):
        compileall.compile_dir(BENCH_DIR.parent / package, quiet=1)


def clean_env(**overrides: str) -> dict[str, str]:
    """The current environment minus anything that would make a child process read our settings."""
    env = {k: v for k, v in os.environ.items() if k not in {"ANONAPI_SETTINGS", "PYTHONPATH"}}
    env.update(overrides)
    return env


def machine() -> str:
    """One line naming the machine, for the README and the results file."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return (
        f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
