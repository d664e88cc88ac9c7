"""The servers from the settings: which is active, and whether each answers (checked at once)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import DataTable, Footer, Static

from anonapi_core.exceptions import AnonAPIError
from anonapi_core.settings import Settings, save_settings
from anonapi_tui.bindings import bindings
from anonapi_tui.screens.base import CommandScreen
from anonapi_tui.widgets.command_table import CommandTable
from anonapi_tui.widgets.confirmation import Confirmation
from anonapi_tui.widgets.server_form import ServerForm

if TYPE_CHECKING:
    from anonapi_core.actions.servers import ServerCheck

COLUMNS = (
    ("active", " ", 1),
    ("name", "Name", 14),
    ("url", "URL", 36),
    ("status", "Status", 9),
    ("latency", "Latency", 9),
    ("error", "Error", 40),
)


class ServersScreen(CommandScreen):
    """Add, remove and activate servers; every change is saved to the settings file at once."""

    BINDINGS = bindings("servers")

    class Checked(Message):
        def __init__(self, checks: list[ServerCheck]) -> None:
            super().__init__()
            self.checks = checks

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings
        self.title = "Servers"
        self.checks: dict[str, ServerCheck] = {}

    def compose(self) -> ComposeResult:
        yield Static("Servers", id="title")
        yield CommandTable(id="servers", cursor_type="row", zebra_stripes=True)
        yield Static("", id="servers-state", classes="hint", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, label, width in COLUMNS:
            table.add_column(label, width=width, key=key)
        self.action_check()

    @property
    def ready(self) -> bool:
        """Every server checked (for `--screenshot`)."""
        return len(self.checks) == len(self.settings.servers)

    @property
    def cursor_server(self) -> str | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def _show_servers(self) -> None:
        table = self.query_one(DataTable)
        cursor = self.cursor_server
        table.clear()
        for server in sorted(self.settings.server_list(), key=lambda s: s.name):
            check = self.checks.get(server.name)
            if check is None:
                status, latency, error = Text("checking", style="dim"), "", ""
            elif check.ok and check.latency_s is not None:
                status, latency, error = (
                    Text("up", style="green"),
                    f"{check.latency_s * 1000:.0f} ms",
                    "",
                )
            else:
                status, latency, error = Text("down", style="bold red"), "", check.error or ""
            active = (
                Text("●", style="bold green")
                if server.name == self.settings.active_server_name
                else ""
            )
            table.add_row(
                active,
                Text(server.name),
                Text(server.url),
                status,
                Text(latency),
                Text(error),
                key=server.name,
            )
        if cursor in self.settings.servers:
            table.move_cursor(row=table.get_row_index(cursor))
        if not self.settings.servers:
            self.query_one("#servers-state", Static).update("No servers yet: press a to add one.")

    def action_check(self) -> None:
        self.checks = {}
        self._show_servers()
        self.query_one("#servers-state", Static).update("checking every server ...")
        self._check()

    @work(thread=True, exclusive=True, exit_on_error=False, group="check-servers")
    def _check(self) -> None:
        from anonapi_core.actions.servers import check_servers

        self.post_message(self.Checked(check_servers(self.settings)))

    def on_servers_screen_checked(self, message: Checked) -> None:
        self.checks = {check.server.name: check for check in message.checks}
        self._show_servers()
        up = sum(1 for check in message.checks if check.ok)
        clusters = [f"{c.server.name}: {c.cluster.text()}" for c in message.checks if c.cluster]
        self.query_one("#servers-state", Static).update(
            "  ·  ".join([f"{up} of {len(message.checks)} servers answer", *clusters])
        )

    def _save(self) -> bool:
        try:
            save_settings(self.settings)
        except AnonAPIError as e:
            self.notify(str(e), severity="error", markup=False)
            return False
        return True

    def action_add_server(self) -> None:
        def added(answer: tuple[str, str] | None) -> None:
            if answer is None:
                return
            try:
                self.settings.add_server(*answer)
            except AnonAPIError as e:
                self.notify(str(e), severity="error", markup=False)
                return
            if self._save():
                self.action_check()

        self.app.push_screen(ServerForm(), added)

    def action_remove_server(self) -> None:
        name = self.cursor_server
        if name is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.settings.remove_server(name)
                self.checks.pop(name, None)
                if self._save():
                    self._show_servers()

        self.app.push_screen(
            Confirmation(f"Remove server '{name}' from your settings?", yes_label="Remove"),
            answered,
        )

    def action_activate(self) -> None:
        name = self.cursor_server
        if name is None:
            return
        self.settings.activate_server(name)
        if self._save():
            self.notify(f"Active server: {name}", markup=False)
            self._show_servers()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if self.check_action("activate", ()):
            self.action_activate()
