"""Job actions on one server: read jobs, and reset / cancel / set opt-out-ignore many at once.

Every function opens one pooled client for its whole run: per-job calls share one connection with
bounded concurrency (the original opened a fresh connection per job and ran them one by one).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from anonapi_core.client import AnonClient, JobResult
from anonapi_core.job_fields import JobRecord
from anonapi_core.server_address import Server
from anonapi_core.settings import Settings

# The wire models load while the first reply is on the way (see `model_loading`).
if TYPE_CHECKING:
    from anonapi_core.models import JobInfo


def reset_jobs(settings: Settings, server: Server, job_ids: Sequence[str]) -> list[JobResult[None]]:
    """Put jobs back to ACTIVE with their counters cleared; per-job failures are in the results."""
    with AnonClient.from_settings(settings, server) as client:
        return client.for_each(client.reset_job, job_ids)


def cancel_jobs(
    settings: Settings, server: Server, job_ids: Sequence[str]
) -> list[JobResult[None]]:
    """Cancel jobs (the server sets them INACTIVE); per-job failures are in the results."""
    with AnonClient.from_settings(settings, server) as client:
        return client.for_each(client.cancel_job, job_ids)


def set_opt_out_ignore(
    settings: Settings, server: Server, job_ids: Sequence[str], reason: str
) -> list[JobResult[None]]:
    """Let jobs process patients on the opt-out list, recording why (e.g. specific consent)."""
    with AnonClient.from_settings(settings, server) as client:
        return client.for_each(lambda job_id: client.set_opt_out_ignore(job_id, reason), job_ids)


def fetch_jobs(
    settings: Settings, server: Server, job_ids: Sequence[str], *, extended: bool = False
) -> list[JobInfo]:
    """The given jobs in server order, fetched in bounded chunks; unknown ids are absent."""
    with AnonClient.from_settings(settings, server) as client:
        return client.get_jobs_list(job_ids, extended=extended)


def fetch_job_records(
    settings: Settings, server: Server, job_ids: Sequence[str], *, extended: bool = False
) -> list[JobRecord]:
    """As `fetch_jobs`, each job as a record rather than a model (see `job_fields`)."""
    with AnonClient.from_settings(settings, server) as client:
        return client.get_job_records(job_ids, extended=extended)


def latest_jobs(settings: Settings, server: Server) -> list[JobInfo]:
    """The latest jobs on the server (the server decides how many)."""
    with AnonClient.from_settings(settings, server) as client:
        return client.get_jobs()


def job_details(settings: Settings, server: Server, job_id: str) -> JobInfo:
    """Extended information on one job."""
    with AnonClient.from_settings(settings, server) as client:
        return client.get_job(job_id)


def jobs_details(
    settings: Settings, server: Server, job_ids: Sequence[str]
) -> list[JobResult[JobInfo]]:
    """Extended information on many jobs over one connection; each result's value is a JobInfo."""
    with AnonClient.from_settings(settings, server) as client:
        return client.for_each(client.get_job, job_ids)
