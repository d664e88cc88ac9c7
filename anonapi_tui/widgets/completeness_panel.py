"""The completeness of a batch's jobs, as a panel: which jobs are not complete, and why."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

if TYPE_CHECKING:
    from anonapi_core.actions.completeness import Verification


def verdict_text(result: Verification) -> Text:
    """A headline of counts, then one block per job that is not complete."""
    complete = sum(r.complete for r in result.results)
    text = Text()
    text.append(
        f"{complete} of {len(result.results)} jobs complete, {len(result.mismatches)} "
        f"mismatches, {len(result.unfinished)} not finished\n",
        style="bold",
    )
    for item in result.results:
        if item.complete:
            continue
        style = "bold red" if item.mismatch else "cyan"
        text.append(f"\njob {item.job_id} ", style="bold")
        text.append(item.status, style=style)
        counts = (
            f"  expected {item.expected.count if item.expected.count is not None else '?'}, "
            f"down {item.downloaded or 0}, proc {item.processed or 0}, "
            f"quarantined {item.quarantined or 0}, skipped {item.skipped or 0}"
        )
        text.append(counts + "\n")
        text.append(f"  {item.summary()}\n")
    for note in result.notes:
        text.append(f"\nnote: {note}", style="dim")
    return text


class CompletenessPanel(ModalScreen[None]):
    """Shown after `v`; the jobs it lists are marked in the table behind it."""

    BINDINGS = [Binding("escape,q", "dismiss", "Close", id="completeness.close")]

    def __init__(self, result: Verification) -> None:
        super().__init__()
        self.result = result

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static("Completeness of the jobs", classes="dialog-title")
            with VerticalScroll(id="completeness"):
                yield Static(verdict_text(self.result), id="completeness-text")
            yield Static("Jobs not complete are marked: r resets them. esc closes.", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#completeness", VerticalScroll).focus()
