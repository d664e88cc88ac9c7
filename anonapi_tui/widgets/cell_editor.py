"""Edit one value in a modal: enter keeps it, escape leaves the cell as it was."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class CellEditor(ModalScreen[str | None]):
    """Returns the edited text, or None when cancelled."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Cancel", id="cell.cancel", tooltip="Keep the old value")
    ]

    def __init__(self, label: str, value: str, hint: str = "") -> None:
        super().__init__()
        self.label = label
        self.value = value
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.label, classes="dialog-title", markup=False)
            yield Input(self.value, id="value")
            yield Static(self.hint or "enter keeps · escape cancels", classes="hint", markup=False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)
