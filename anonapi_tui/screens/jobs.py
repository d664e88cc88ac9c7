"""A live jobs table: a folder's batch, or a server's latest jobs (same screen, other source).

Polling is one thread worker at a time, re-armed with `set_timer` only after the previous fetch
finished: polls never overlap, and a slow server stretches the interval by itself. Asking for a
poll while one is in flight (after a reset, or `f`) queues exactly one more, so there is only
ever one fetch and one timer chain. While a modal is open the newest reply is kept and drawn
when it closes.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Input, Static
from textual.worker import Worker, WorkerState

from anonapi_core.client import JobResult
from anonapi_core.exceptions import AnonAPIError
from anonapi_core.models import JobStatus
from anonapi_core.settings import DEFAULT_STALL_MINUTES
from anonapi_core.throughput import Event, Progress, ProgressTracker, stalled_text
from anonapi_core.wording import plural
from anonapi_tui.bindings import bindings
from anonapi_tui.job_sources import Fetched, JobSource
from anonapi_tui.screens.action_log import ActionLogKey
from anonapi_tui.screens.base import CommandScreen
from anonapi_tui.screens.batch_outputs import BatchOutputs
from anonapi_tui.screens.job_details import JobDetails
from anonapi_tui.screens.quarantine import QuarantineAccess
from anonapi_tui.screens.triage import GroupChoice, TriageScreen
from anonapi_tui.widgets.confirmation import Confirmation
from anonapi_tui.widgets.jobs_table import COLUMNS, SORTABLE, JobsTable, Prepared
from anonapi_tui.widgets.status_summary import StatusSummary

MAX_BACKOFF_S = 60.0
NOTE_SECONDS = 5.0


@dataclass(frozen=True)
class JobAction:
    """A per-job action the screen can run on a selection, with the words its dialogs use."""

    name: str
    verb: str
    past: str


RESET = JobAction("reset", "Reset", "reset")
CANCEL = JobAction("cancel", "Cancel", "cancelled")


class JobsScreen(BatchOutputs, ActionLogKey, QuarantineAccess, CommandScreen):
    """Jobs from a `JobSource`, refreshed live, with marks, filter, sort, reset and cancel."""

    BINDINGS = bindings("jobs")

    class Polled(Message):
        """A poll finished: jobs, their progress and table rows on success, `error` (one line)
        on failure."""

        def __init__(
            self,
            elapsed: float,
            fetched: Fetched | None,
            error: str | None,
            digest: tuple[Progress, Prepared] | None = None,
        ):
            super().__init__()
            self.elapsed = elapsed
            self.fetched = fetched
            self.error = error
            self.progress: Progress | None = digest[0] if digest else None
            self.prepared: Prepared | None = digest[1] if digest else None

    class ActionDone(Message):
        """Reset/cancel finished: per-job outcomes, or `error` when nothing was sent."""

        def __init__(self, action: JobAction, results: list[JobResult[None]], error: str | None):
            super().__init__()
            self.action = action
            self.results = results
            self.error = error

    def __init__(
        self,
        source: JobSource,
        *,
        interval: float = 2.0,
        stall_after: float = DEFAULT_STALL_MINUTES * 60,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.source = source
        self.interval = interval
        self.clock = clock
        """When each poll was taken, for the speeds and stalls (tests pass a fake clock)."""
        self.tracker = ProgressTracker(stall_after=stall_after)
        """Fed only by the poll worker, one poll at a time."""
        self.paused = False
        self.polls = 0
        self._in_flight = False
        self._again = False
        self._timer: Timer | None = None
        self._pending: JobsScreen.Polled | None = None
        self._due_while_away = False
        self._failures = 0
        self._not_found = 0
        self._note_until = 0.0
        self.group_label = ""
        """What the open error group is (`group 3f9a1c`), while one limits the table."""
        self.title = source.title

    def compose(self) -> ComposeResult:
        with Horizontal(id="title-row"):
            yield Static(self.title or "", id="title", markup=False)
            yield Static("", id="shown", markup=False)
            yield Static("", id="poll-state", markup=False)
        yield StatusSummary(id="summary")
        yield Input(
            placeholder="a status (error, done ...) or any text; enter applies, escape clears",
            id="filter",
        )
        yield JobsTable(id="jobs")
        yield Static("", id="error", markup=False)
        # No palette key here: this footer fills the line, and the docked key let the keys
        # under it show through. `?` help names ctrl+p.
        yield Footer(compact=True, show_command_palette=False)

    @property
    def ready(self) -> bool:
        """Polled at least once and no job still running (for `--screenshot`)."""
        running = (job.job_status for job in self.table.jobs.values())
        return self.polls > 0 and not any(status and status.is_running for status in running)

    @property
    def table(self) -> JobsTable:
        return self.query_one(JobsTable)

    def on_mount(self) -> None:
        self._jobs_table = self.table  # for the poll thread, which must not query the DOM
        self.query_one("#filter", Input).display = False
        self.query_one("#error", Static).display = False
        self.table.focus()
        self.poll_now()

    @property
    def summary(self) -> StatusSummary:
        return self.query_one(StatusSummary)

    def show_poll_state(self, state: str) -> None:
        """What the poller does, right of the title: `next refresh in 2 s`, `retrying` ...

        A note the user caused (`sorted by ...`, `paused`) is left up for NOTE_SECONDS first:
        a poll ending just after the key press would otherwise replace it before it is read.
        """
        if time.monotonic() >= self._note_until:
            self.query_one("#poll-state", Static).update(state)

    def announce(self, note: str) -> None:
        """Answer a key press in the poll-state line, kept there for NOTE_SECONDS."""
        self.query_one("#poll-state", Static).update(note)
        self._note_until = time.monotonic() + NOTE_SECONDS

    def _show_counts(self) -> None:
        """The counts of all jobs, and beside the title how many of them a filter shows."""
        self.summary.show_counts(self.table.counts(), self._not_found)
        shown = ""
        if self.table.filtered:
            shown = f"{self.table.shown_count:,} of {len(self.table.jobs):,} shown"
            if self.group_label:
                shown += f" ({self.group_label})"
        self.query_one("#shown", Static).update(shown)

    # Polling -----------------------------------------------------------------------------

    def poll_now(self) -> None:
        """Fetch now (replacing the pending timer), or right after the fetch in flight."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self._in_flight:
            self._again = True
            return
        self._in_flight = True
        self.show_poll_state("refreshing ...")
        self._poll()

    @work(thread=True, exclusive=True, exit_on_error=False, group="poll")
    def _poll(self) -> None:
        started = time.monotonic()
        try:
            fetched, error = self.source.fetch(), None
        except (AnonAPIError, OSError) as e:
            fetched, error = None, str(e)
        digest = None if fetched is None else self.digest(fetched)
        self.post_message(self.Polled(time.monotonic() - started, fetched, error, digest))

    def digest(self, fetched: Fetched) -> tuple[Progress, Prepared]:
        """The poll thread's share of a refresh: the passes over every job (progress, each
        row's text, counts, changes, order), so the UI thread's tick and the key presses
        waiting for it touch only what changed."""
        progress = self.tracker.update(self.clock(), fetched.jobs)
        return progress, self._jobs_table.prepare(fetched.jobs, progress.stalled)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # A bug in a fetch must not stop the live table silently: report it and keep polling.
        if event.worker.group == "poll" and event.state is WorkerState.ERROR:
            error = event.worker.error
            self.post_message(self.Polled(0.0, None, f"{type(error).__name__}: {error}"))

    def on_jobs_screen_polled(self, message: Polled) -> None:
        self._in_flight = False
        self.polls += 1
        if message.error is not None:
            self._failures += 1
            delay = min(MAX_BACKOFF_S, self.interval * 2**self._failures)
            self._show_error(message.error)
            self.show_poll_state(f"failed; retrying in {delay:.2g} s")
            if not self.table.jobs:
                self.summary.show_no_data("no jobs loaded")
        else:
            self._failures = 0
            # A slow server is asked less often: never more than a third of the time busy.
            delay = max(self.interval, 3 * message.elapsed)
            self._show_error(None)
            self.show_poll_state(f"next refresh in {delay:.2g} s")
            if message.progress is not None:
                self._tell(message.progress, message.fetched)
            if self.app.screen is self:
                self._apply(message)
            else:
                self._pending = message
        if self._again:
            self._again = False
            self.poll_now()
        elif not self.paused:
            self._timer = self.set_timer(delay, self._tick)

    def _tick(self) -> None:
        self._timer = None
        if self.paused:
            return
        if self not in self.app.screen_stack:  # another mode is shown; a modal over us is fine
            self._due_while_away = True
            return
        self.poll_now()

    def on_screen_resume(self) -> None:
        if self._pending is not None:
            self._apply(self._pending)
            self._pending = None
        if self._due_while_away:
            self._due_while_away = False
            self.poll_now()

    def _apply(self, polled: Polled) -> None:
        fetched = polled.fetched
        if fetched is None:
            return
        stalled = polled.progress.stalled if polled.progress else frozenset()
        self.table.show_jobs(fetched.jobs, stalled, polled.prepared)
        self._not_found = len(fetched.not_found)
        self._show_counts()
        if polled.progress is not None:
            self.summary.show_progress(polled.progress)
        if fetched.title is not None and fetched.title != self.title:
            self.title = fetched.title
            self.query_one("#title", Static).update(fetched.title)

    def _tell(self, progress: Progress, fetched: Fetched | None) -> None:
        """A toast and the terminal bell when the jobs just finished or a job just stalled:
        once per event, also while a dialog is open, so a user in another window hears it."""
        if not progress.events:
            return
        if Event.FINISHED in progress.events and fetched is not None:
            counts = Counter(job.status for job in fetched.jobs)
            ended = ", ".join(f"{count:,} {status}" for status, count in sorted(counts.items()))
            failed = counts.get(JobStatus.ERROR, 0) > 0
            self.notify(
                f"All {plural(progress.total)} finished: {ended}.",
                title="Finished",
                severity="warning" if failed else "information",
                markup=False,
            )
        if Event.STALLED in progress.events:
            ids = sorted(progress.stalled, key=int)
            shown = ", ".join(ids[:5]) + (" ..." if len(ids) > 5 else "")
            self.notify(
                f"{stalled_text(progress)}: {shown}. Filter them with / stalled.",
                title="Stalled",
                severity="warning",
                markup=False,
            )
        self.app.bell()

    def _show_error(self, error: str | None) -> None:
        line = self.query_one("#error", Static)
        line.display = error is not None
        line.update(f"Error: {error}" if error else "")

    # Marking -----------------------------------------------------------------------------

    def action_toggle_mark(self) -> None:
        job_id = self.table.cursor_job_id
        if job_id is not None:
            self.table.toggle_mark(job_id)
            self.table.action_cursor_down()

    def action_mark_all(self) -> None:
        visible = set(self.table.visible_ids)
        if visible and visible <= self.table.marked:
            self.table.set_marks(self.table.marked - visible)
        else:
            self.table.set_marks(self.table.marked | visible)

    # Reset and cancel --------------------------------------------------------------------

    def action_reset(self) -> None:
        self._confirm_and_run(RESET, self.table.selection())

    def action_cancel(self) -> None:
        self._confirm_and_run(CANCEL, self.table.selection())

    def action_reset_errors(self) -> None:
        self._confirm_and_run(RESET, self.table.ids_with_status(JobStatus.ERROR), what="in ERROR ")

    def _confirm_and_run(self, action: JobAction, job_ids: Sequence[str], what: str = "") -> None:
        if not job_ids:
            self.notify(f"No jobs {what}to {action.name}.", severity="warning")
            return
        shown = ", ".join(job_ids[:8]) + (" ..." if len(job_ids) > 8 else "")
        total = len(self.table.jobs)
        question = (
            f"{action.verb} {plural(len(job_ids))} {what}of {total:,} on the server?\n\n{shown}"
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self._run(action, list(job_ids))

        self.app.push_screen(Confirmation(question, yes_label=action.verb), answered)

    @work(thread=True, exit_on_error=False, group="job-actions")
    def _run(self, action: JobAction, job_ids: list[str]) -> None:
        run = self.source.reset if action is RESET else self.source.cancel
        try:
            results, error = run(job_ids), None
        except (AnonAPIError, OSError) as e:
            results, error = [], str(e)
        self.post_message(self.ActionDone(action, results, error))

    def on_jobs_screen_action_done(self, message: ActionDone) -> None:
        if message.error is not None:
            self.notify(
                f"{message.action.verb} failed: {message.error}", severity="error", markup=False
            )
            return
        done = [r.job_id for r in message.results if r.ok]
        failed = [r for r in message.results if not r.ok]
        self.table.set_marks(self.table.marked - set(done))
        if done:
            self.notify(f"{plural(len(done))} {message.action.past}.", markup=False)
        for result in failed[:5]:
            self.notify(f"Job {result.job_id}: {result.error}", severity="error", markup=False)
        self.poll_now()

    # Filter, sort, details, pause ----------------------------------------------------------

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        self.table.set_query(event.value)
        event.input.display = bool(event.value)
        self.table.focus()
        self._show_counts()

    def action_triage(self) -> None:
        from anonapi_core.triage import group_errors

        groups = group_errors(self.table.jobs.values())
        self.app.push_screen(TriageScreen(groups, len(self.table.jobs)), self._triage_chosen)

    def _triage_chosen(self, choice: GroupChoice | None) -> None:
        if choice is None:
            return
        group = choice.group
        if choice.action == "open":
            self.group_label = f"group {group.id}"
            self.table.set_only(group.job_ids)
            self.table.focus()
            self._show_counts()
            return
        action = RESET if choice.action == "reset" else CANCEL
        self._confirm_and_run(action, group.job_ids, what=f"of error group {group.id} ")

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        box.display = False
        self.table.query_text = ""
        self.group_label = ""
        self.table.set_only(None)
        self.table.focus()
        self._show_counts()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter":
            box = self.query_one("#filter", Input)
            return self.table.filtered or box.display
        return super().check_action(action, parameters)

    def action_sort(self) -> None:
        self.table.sort_by(self.table.next_sort_column())
        self._announce_sort()

    def action_reverse_sort(self) -> None:
        self.table.sort_by(self.table.sort_column or self.table.next_sort_column())
        self._announce_sort()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        if event.column_key.value in SORTABLE:
            self.table.sort_by(event.column_key.value)
            self._announce_sort()

    def _announce_sort(self) -> None:
        order = "descending" if self.table.sort_reverse else "ascending"
        heading = next(c.label for c in COLUMNS if c.key == self.table.sort_column)
        self.announce(f"sorted by {heading} {order}")

    def action_details(self) -> None:
        job_id = self.table.cursor_job_id
        if job_id is not None:
            self.app.push_screen(JobDetails(self.source, self.table.jobs[job_id]))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_details()

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        if self.paused:
            if self._timer is not None:
                self._timer.stop()
                self._timer = None
            self.announce("paused (p resumes)")
        else:
            self._note_until = 0.0
            self.poll_now()

    def action_refresh_now(self) -> None:
        self.poll_now()
