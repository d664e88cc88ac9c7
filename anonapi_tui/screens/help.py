"""`?`: the keys of the screen underneath, read from its live bindings so remapped keys show."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Static

from anonapi_tui.bindings import BY_ID


class HelpScreen(ModalScreen[None]):
    """A table of key, command and what it does; any listed key closes it."""

    BINDINGS = [
        Binding("escape,question_mark,q", "dismiss", "Close", id="help.close", tooltip="Close help")
    ]

    def __init__(self, screen: Screen) -> None:
        super().__init__()
        self.for_screen = screen

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(
                Text(f"Keys: {self.for_screen.title or self.for_screen.name or ''}", style="bold")
            )
            yield DataTable(id="help-keys", cursor_type="none", zebra_stripes=True)
            yield Static("escape closes · ctrl+p opens the command palette", classes="hint")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Key", "Command", "What it does")
        seen: set[str] = set()
        for key, active in self.for_screen.active_bindings.items():
            binding_id = active.binding.id
            if binding_id not in BY_ID or binding_id in seen:
                continue
            seen.add(binding_id)
            display = self.app.get_key_display(active.binding)
            table.add_row(
                Text(display),
                Text(active.binding.description),
                Text(active.binding.tooltip),
                key=key,
            )
