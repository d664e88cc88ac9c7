"""The summary bar over a jobs table: how many are shown, counts per status, and progress.

The counts come first and always fit 80 columns; the bar itself is the first thing to go on a
narrow terminal (its percentage stays).
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import ProgressBar, Static

from anonapi_core.models import JobStatus
from anonapi_tui.widgets.jobs_table import STATUS_STYLES

FINISHED = (JobStatus.DONE, JobStatus.ERROR, JobStatus.INACTIVE)
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


class StatusSummary(Horizontal):
    """Counts and progress (finished / all)."""

    DEFAULT_CSS = """
    StatusSummary { height: 1; }
    StatusSummary #counts { width: 1fr; }
    StatusSummary ProgressBar { width: auto; }
    StatusSummary.-narrow Bar { display: none; }
    """

    def compose(self) -> ComposeResult:
        yield Static("loading ...", id="counts")
        # Hidden until there are counts: an indeterminate bar would only animate.
        bar = ProgressBar(total=None, show_eta=False, id="progress")
        bar.display = False
        yield bar

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

    def show_no_data(self, why: str) -> None:
        """Nothing could be loaded yet (the error line below says why)."""
        self.query_one("#counts", Static).update(Text(why, style="dim"))
