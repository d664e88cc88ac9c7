"""Running one action over many jobs: confirm, act over one connection, report each job."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal

import click

from anonapi_cli.context import CliContext
from anonapi_cli.output import echo_json, note, report_results, results_json
from anonapi_cli.prompts import confirm_or_stop

if TYPE_CHECKING:
    from anonapi_core.client import JobResult
    from anonapi_core.server_address import Server
    from anonapi_core.settings import Settings

BulkAction = Callable[["Settings", "Server", Sequence[str]], "list[JobResult[None]]"]


def run_bulk(
    cli_ctx: CliContext,
    server: Server,
    job_ids: Sequence[str],
    action: BulkAction,
    *,
    question: str,
    done: str,
    yes: bool,
    as_json: bool,
) -> None:
    """Ask `question` (unless --yes), run `action`, print per-job results; exit 1 if any failed.

    Nothing to do is not a failure: a batch without ERROR jobs has nothing to reset.
    """
    if not job_ids:
        note("No jobs to act on")
        return
    confirm_or_stop(question, yes)
    results = action(cli_ctx.settings, server, job_ids)
    if as_json:
        echo_json(results_json(results))
    else:
        report_results(results, done, server.name)
    if not all(r.ok for r in results):
        click.get_current_context().exit(1)


def reset_or_cancel(
    cli_ctx: CliContext,
    verb: Literal["reset", "cancel"],
    server: Server,
    job_ids: Sequence[str],
    *,
    on: str,
    yes: bool,
    as_json: bool,
) -> None:
    """`run_bulk` for the two actions both the `job` and the `batch` groups offer; `on` names
    the jobs in the question (`p01: 1, 2, 3` or a server)."""
    from anonapi_core.actions.jobs import cancel_jobs, reset_jobs

    action, done = (reset_jobs, "Reset") if verb == "reset" else (cancel_jobs, "Cancelled")
    run_bulk(
        cli_ctx,
        server,
        job_ids,
        action,
        question=f"This will {verb} {len(job_ids)} jobs on {on}. Are you sure?",
        done=done,
        yes=yes,
        as_json=as_json,
    )
