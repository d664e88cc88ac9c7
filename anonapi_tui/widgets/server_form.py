"""A small form for a new server: name and URL; the settings object validates them."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static


class ServerForm(ModalScreen[tuple[str, str] | None]):
    """Returns `(name, url)`, or None on escape."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Cancel", id="server_form.cancel", tooltip="Add nothing")
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static("Add a server", classes="dialog-title")
            yield Label("Name")
            yield Input(placeholder="e.g. p01", id="name")
            yield Label("URL")
            yield Input(placeholder="https://host/p01", id="url")
            yield Static("enter in the URL field adds · escape cancels", classes="hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "name":
            self.query_one("#url", Input).focus()
            return
        name = self.query_one("#name", Input).value.strip()
        url = self.query_one("#url", Input).value.strip()
        if name and url:
            self.dismiss((name, url))
        else:
            self.notify("Both a name and a URL are needed.", severity="warning")
