"""Everything about one job, fetched fresh with the extended fields, error text first.

A user opens this screen to read why a job failed, so the status and the whole error come
first, then what the job was about (source, destination, pseudonyms, counts, description),
for a job of a batch its history (created by whom from which mapping row, resets, cancels,
status changes the client saw), then every other field the server sent. It all scrolls, so
nothing is cut off on a short terminal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from anonapi_core.exceptions import AnonAPIError
from anonapi_core.models import JobInfo
from anonapi_core.timeline import JobTimeline
from anonapi_tui.job_sources import JobSource
from anonapi_tui.messages import Outcome
from anonapi_tui.widgets.jobs_table import STATUS_STYLES
from anonapi_tui.widgets.timeline import timeline_view

# Field -> label, in the order a user reads them after the error.
USER_FIELDS: dict[str, str] = {
    "source_type": "source type",
    "source_path": "source",
    "source_name": "source name",
    "destination_type": "destination type",
    "destination_path": "destination",
    "destination_name": "destination name",
    "source_anonymizedpatientid": "pseudo ID",
    "source_anonymizedpatientname": "pseudo name",
    "files_downloaded": "files downloaded",
    "files_processed": "files processed",
    "description": "description",
}
# Both grids line their values up at the same column unless a wire name is longer.
LABEL_WIDTH = max(len(label) for label in USER_FIELDS.values())
# Shown above the fields, not among them.
HEADLINE_FIELDS = frozenset({"status", "error"})


def headline(job: JobInfo) -> Text:
    """The status, then the full error text (wrapped, never read as markup)."""
    text = Text()
    text.append("Status: ", style="bold")
    text.append(str(job.status), style=STATUS_STYLES.get(job.status, ""))
    text.append("\n\n")
    text.append("Error\n", style="bold red")
    text.append(job.error_text or "(none)")
    return text


def field_grid(rows: list[tuple[str, Any]]) -> Table:
    """`label  value` rows; a long value wraps in its own column instead of under the label."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True, min_width=LABEL_WIDTH)
    grid.add_column(overflow="fold")
    for label, value in rows:
        grid.add_row(Text(label), Text(str(value)))
    return grid


def user_fields(job: JobInfo) -> Table:
    """What the job was about: source, destination, pseudonyms, counts, description."""
    values = job.model_dump()
    return field_grid(
        [
            (label, values[name])
            for name, label in USER_FIELDS.items()
            if values.get(name) is not None
        ]
    )


def other_fields(job: JobInfo) -> Table:
    """Every other field the server sent (extra fields too), by its wire name."""
    shown = HEADLINE_FIELDS | USER_FIELDS.keys()
    return field_grid(
        [
            (name, value)
            for name, value in job.model_dump().items()
            if name not in shown and value is not None
        ]
    )


class JobDetails(ModalScreen[None]):
    """Shows the row's job at once, then the extended record when the server answers."""

    BINDINGS = [
        Binding(
            "escape,q,enter", "dismiss", "Close", id="details.close", tooltip="Back to the table"
        )
    ]

    class Loaded(Outcome[JobInfo]):
        """The extended record, or why it could not be fetched."""

    class Checked(Outcome[str]):
        """The job's completeness in one line (files expected against its counts)."""

    class History(Outcome[JobTimeline]):
        """The job's audit timeline from the records beside its batch."""

    def __init__(self, source: JobSource, job: JobInfo) -> None:
        super().__init__()
        self.source = source
        self.job = job

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text(f"Job {self.job.job_id}", style="bold"), id="details-title")
            with VerticalScroll(id="details-body"):
                yield Static(headline(self.job), id="error-text")
                yield Static(user_fields(self.job), id="user-fields")
                yield Static("", id="timeline")
                yield Static(other_fields(self.job), id="other-fields")
            yield Static("", id="completeness", markup=False)
            yield Static("", id="details-state", markup=False)

    def on_mount(self) -> None:
        self.query_one("#completeness", Static).display = False
        self.query_one("#details-state", Static).update("loading extended information ...")
        self._load()
        folder = getattr(self.source, "folder", None)  # only a batch keeps records
        self.query_one("#timeline", Static).display = folder is not None
        if folder is not None:
            self._load_history(Path(folder))

    @work(thread=True, exclusive=True, exit_on_error=False, group="history")
    def _load_history(self, folder: Path) -> None:
        from anonapi_core.actions.audit import job_history

        try:
            self.post_message(self.History(job_history(folder, str(self.job.job_id))))
        except (AnonAPIError, OSError) as e:
            self.post_message(self.History(None, str(e)))

    def on_job_details_history(self, message: History) -> None:
        view = self.query_one("#timeline", Static)
        if message.result is None:
            view.update(Text(f"History not available: {message.error}"))
        else:
            view.update(timeline_view(message.result))

    @work(thread=True, exclusive=True, exit_on_error=False, group="details")
    def _load(self) -> None:
        try:
            job = self.source.details(str(self.job.job_id))
            self.post_message(self.Loaded(job))
        except (AnonAPIError, OSError) as e:
            self.post_message(self.Loaded(None, str(e)))
            return
        if job.status != "DONE":  # an error says it all; a running job has no verdict yet
            return
        from anonapi_core.actions.completeness import job_completeness

        try:
            self.post_message(self.Checked(job_completeness(job).summary()))
        except (AnonAPIError, OSError) as e:
            self.post_message(self.Checked(None, str(e)))

    def on_job_details_checked(self, message: Checked) -> None:
        line = self.query_one("#completeness", Static)
        verdict = message.result or f"not checked ({message.error})"
        line.display = True
        line.update(Text(f"Completeness: {verdict}"))
        line.set_class(
            message.result not in ("complete", None) and "not finished" not in verdict, "invalid"
        )

    def on_job_details_loaded(self, message: Loaded) -> None:
        state = self.query_one("#details-state", Static)
        if message.result is None:
            state.update(Text(f"Could not load details: {message.error}"))
            return
        self.job = job = message.result
        self.query_one("#error-text", Static).update(headline(job))
        self.query_one("#user-fields", Static).update(user_fields(job))
        self.query_one("#other-fields", Static).update(other_fields(job))
        state.update("up/down/page keys scroll, escape closes")
