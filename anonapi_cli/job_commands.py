"""`anon job ...`: look at and act on jobs of the active server by id."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import click

from anonapi_cli.arguments import job_id_argument, job_ids_argument
from anonapi_cli.bulk import reset_or_cancel, run_bulk
from anonapi_cli.context import CliContext, pass_cli
from anonapi_cli.output import (
    echo_json,
    job_details,
    job_json,
    job_table,
    json_option,
    results_json,
    shown_ids,
)
from anonapi_cli.prompts import confirm_or_stop, yes_option

if TYPE_CHECKING:
    from anonapi_core.server_address import Server


@click.group()
def job() -> None:
    """Manage anonymization jobs.

    JOB_IDS are separated by spaces and/or commas; N-M is an inclusive range: `1-5,8 9`.
    """


@job.command()
@job_ids_argument
@json_option
@pass_cli
def info(cli_ctx: CliContext, job_ids: list[str], as_json: bool) -> None:
    """Print full info for one or more jobs."""
    from anonapi_core.actions.jobs import jobs_details

    active = cli_ctx.active_server()
    results = jobs_details(cli_ctx.settings, active, job_ids)
    if as_json:
        echo_json(
            [job_json(r.value) if r.value is not None else results_json([r])[0] for r in results]
        )
    for result in results:
        if result.value is None:
            click.echo(f"Error: job {result.job_id} on {active.name}: {result.error}", err=True)
        elif not as_json:
            click.echo(f"job {result.job_id} on {active.name}:")
            click.echo(job_details(result.value))
            click.echo()
    if not all(r.ok for r in results):
        click.get_current_context().exit(1)


@job.command()
@job_id_argument
@json_option
@pass_cli
def history(cli_ctx: CliContext, job_id: str, as_json: bool) -> None:
    """Show what happened to a job of this folder's batch: created, reset, cancelled, statuses.

    Read from the records the client keeps beside the batch (times in UTC); the server is not
    asked. Status changes are those seen while `anon batch status` or the dashboard polled.
    """
    from anonapi_core.actions.audit import job_history

    timeline = job_history(cli_ctx.cwd, job_id)
    if as_json:
        echo_json(
            {
                "job_id": timeline.job_id,
                "events": [
                    {"time": e.time, "kind": e.kind, "user": e.user, "text": e.text}
                    for e in timeline.events
                ],
            }
        )
        return
    if not timeline.events:
        click.echo(f"Nothing recorded about job {timeline.job_id} yet (an older batch?)")
        return
    click.echo(f"job {timeline.job_id} (times in UTC):")
    for event in timeline.events:
        click.echo(f"  {event.line()}")


@job.command(name="list")
@job_ids_argument
@json_option
@pass_cli
def list_jobs(cli_ctx: CliContext, job_ids: list[str], as_json: bool) -> None:
    """List status of several jobs as a table."""
    from anonapi_core.actions.jobs import fetch_jobs

    found = fetch_jobs(cli_ctx.settings, cli_ctx.active_server(), job_ids)
    if as_json:
        echo_json([job_json(j) for j in found])
    else:
        click.echo(job_table(found))
    returned = {str(j.job_id) for j in found}
    missing = [i for i in job_ids if i not in returned]
    if missing:
        click.echo(f"Error: not found on the server: {', '.join(missing)}", err=True)
        click.get_current_context().exit(1)


@job.command()
@job_ids_argument
@yes_option
@json_option
@pass_cli
def reset(cli_ctx: CliContext, job_ids: list[str], yes: bool, as_json: bool) -> None:
    """Reset jobs so the server processes them again."""
    _on_active_server(cli_ctx, "reset", job_ids, yes=yes, as_json=as_json)


@job.command()
@job_ids_argument
@yes_option
@json_option
@pass_cli
def cancel(cli_ctx: CliContext, job_ids: list[str], yes: bool, as_json: bool) -> None:
    """Cancel jobs (the server sets them INACTIVE)."""
    _on_active_server(cli_ctx, "cancel", job_ids, yes=yes, as_json=as_json)


def _on_active_server(
    cli_ctx: CliContext,
    action: Literal["reset", "cancel"],
    job_ids: list[str],
    *,
    yes: bool,
    as_json: bool,
) -> None:
    """Reset or cancel jobs on the active server; logged in the folder's batch if it holds them."""
    active = cli_ctx.active_server()
    reset_or_cancel(
        cli_ctx,
        action,
        active,
        job_ids,
        on=f"{active.name}: {shown_ids(job_ids)}",
        yes=yes,
        as_json=as_json,
        batch_folder=_batch_holding(cli_ctx, active, job_ids),
    )


def _batch_holding(cli_ctx: CliContext, server: Server, job_ids: list[str]) -> Path | None:
    """The working folder, when its batch holds some of these jobs: their log is kept there."""
    from anonapi_core.actions.batch import holds_any

    return cli_ctx.cwd if holds_any(cli_ctx.cwd, server, job_ids) else None


@job.command(name="set-opt-out-ignore")
@job_ids_argument
@click.argument("reason")
@yes_option
@json_option
@pass_cli
def set_opt_out_ignore(
    cli_ctx: CliContext, job_ids: list[str], reason: str, yes: bool, as_json: bool
) -> None:
    """Process jobs although the patient opted out, recording REASON (e.g. specific consent)."""
    from anonapi_core.actions.jobs import set_opt_out_ignore as action

    if not reason.strip():
        raise click.BadParameter("a reason is required", param_hint="REASON")
    active = cli_ctx.active_server()
    run_bulk(
        cli_ctx,
        active,
        job_ids,
        lambda settings, server, ids: action(settings, server, ids, reason),
        question=f"This will set opt-out ignore '{reason}' for {len(job_ids)} jobs on "
        f"{active.name}: {shown_ids(job_ids)}. Are you sure?",
        done=f"Set opt-out ignore ({reason}) for",
        yes=yes,
        as_json=as_json,
    )


@job.command()
@job_id_argument
@click.option("--release", "release_id", metavar="FILE_ID", help="Publish this held file anyway.")
@click.option("--drop", "drop_id", metavar="FILE_ID", help="Never publish this held file.")
@yes_option
@json_option
@pass_cli
def quarantine(
    cli_ctx: CliContext,
    job_id: str,
    release_id: str | None,
    drop_id: str | None,
    yes: bool,
    as_json: bool,
) -> None:
    """List the files a job held back and why; release (publish de-identified anyway) or drop one.

    Both decisions are recorded on the server under your user name.
    """
    from anonapi_cli.quarantine_output import decided_line, held_table
    from anonapi_core.actions import quarantine as actions

    if release_id and drop_id:
        raise click.UsageError("Give --release or --drop, not both")
    active = cli_ctx.active_server()
    if release_id or drop_id:
        file_id = str(release_id or drop_id)
        question = (
            f"Publish held file {file_id} of job {job_id} on {active.name} de-identified anyway? "
            "Its pixels may show what identifies the patient."
            if release_id
            else f"Drop held file {file_id} of job {job_id} on {active.name} for good?"
        )
        confirm_or_stop(question, yes)
        decide = actions.release_held_file if release_id else actions.drop_held_file
        decided = decide(cli_ctx.settings, active, job_id, file_id)
        if as_json:
            echo_json(asdict(decided))
        else:
            click.echo(decided_line(job_id, decided))
        return
    files = actions.list_held_files(cli_ctx.settings, active, job_id)
    if as_json:
        echo_json([asdict(f) for f in files])
    else:
        click.echo(held_table(job_id, active.name, files))
