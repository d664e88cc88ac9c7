"""Everything about one job, fetched fresh with the extended fields, with its full error text."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Static

from anonapi_core.exceptions import AnonAPIError
from anonapi_core.models import JobInfo
from anonapi_tui.sources import JobSource
from anonapi_tui.widgets.jobs_table import STATUS_STYLES


def describe(job: JobInfo) -> Text:
    """`field: value` lines for every field the server sent (extra fields too), error last."""
    text = Text()
    fields = job.model_dump()
    for name, value in fields.items():
        if name == "error" or value is None:
            continue
        text.append(f"{name:>30}: ", style="bold")
        style = STATUS_STYLES.get(value, "") if name == "status" else ""
        text.append(f"{value}\n", style=style)
    return text


class JobDetails(ModalScreen[None]):
    """Shows the row's job at once, then the extended record when the server answers."""

    BINDINGS = [
        Binding(
            "escape,q,enter", "dismiss", "Close", id="details.close", tooltip="Back to the table"
        )
    ]

    class Loaded(Message):
        def __init__(self, job: JobInfo | None, error: str | None) -> None:
            super().__init__()
            self.job = job
            self.error = error

    def __init__(self, source: JobSource, job: JobInfo) -> None:
        super().__init__()
        self.source = source
        self.job = job

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text(f"Job {self.job.job_id}", style="bold"), id="details-title")
            with VerticalScroll():
                yield Static(describe(self.job), id="fields")
                yield Static(Text("Error", style="bold red"), id="error-title")
                yield Static(Text(self.job.error_text or "(none)"), id="error-text")
            yield Static("", id="details-state", markup=False)

    def on_mount(self) -> None:
        self.query_one("#details-state", Static).update("loading extended information ...")
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="details")
    def _load(self) -> None:
        try:
            self.post_message(self.Loaded(self.source.details(str(self.job.job_id)), None))
        except (AnonAPIError, OSError) as e:
            self.post_message(self.Loaded(None, str(e)))

    def on_job_details_loaded(self, message: Loaded) -> None:
        state = self.query_one("#details-state", Static)
        if message.job is None:
            state.update(f"Could not load details: {message.error}")
            return
        self.job = message.job
        self.query_one("#fields", Static).update(describe(message.job))
        self.query_one("#error-text", Static).update(Text(message.job.error_text or "(none)"))
        state.update("escape closes")
