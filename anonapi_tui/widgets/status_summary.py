"""The summary over a jobs table: counts per status and progress, then speeds, ETA and stalls.

The counts come first and always fit 80 columns; the bar itself is the first thing to go on a
narrow terminal (its percentage stays). Speeds get a line of their own below: on one line with
the counts they would push the counts off an 80-column terminal.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import ProgressBar, Static

from anonapi_core.models import JobStatus
from anonapi_core.throughput import FINISHED, Progress, progress_parts, stalled_text
from anonapi_tui.widgets.jobs_table import STALLED, STATUS_STYLES

ORDER = (JobStatus.ACTIVE, JobStatus.UPLOADED, JobStatus.DONE, JobStatus.ERROR, JobStatus.INACTIVE)


NARROW = 110
"""Below this width the summary drops the bar and keeps its percentage."""


def counts_text(counts: Mapping[str, int], not_found: int = 0) -> Text:
    """`2,000 jobs  ACTIVE 3  DONE 8  ERROR 1`, statuses in lifecycle order, unknown ones after."""
    total = sum(counts.values())
    text = Text(f"{total:,} jobs ", style="bold")
    known = [s for s in ORDER if counts.get(s)]
    others = sorted(s for s in counts if s not in ORDER and counts[s])
    for status in [*known, *others]:
        text.append("  ")
        text.append(status, style=STATUS_STYLES.get(status, ""))
        text.append(f" {counts[status]:,}")
    if not_found:
        text.append("  NOT FOUND", style="bold red")
        text.append(f" {not_found:,}")
    return text


def progress_text(progress: Progress) -> Text:
    """`12 jobs/min  3.4 files/s  ETA 14 min  2 stalled (...)`, the stall count stand out."""
    text = Text()
    stalled = stalled_text(progress) if progress.stalled else None
    for part in progress_parts(progress):
        if text:
            text.append("  ")
        text.append(part, style=STATUS_STYLES[STALLED] if part == stalled else "")
    return text


class StatusSummary(Vertical):
    """Counts and progress (finished / all); below them speeds, ETA and stalled jobs."""

    DEFAULT_CSS = """
    StatusSummary { height: auto; }
    StatusSummary #count-row { height: 1; }
    StatusSummary #counts { width: 1fr; }
    StatusSummary ProgressBar { width: auto; }
    StatusSummary.-narrow Bar { display: none; }
    StatusSummary #speeds { height: 1; }
    """

    def compose(self) -> ComposeResult:
        with Horizontal(id="count-row"):
            yield Static("loading ...", id="counts")
            # Hidden until there are counts: an indeterminate bar would only animate.
            bar = ProgressBar(total=None, show_eta=False, id="progress")
            bar.display = False
            yield bar
        speeds = Static("", id="speeds")
        speeds.display = False  # until a second poll measured something
        yield speeds

    def on_resize(self) -> None:
        self.set_class(self.size.width < NARROW, "-narrow")

    def show_counts(self, counts: Mapping[str, int], not_found: int = 0) -> None:
        """Show the counts and move the progress bar to the share of finished jobs."""
        self.query_one("#counts", Static).update(counts_text(counts, not_found))
        total = sum(counts.values())
        finished = sum(counts.get(s, 0) for s in FINISHED)
        bar = self.query_one(ProgressBar)
        bar.display = True
        bar.update(total=max(total, 1), progress=finished)

    def show_progress(self, progress: Progress) -> None:
        """Speeds, ETA and the stalled count of the latest poll; nothing after the first."""
        text = progress_text(progress)
        speeds = self.query_one("#speeds", Static)
        speeds.display = bool(text)
        speeds.update(text)

    def show_no_data(self, why: str) -> None:
        """Nothing could be loaded yet (the error line below says why)."""
        self.query_one("#counts", Static).update(Text(why, style="dim"))
