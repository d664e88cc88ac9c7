"""`L`: the batch's action log, every reset and cancel with each job's outcome.

The log is `.anonbatch.actions` beside the batch (`anonapi_core.action_log`), read through
`actions.audit.batch_log` in a thread worker. The upper table lists the runs, newest first (time,
user, action, counts); the lower one the jobs of the highlighted run, refusals first, each with
the server's reason as the log keeps it (names, paths and numbers left out).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Static

from anonapi_core.action_log import ActionEntry
from anonapi_core.exceptions import AnonAPIError
from anonapi_tui.bindings import bindings
from anonapi_tui.messages import Outcome
from anonapi_tui.screens.base import display_path


class ActionLogScreen(ModalScreen[None]):
    """The runs of resets and cancels above, the outcome per job of the highlighted one below."""

    BINDINGS = bindings("log")

    class Loaded(Outcome[list[ActionEntry]]):
        """The log's entries (oldest first), or why it could not be read."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder
        self.entries: list[ActionEntry] = []
        """Newest first, as the runs table shows them."""

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(
                Text(
                    f"Resets and cancels of the batch in {display_path(self.folder)} (times UTC)",
                    style="bold",
                ),
                id="log-title",
            )
            yield DataTable(id="runs", cursor_type="row", zebra_stripes=True)
            yield Static("", id="run-title", markup=False)
            yield DataTable(id="outcomes", cursor_type="row", zebra_stripes=True)
            yield Static("reading the log ...", id="log-state", classes="hint", markup=False)
            yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        runs = self.query_one("#runs", DataTable)
        runs.add_column("When", key="when")
        runs.add_column("User", key="user")
        runs.add_column("Action", key="action")
        runs.add_column("Jobs", key="jobs")
        runs.add_column("Done", key="done")
        runs.add_column("Refused", key="refused")
        runs.add_column("Server", key="server")
        outcomes = self.query_one("#outcomes", DataTable)
        outcomes.add_column("Job", key="job")
        outcomes.add_column("Outcome", key="outcome")
        runs.focus()
        self._read()

    @work(thread=True, exclusive=True, exit_on_error=False, group="action-log")
    def _read(self) -> None:
        from anonapi_core.actions.audit import batch_log

        try:
            self.post_message(self.Loaded(batch_log(self.folder)))
        except (AnonAPIError, OSError) as e:
            self.post_message(self.Loaded(None, str(e)))

    def on_action_log_screen_loaded(self, message: Loaded) -> None:
        state = self.query_one("#log-state", Static)
        if message.result is None:
            state.update(f"Could not read the log: {message.error}")
            return
        self.entries = list(reversed(message.result))
        runs = self.query_one("#runs", DataTable)
        for number, entry in enumerate(self.entries):
            runs.add_row(
                Text(entry.time[:19].replace("T", " ")),
                Text(entry.user),
                Text(entry.action),
                Text(f"{len(entry.outcomes):,}"),
                Text(f"{entry.done:,}"),
                Text(f"{entry.refused:,}"),
                Text(entry.server),
                key=str(number),
            )
        if not self.entries:
            state.update("No reset or cancel of this batch's jobs is recorded yet.")
            self.query_one("#outcomes", DataTable).display = False
            return
        state.update("up/down picks a run, tab moves to its jobs, escape closes")
        self._show_run(0)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "runs" and event.cursor_row < len(self.entries):
            self._show_run(event.cursor_row)

    def _show_run(self, index: int) -> None:
        entry = self.entries[index]
        self.query_one("#run-title", Static).update(
            Text(
                f"Jobs of the {entry.action} at {entry.time[:19].replace('T', ' ')}, refused first"
            )
        )
        table = self.query_one("#outcomes", DataTable)
        table.clear()
        for outcome in sorted(entry.outcomes, key=lambda o: o.ok):
            table.add_row(
                Text(outcome.job_id),
                Text(outcome.result, style="" if outcome.ok else "red"),
            )


class ActionLogKey:
    """The `L` key of a jobs screen: there only when the screen shows a batch folder's jobs
    (the latest jobs of a server have no batch, hence no log)."""

    def _log_folder(self: Any) -> Path | None:
        folder = getattr(self.source, "folder", None)
        return Path(folder) if folder is not None else None

    def action_open_log(self: Any) -> None:
        folder = self._log_folder()
        if folder is not None:
            self.app.push_screen(ActionLogScreen(folder))

    def check_action(self: Any, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open_log" and self._log_folder() is None:
            return False
        return super().check_action(action, parameters)  # type: ignore[misc]
