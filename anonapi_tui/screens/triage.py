"""`t`: the failed jobs of a jobs screen grouped by what went wrong, largest group first.

Grouping is `anonapi_core.triage` on the jobs the screen already holds (no extra fetch). The
screen answers with what the user chose for one group: open it (the table shows only its jobs),
reset it or cancel it (the jobs screen asks first, naming the count, and runs the action).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Static

from anonapi_core.triage import ErrorGroup
from anonapi_tui.bindings import bindings
from anonapi_tui.screens.base import is_read_only
from anonapi_tui.widgets.command_table import CommandTable

Choice = Literal["open", "reset", "cancel"]


@dataclass(frozen=True)
class GroupChoice:
    """What to do with which group."""

    action: Choice
    group: ErrorGroup


class TriageScreen(ModalScreen[GroupChoice | None]):
    """A table of error groups: jobs, group id, the error with its particulars left out."""

    BINDINGS = bindings("triage")

    def __init__(self, groups: list[ErrorGroup], total: int) -> None:
        super().__init__()
        self.groups = groups
        self.total = total

    def compose(self) -> ComposeResult:
        failed = sum(g.count for g in self.groups)
        with Vertical(id="dialog"):
            yield Static(
                Text(
                    f"{failed:,} of {self.total:,} jobs in ERROR, "
                    f"{len(self.groups)} {'group' if len(self.groups) == 1 else 'groups'}",
                    style="bold",
                )
            )
            yield CommandTable(id="groups", cursor_type="row", zebra_stripes=True)
            yield Static("", id="example", classes="hint", markup=False)
            yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("Jobs", key="count")
        table.add_column("Group", key="id")
        table.add_column("Error (paths, names and numbers left out)", key="signature")
        for group in self.groups:
            table.add_row(
                Text(f"{group.count:,}", justify="right"),
                Text(group.id),
                Text(group.signature),
                key=group.id,
            )
        if not self.groups:
            self.query_one("#example", Static).update("No job is in ERROR.")
        table.focus()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        group = self.current
        if group is not None:
            self.query_one("#example", Static).update(f"For example: {group.example}")

    @property
    def current(self) -> ErrorGroup | None:
        table = self.query_one(DataTable)
        if not self.groups or table.cursor_row >= len(self.groups):
            return None
        return self.groups[table.cursor_row]

    def _choose(self, action: Choice) -> None:
        group = self.current
        if group is not None:
            self.dismiss(GroupChoice(action, group))

    def action_open_group(self) -> None:
        self._choose("open")

    def action_reset_group(self) -> None:
        self._choose("reset")

    def action_cancel_group(self) -> None:
        self._choose("cancel")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action in ("reset_group", "cancel_group") and is_read_only(self))
