"""Progress bars for long scans, drawn by rich on stderr (imported only when a scan runs)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def _no_progress(done: int, total: int) -> None:
    """Progress nobody sees: output goes to a file or a pipe."""


@contextmanager
def progress_bar(description: str) -> Iterator[Callable[[int, int], None]]:
    """Yield a `progress(done, total)` callback that drives one bar; `total` may still grow.

    Without a terminal on stderr no bar is drawn, so rich (~30 ms to import) is not loaded.
    """
    if not sys.stderr.isatty():
        yield _no_progress
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=max(total, done))

        yield update
