"""`Q` on a jobs table: the files the cursor's job held back and why; release or drop each.

Held back means the server would not publish the file as it is (burned-in annotations may show
the patient's name in the pixels). Releasing publishes it de-identified anyway, dropping never
publishes it; both ask first and are recorded on the server as the user's decision. The server
extension `quarantine` does the work (`anonapi_core.actions.quarantine`); a server without it
(a real IDIS) gets the line "not available on this server" instead of an error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Static

from anonapi_core.exceptions import AnonAPIError
from anonapi_core.quarantine import Decision, HeldFile
from anonapi_core.wording import plural
from anonapi_tui.bindings import bindings
from anonapi_tui.messages import Outcome
from anonapi_tui.screens.base import is_read_only
from anonapi_tui.widgets.command_table import CommandTable
from anonapi_tui.widgets.confirmation import Confirmation

if TYPE_CHECKING:
    from anonapi_core.models import Server
    from anonapi_core.settings import Settings

STATE_STYLES = {"held": "bold yellow", "released": "green", "dropped": "dim"}


class HeldFiles(Protocol):
    """Where the screen reads and decides held files. Blocking: call from workers."""

    def list(self, job_id: str) -> list[HeldFile]: ...

    def decide(self, job_id: str, file_id: str, decision: Decision) -> HeldFile: ...


class ServerHeldFiles:
    """Held files of jobs on one server, through `anonapi_core.actions.quarantine`."""

    def __init__(self, settings: Settings, server: Server) -> None:
        self.settings, self.server = settings, server

    def list(self, job_id: str) -> list[HeldFile]:
        from anonapi_core.actions.quarantine import list_held_files

        return list_held_files(self.settings, self.server, job_id)

    def decide(self, job_id: str, file_id: str, decision: Decision) -> HeldFile:
        from anonapi_core.actions import quarantine as actions

        act = actions.release_held_file if decision == "release" else actions.drop_held_file
        return act(self.settings, self.server, job_id, file_id)


class QuarantineScreen(ModalScreen[None]):
    """One job's held files: where each would go in the output, its state, why it was held."""

    BINDINGS = bindings("quarantine")

    class Loaded(Outcome[list[HeldFile]]):
        """The job's held files, or why they could not be read."""

    class Decided(Outcome[HeldFile]):
        """A release or drop the server recorded, or why it refused."""

    def __init__(self, source: HeldFiles, job_id: str) -> None:
        super().__init__()
        self.source = source
        self.job_id = job_id
        self.files: list[HeldFile] = []
        self.loaded = False
        """Set once the server answered (or said the extension is missing): for tests."""

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text(f"Job {self.job_id}: files held back", style="bold"), id="held-title")
            yield CommandTable(id="held", cursor_type="row", zebra_stripes=True)
            yield Static("", id="held-reason", markup=False)
            yield Static("loading held files ...", id="held-state", classes="hint", markup=False)
            yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        table = self.query_one(CommandTable)
        table.add_column("File id", key="file_id")
        table.add_column("Output", key="place")
        table.add_column("State", key="state")
        table.add_column("Why held", key="reason")
        table.display = False
        table.focus()
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="quarantine")
    def _load(self) -> None:
        try:
            self.post_message(self.Loaded(self.source.list(self.job_id)))
        except (AnonAPIError, OSError) as e:
            self.post_message(self.Loaded(None, str(e)))

    def on_quarantine_screen_loaded(self, message: Loaded) -> None:
        self.loaded = True
        state = self.query_one("#held-state", Static)
        table = self.query_one(CommandTable)
        if message.result is None:
            table.display = False
            state.update(str(message.error))
            state.set_class(True, "invalid")
            return
        self.files = message.result
        row = table.cursor_row
        table.clear()
        for held in self.files:
            table.add_row(
                Text(held.file_id),
                Text(held.place),
                Text(held.state, style=STATE_STYLES.get(held.state, "")),
                Text(held.reason),
                key=held.file_id,
            )
        table.display = bool(self.files)
        if self.files:
            table.move_cursor(row=min(row, len(self.files) - 1))
        waiting = sum(1 for f in self.files if f.state == "held")
        if not self.files:
            state.update("This job held no file back (or has not finished).")
        else:
            state.update(
                f"{plural(waiting, 'file')} of {len(self.files)} still held. "
                "Released files are published de-identified anyway; dropped ones never."
            )
        self._show_current()
        self.refresh_bindings()

    @property
    def current(self) -> HeldFile | None:
        table = self.query_one(CommandTable)
        if not self.files or table.cursor_row >= len(self.files):
            return None
        return self.files[table.cursor_row]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("release", "drop"):
            if is_read_only(self):
                return False
            held = self.current
            return None if held is None or held.state != "held" else True
        return True

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_current()
        self.refresh_bindings()

    def _show_current(self) -> None:
        """The whole reason of the file under the cursor (the table cuts it on narrow screens)
        and who decided it."""
        held = self.current
        line = ""
        if held is not None:
            line = f"{held.place}: {held.reason}"
            if held.decided_by:
                line += f" ({held.state} by {held.decided_by} at {held.decided_at})"
        self.query_one("#held-reason", Static).update(line)

    def action_refresh(self) -> None:
        self._load()

    def action_release(self) -> None:
        self._ask("release")

    def action_drop(self) -> None:
        self._ask("drop")

    def _ask(self, decision: Decision) -> None:
        held = self.current
        if held is None or held.state != "held":
            return
        if decision == "release":
            question = (
                f"Release held file {held.file_id} of job {self.job_id}? It is published "
                f"de-identified as {held.place} although its pixels may show what identifies "
                "the patient. Recorded as your decision."
            )
        else:
            question = (
                f"Drop held file {held.file_id} of job {self.job_id}? It is never published. "
                "Recorded as your decision."
            )

        def answered(yes: bool | None) -> None:
            if yes:
                self._decide(decision, held.file_id)

        label = "Release" if decision == "release" else "Drop"
        self.app.push_screen(Confirmation(question, yes_label=label), answered)

    @work(thread=True, exclusive=True, exit_on_error=False, group="quarantine-decide")
    def _decide(self, decision: Decision, file_id: str) -> None:
        try:
            self.post_message(self.Decided(self.source.decide(self.job_id, file_id, decision)))
        except (AnonAPIError, OSError) as e:
            self.post_message(self.Decided(None, str(e)))

    def on_quarantine_screen_decided(self, message: Decided) -> None:
        held = message.result
        if held is None:
            self.notify(f"Nothing changed: {message.error}", severity="error", markup=False)
        else:
            what = "published as" if held.state == "released" else "never published:"
            self.notify(f"{held.file_id} {held.state}, {what} {held.place}", markup=False)
        self._load()


class QuarantineAccess:
    """The jobs screen's `Q`: open the quarantine of the job under the cursor."""

    def action_quarantine(self: Any) -> None:
        job_id = self.table.cursor_job_id
        server = self._batch_server()
        if job_id is None:
            return
        if server is None:
            self.notify("These jobs are not on a server.", severity="warning")
            return
        held = ServerHeldFiles(self.source.settings, server)
        self.app.push_screen(QuarantineScreen(held, str(job_id)))
