"""Completeness and report actions on a batch: verify every finished job, write the report.

Both fetch the batch's jobs with their extended fields from the batch's own server, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from anonapi_core.actions.batch import batch_status
from anonapi_core.exceptions import AnonAPIError
from anonapi_core.reconcile import Completeness, pacs_identifier, reconcile, share_roots
from anonapi_core.report import ReportFormat, ReportRow, missing_row, row_for, write_report
from anonapi_core.server_address import Server
from anonapi_core.settings import Settings

if TYPE_CHECKING:
    from anonapi_core.models import JobInfo

NOT_FOUND = "NOT_FOUND"


@dataclass
class Verification:
    """Every job of a batch with its verdict, and what could not be checked (with why)."""

    results: list[Completeness]
    not_found: list[str]
    notes: list[str]

    @property
    def mismatches(self) -> list[Completeness]:
        return [r for r in self.results if r.mismatch]

    @property
    def unfinished(self) -> list[Completeness]:
        return [r for r in self.results if not r.finished]

    @property
    def ok(self) -> bool:
        """True only when every job of the batch is DONE and complete."""
        return not (self.mismatches or self.unfinished or self.not_found)


def pacs_counts(
    settings: Settings, server: Server, jobs: Sequence[JobInfo], notes: list[str]
) -> dict[str, int]:
    """Instances the PACS holds per identifier of the PACS jobs (empty if it cannot say)."""
    identifiers = sorted({i for job in jobs if (i := pacs_identifier(job))})
    if not identifiers:
        return {}
    from anonapi_core.client import AnonClient
    from anonapi_core.extensions import NotAvailable
    from anonapi_core.pacs_counts import count_instances

    try:
        with AnonClient.from_settings(settings, server) as client:
            counts = count_instances(client, identifiers)
    except NotAvailable:
        notes.append("PACS instance counts are not available on this server")
        return {}
    except AnonAPIError as e:
        notes.append(f"PACS instance counts not fetched: {e}")
        return {}
    return {
        identifier: c["instances"]
        for identifier, c in counts.items()
        if not c.get("error") and isinstance(c.get("instances"), int)
    }


def verify_batch(settings: Settings, folder: Path) -> Verification:
    """Reconcile every job of the batch in `folder` (see `anonapi_core.reconcile`)."""
    status = batch_status(settings, folder, extended=True)
    return verify_jobs(settings, status.batch.server, status.jobs, status.not_found)


def verify_jobs(
    settings: Settings, server: Server, jobs: Sequence[JobInfo], not_found: Sequence[str] = ()
) -> Verification:
    """Reconcile jobs fetched with their extended fields (the dashboard has them already)."""
    notes: list[str] = []
    counts = pacs_counts(settings, server, jobs, notes)
    roots = share_roots()
    return Verification([reconcile(job, roots, counts) for job in jobs], list(not_found), notes)


def batch_report(
    settings: Settings, folder: Path, path: Path, fmt: ReportFormat, *, delimiter: str = ","
) -> list[ReportRow]:
    """Write the report of the batch in `folder` to `path`; returns its rows."""
    status = batch_status(settings, folder, extended=True)
    return export_jobs(status.jobs, status.not_found, path, fmt, delimiter=delimiter)


def export_jobs(
    jobs: Sequence[JobInfo],
    not_found: Sequence[str],
    path: Path,
    fmt: ReportFormat,
    *,
    delimiter: str = ",",
) -> list[ReportRow]:
    """Write the report of jobs already fetched (the dashboard's table); returns its rows."""
    rows = [row_for(job) for job in jobs]
    rows += [missing_row(job_id, NOT_FOUND) for job_id in not_found]
    write_report(rows, path, fmt, delimiter=delimiter)
    return rows


def job_completeness(job: JobInfo) -> Completeness:
    """One job's completeness from its own record (job details; no PACS count asked)."""
    return reconcile(job, share_roots())
