"""A job's audit timeline as the job details screen shows it: time, then what happened."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from anonapi_core.timeline import JobTimeline

# Resets and cancels stand out from the status changes the client merely saw.
KIND_STYLES = {"created": "bold", "reset": "yellow", "cancel": "yellow", "status": ""}


def timeline_view(timeline: JobTimeline) -> Group:
    """`History (UTC)` over one row per event; says so when nothing is recorded."""
    heading = Text("History (UTC, as recorded beside the batch)", style="bold")
    if not timeline.events:
        return Group(heading, Text("nothing recorded yet (a batch from before these records?)"))
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for event in timeline.events:
        grid.add_row(Text(event.when), Text(event.text, style=KIND_STYLES[event.kind]))
    return Group(heading, grid)
