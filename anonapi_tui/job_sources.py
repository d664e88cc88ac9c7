"""Where a jobs screen gets its jobs and sends its resets: a batch folder or a server's latest jobs.

The screens run these methods in thread workers; every method is a direct call into
`anonapi_core.actions`, so the dashboard and the `anon` CLI do exactly the same thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from anonapi_core.client import JobResult
from anonapi_core.exceptions import AnonAPIError
from anonapi_core.models import JobInfo, Server
from anonapi_tui.screens.base import display_path

if TYPE_CHECKING:
    from anonapi_core.settings import Settings


@dataclass
class Fetched:
    """One poll's outcome: the jobs, and ids the batch names that the server does not know."""

    jobs: list[JobInfo]
    not_found: list[str] = field(default_factory=list)
    title: str | None = None
    """A new title for the screen (the server jobs screen names the server it asked)."""


class JobSource(Protocol):
    """What a jobs screen needs: fetch, reset, cancel, details. Blocking: call from workers."""

    title: str

    def fetch(self) -> Fetched: ...

    def reset(self, job_ids: Sequence[str]) -> list[JobResult[None]]: ...

    def cancel(self, job_ids: Sequence[str]) -> list[JobResult[None]]: ...

    def details(self, job_id: str) -> JobInfo: ...


class ServerJobSource:
    """Jobs on one server; with `server=None`, whichever server is active at each call.

    Resolving the active server per call means activating another server on the servers
    screen shows its jobs on the next poll, without rebuilding this screen.
    """

    def __init__(self, settings: Settings, server: Server | None = None) -> None:
        self.settings = settings
        self._server = server
        self.title = (
            f"Latest jobs on {server.name}" if server else "Latest jobs on the active server"
        )

    @property
    def server(self) -> Server:
        return self._server or self.settings.active_server()

    def fetch(self) -> Fetched:
        from anonapi_core.actions.jobs import latest_jobs

        server = self.server
        jobs = latest_jobs(self.settings, server)
        return Fetched(jobs, title=f"Latest jobs on {server.name} ({server.url})")

    def reset(self, job_ids: Sequence[str]) -> list[JobResult[None]]:
        from anonapi_core.actions.jobs import reset_jobs

        return reset_jobs(self.settings, self.server, job_ids)

    def cancel(self, job_ids: Sequence[str]) -> list[JobResult[None]]:
        from anonapi_core.actions.jobs import cancel_jobs

        return cancel_jobs(self.settings, self.server, job_ids)

    def details(self, job_id: str) -> JobInfo:
        from anonapi_core.actions.jobs import job_details

        return job_details(self.settings, self.server, job_id)


class BatchJobSource:
    """The jobs of a folder's `.anonbatch`, on the server the batch names (not the active one).

    The batch is read on each fetch, so jobs the CLI adds to it meanwhile appear on the next poll.
    """

    def __init__(self, settings: Settings, folder: Path) -> None:
        self.settings = settings
        self.folder = folder
        self.title = f"Batch in {display_path(folder)}"
        self._server: Server | None = None

    @property
    def on_server(self) -> ServerJobSource:
        """The batch's server as a source, for the per-job actions."""
        if self._server is None:
            from anonapi_core.batch import load_batch

            self._server = load_batch(self.folder).server
        return ServerJobSource(self.settings, self._server)

    def fetch(self) -> Fetched:
        from anonapi_core.actions.batch import batch_status

        status = batch_status(self.settings, self.folder, extended=True)
        self._server = status.batch.server
        return Fetched(status.jobs, status.not_found)

    def reset(self, job_ids: Sequence[str]) -> list[JobResult[None]]:
        return self.on_server.reset(job_ids)

    def cancel(self, job_ids: Sequence[str]) -> list[JobResult[None]]:
        return self.on_server.cancel(job_ids)

    def details(self, job_id: str) -> JobInfo:
        return self.on_server.details(job_id)


class StaticJobSource:
    """Jobs held in memory: screenshots and benchmarks of a table without a server.

    It changes nothing: reset and cancel fail with a clear message instead of pretending.
    """

    def __init__(
        self, jobs: Sequence[JobInfo], title: str = "Sample jobs", not_found: Sequence[str] = ()
    ) -> None:
        self.jobs = list(jobs)
        self.not_found = list(not_found)
        self.title = title

    def fetch(self) -> Fetched:
        return Fetched(list(self.jobs), list(self.not_found))

    def _refuse(self, job_ids: Sequence[str]) -> list[JobResult[None]]:
        raise AnonAPIError(f"{self.title} are not on a server; nothing was changed")

    reset = cancel = _refuse

    def details(self, job_id: str) -> JobInfo:
        return next(job for job in self.jobs if str(job.job_id) == job_id)
