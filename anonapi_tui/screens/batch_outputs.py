"""What a jobs screen hands on: `e` writes the report of its jobs, `v` verifies completeness.

A mixin of `JobsScreen`, kept apart so the live table's module stays about the live table.
Both run in thread workers on the jobs the table already holds (fetched with their extended
fields), so neither asks the server for the jobs again. Verification marks the jobs that are
not complete, so `r` can reset them at once, and lists why in a panel.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work

from anonapi_core.actions.completeness import Verification
from anonapi_core.exceptions import AnonAPIError
from anonapi_tui.messages import Outcome
from anonapi_tui.widgets.completeness_panel import CompletenessPanel

if TYPE_CHECKING:
    from anonapi_core.models import JobInfo
    from anonapi_core.server_address import Server


class BatchOutputs:
    """Report export and completeness verification for a screen with `table` and `source`."""

    class Exported(Outcome[Path]):
        """Where the report went, or why it could not be written."""

    class Verified(Outcome[Verification]):
        """The completeness of every job in the table, or why it could not be checked."""

    def _report_folder(self: Any) -> Path:
        return Path(getattr(self.source, "folder", None) or Path.cwd())

    def _batch_server(self: Any) -> Server | None:
        on_server = getattr(self.source, "on_server", None)
        server = on_server.server if on_server is not None else getattr(self.source, "server", None)
        return server

    def action_export(self: Any) -> None:
        path = self._report_folder() / f"jobs-report-{datetime.now():%Y%m%d-%H%M%S}.xlsx"
        self._export(list(self.table.jobs.values()), path)

    @work(thread=True, exclusive=True, exit_on_error=False, group="export")
    def _export(self: Any, jobs: list[JobInfo], path: Path) -> None:
        from anonapi_core.actions.completeness import export_jobs

        try:
            export_jobs(jobs, [], path, "xlsx")
            self.post_message(BatchOutputs.Exported(path))
        except AnonAPIError as e:
            self.post_message(BatchOutputs.Exported(None, str(e)))

    def on_batch_outputs_exported(self: Any, message: BatchOutputs.Exported) -> None:
        if message.result is None:
            self.notify(f"No report written: {message.error}", severity="error", markup=False)
        else:
            self.notify(f"Report written to {message.result}", markup=False)

    def action_verify(self: Any) -> None:
        server = self._batch_server()
        if server is None:
            self.notify("These jobs have no server to verify against.", severity="warning")
            return
        self._verify(server, list(self.table.jobs.values()))

    @work(thread=True, exclusive=True, exit_on_error=False, group="verify")
    def _verify(self: Any, server: Server, jobs: list[JobInfo]) -> None:
        from anonapi_core.actions.completeness import verify_jobs

        try:
            self.post_message(
                BatchOutputs.Verified(verify_jobs(self.source.settings, server, jobs))
            )
        except AnonAPIError as e:
            self.post_message(BatchOutputs.Verified(None, str(e)))

    def on_batch_outputs_verified(self: Any, message: BatchOutputs.Verified) -> None:
        result = message.result
        if result is None:
            self.notify(f"Verification failed: {message.error}", severity="error", markup=False)
            return
        mismatched = [r.job_id for r in result.mismatches]
        self.table.set_marks(mismatched)
        self.app.push_screen(CompletenessPanel(result))
