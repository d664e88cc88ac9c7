"""`anon batch ...`: the jobs recorded in `.anonbatch` of the current folder.

Batch commands talk to the server stored in the batch, not the active server: that is where the
batch's jobs live.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Literal

import click

from anonapi_cli.arguments import job_ids_argument
from anonapi_cli.bulk import reset_or_cancel
from anonapi_cli.context import CliContext, pass_cli
from anonapi_cli.output import (
    counted,
    echo_json,
    job_json,
    job_table,
    json_option,
    note,
    summary_block,
)
from anonapi_cli.prompts import confirm_or_stop, yes_option

if TYPE_CHECKING:
    from anonapi_core.actions.batch import BatchStatus
    from anonapi_core.throughput import Progress, ProgressTracker


@click.group()
def batch() -> None:
    """Manage anonymization job batches.

    A batch is the file .anonbatch in the current folder: a server and the ids of jobs on it.
    JOB_IDS are separated by spaces and/or commas; N-M is an inclusive range.
    """


@batch.command()
@pass_cli
def init(cli_ctx: CliContext) -> None:
    """Save an empty batch in the current folder, for the active server."""
    from anonapi_core.batch import init_batch

    active = cli_ctx.active_server()
    init_batch(cli_ctx.cwd, active)
    click.echo(f"Initialised batch for {active} in {cli_ctx.cwd}")


@batch.command()
@json_option
@pass_cli
def info(cli_ctx: CliContext, as_json: bool) -> None:
    """Show the batch in the current folder (as the YAML in .anonbatch)."""
    from anonapi_core.batch import load_batch
    from anonapi_core.yaml_files import dump_yaml

    current = load_batch(cli_ctx.cwd)
    if as_json:
        echo_json(current.to_dict())
    else:
        click.echo(dump_yaml(current.to_dict()).rstrip())


@batch.command()
@yes_option
@pass_cli
def delete(cli_ctx: CliContext, yes: bool) -> None:
    """Delete the batch in the current folder (the jobs stay on the server)."""
    from anonapi_core.batch import delete_batch, load_batch

    current = load_batch(cli_ctx.cwd)
    confirm_or_stop(
        f"This will forget the {len(current.job_ids)} job ids of the batch in {cli_ctx.cwd}. "
        "Are you sure?",
        yes,
    )
    delete_batch(cli_ctx.cwd)
    click.echo(f"Removed batch in {cli_ctx.cwd}")


@batch.command()
@job_ids_argument
@pass_cli
def add(cli_ctx: CliContext, job_ids: list[str]) -> None:
    """Add job ids to the batch."""
    from anonapi_core.batch import load_batch, save_batch

    current = load_batch(cli_ctx.cwd)
    new = current.add(job_ids)
    save_batch(cli_ctx.cwd, current)
    click.echo(
        f"Added {counted(len(new), 'id')} to batch ({len(job_ids) - len(new)} in it already); "
        f"it now holds {counted(len(current.job_ids), 'job')}"
    )


@batch.command()
@job_ids_argument
@pass_cli
def remove(cli_ctx: CliContext, job_ids: list[str]) -> None:
    """Remove job ids from the batch."""
    from anonapi_core.batch import load_batch, save_batch

    current = load_batch(cli_ctx.cwd)
    removed = current.remove(job_ids)
    save_batch(cli_ctx.cwd, current)
    click.echo(
        f"Removed {counted(len(removed), 'id')} from batch "
        f"({len(job_ids) - len(removed)} not in it); it now holds "
        f"{counted(len(current.job_ids), 'job')}"
    )


def _print_status(result: BatchStatus, *, patient_name: bool) -> None:
    total = len(result.batch.job_ids)
    click.echo(f"Job info for {counted(len(result.records), 'job')} on {result.batch.server}:")
    click.echo(job_table(result.records, pseudonym=patient_name))
    click.echo(summary_block(result.counts(), total))


def _status_json(result: BatchStatus, progress: Progress | None) -> dict:
    document = {
        "server": {"name": result.batch.server.name, "url": result.batch.server.url},
        "jobs": [job_json(j) for j in result.jobs],
        "not_found": result.not_found,
        "counts": result.counts(),
    }
    if progress is not None:
        document["progress"] = {
            "jobs_per_minute": progress.jobs_per_minute,
            "files_per_second": progress.files_per_second,
            "eta_seconds": progress.eta_seconds,
            "stalled": sorted(progress.stalled, key=int),
        }
    return document


def _progress_tracker(cli_ctx: CliContext) -> ProgressTracker:
    """What a watch shows besides the table; imported only by a watch."""
    from anonapi_core.throughput import ProgressTracker

    return ProgressTracker(stall_after=cli_ctx.settings.stall_minutes * 60)


def _progress_parts(progress: Progress | None) -> list[str]:
    if progress is None:
        return []
    from anonapi_core.throughput import progress_parts

    return progress_parts(progress)


@batch.command()
@click.option(
    "--patient-name/--no-patient-name", default=False, help="Add the pseudonym (anon_name) column."
)
@click.option("--watch", is_flag=True, help="Refresh until no job is ACTIVE or UPLOADED.")
@click.option(
    "--until-done",
    is_flag=True,
    help="Watch, then exit 0 if every job ended DONE and 1 if any did not (ERROR, cancelled, "
    "not found).",
)
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=5.0,
    show_default=True,
    help="Seconds between refreshes with --watch.",
)
@json_option
@pass_cli
def status(
    cli_ctx: CliContext,
    patient_name: bool,
    watch: bool,
    until_done: bool,
    interval: float,
    as_json: bool,
) -> None:
    """Print status of all jobs in the batch, with a summary.

    With --watch, from the second refresh on also jobs per minute, files per second, an ETA
    and the jobs stalled (ACTIVE without progress for `stall_minutes` of the settings, 10 by
    default). With --watch and --json, each refresh is one JSON document per line.
    """
    from anonapi_core.actions.batch import batch_status

    watch = watch or until_done
    tracker = _progress_tracker(cli_ctx) if watch else None
    while True:
        result = batch_status(cli_ctx.settings, cli_ctx.cwd, extended=patient_name)
        progress = tracker.update(time.monotonic(), result.jobs) if tracker else None
        if as_json:
            echo_json(_status_json(result, progress), lines=watch)
        else:
            if watch and cli_ctx.is_terminal:
                click.clear()
            _print_status(result, patient_name=patient_name)
            parts = _progress_parts(progress)
            if parts:
                click.echo(f"Progress: {', '.join(parts)}")
            if progress and progress.stalled:
                ids = sorted(progress.stalled, key=int)
                click.echo(f"Stalled: {' '.join(ids[:20])}{' ...' if len(ids) > 20 else ''}")
        if not watch or not result.is_running:
            break
        time.sleep(interval)
    if until_done and (result.not_found or any(r["status"] != "DONE" for r in result.records)):
        note("Not every job ended DONE")
        click.get_current_context().exit(1)


def _act_on_batch(
    cli_ctx: CliContext, verb: Literal["reset", "cancel"], yes: bool, as_json: bool, *statuses: str
) -> None:
    """Reset or cancel the batch's jobs now in one of `statuses` (all when none given)."""
    from anonapi_core.actions.batch import batch_job_ids

    ids, server = batch_job_ids(cli_ctx.settings, cli_ctx.cwd, *statuses)
    reset_or_cancel(
        cli_ctx,
        verb,
        server,
        ids,
        on=str(server),
        yes=yes,
        as_json=as_json,
        batch_folder=cli_ctx.cwd,
    )


@batch.command()
@yes_option
@json_option
@pass_cli
def reset(cli_ctx: CliContext, yes: bool, as_json: bool) -> None:
    """Reset every job in the batch."""
    _act_on_batch(cli_ctx, "reset", yes, as_json)


@batch.command(name="reset-error")
@yes_option
@json_option
@pass_cli
def reset_error(cli_ctx: CliContext, yes: bool, as_json: bool) -> None:
    """Reset the jobs of the batch that have ERROR status."""
    _act_on_batch(cli_ctx, "reset", yes, as_json, "ERROR")


@batch.command()
@yes_option
@json_option
@pass_cli
def cancel(cli_ctx: CliContext, yes: bool, as_json: bool) -> None:
    """Cancel every job in the batch."""
    _act_on_batch(cli_ctx, "cancel", yes, as_json)


@batch.command(name="cancel-active")
@yes_option
@json_option
@pass_cli
def cancel_active(cli_ctx: CliContext, yes: bool, as_json: bool) -> None:
    """Cancel the jobs still waiting (ACTIVE); leave done, uploaded and error jobs."""
    _act_on_batch(cli_ctx, "cancel", yes, as_json, "ACTIVE")


@batch.command(name="show-error")
@json_option
@pass_cli
def show_error(cli_ctx: CliContext, as_json: bool) -> None:
    """Show the full error message of every job in the batch with ERROR status."""
    from anonapi_core.actions.batch import batch_status

    errors = batch_status(cli_ctx.settings, cli_ctx.cwd).with_status("ERROR")
    if as_json:
        echo_json([job_json(j) for j in errors])
        return
    if not errors:
        click.echo("There are no jobs with error status in this batch")
        return
    for job in errors:
        click.echo(job_table([job]))
        click.echo("error message:")
        click.echo(job.error_text)
        click.echo()


@batch.command()
@click.option("--reset", "reset_group", metavar="GROUP", help="Reset the jobs of this group.")
@click.option("--cancel", "cancel_group", metavar="GROUP", help="Cancel the jobs of this group.")
@yes_option
@json_option
@pass_cli
def errors(
    cli_ctx: CliContext,
    reset_group: str | None,
    cancel_group: str | None,
    yes: bool,
    as_json: bool,
) -> None:
    """Group the batch's failed jobs by what went wrong, largest group first.

    Paths, names, ids and numbers are left out of the comparison, so one missing share is one
    group. GROUP is a group's id or its number in this list.
    """
    from anonapi_core.actions.batch import batch_errors, error_group

    if reset_group and cancel_group:
        raise click.UsageError("Give --reset or --cancel, not both")
    wanted = reset_group or cancel_group
    if wanted:
        group, server = error_group(cli_ctx.settings, cli_ctx.cwd, wanted)
        verb: Literal["reset", "cancel"] = "reset" if reset_group else "cancel"
        on = f"{server} (group {group.id}: {group.signature})"
        reset_or_cancel(
            cli_ctx,
            verb,
            server,
            group.job_ids,
            on=on,
            yes=yes,
            as_json=as_json,
            batch_folder=cli_ctx.cwd,
        )
        return
    groups, status = batch_errors(cli_ctx.settings, cli_ctx.cwd)
    if as_json:
        echo_json(
            {
                "server": {"name": status.batch.server.name, "url": status.batch.server.url},
                "jobs": len(status.jobs),
                "groups": [
                    {
                        "id": g.id,
                        "count": g.count,
                        "signature": g.signature,
                        "example": g.example,
                        "job_ids": g.job_ids,
                    }
                    for g in groups
                ],
            }
        )
        return
    failed = sum(g.count for g in groups)
    if not groups:
        click.echo(f"No job of the {len(status.jobs):,} in the batch is in ERROR")
        return
    click.echo(
        f"{failed:,} of {len(status.jobs):,} jobs in ERROR on {status.batch.server}, "
        f"{len(groups)} {'group' if len(groups) == 1 else 'groups'}:"
    )
    width = len(f"{groups[0].count:,}")
    for number, group in enumerate(groups, 1):
        click.echo(f"{number:>3}  {group.id}  {group.count:>{width},}  {group.signature}")
    note("Reset or cancel one group with: anon batch errors --reset GROUP (or --cancel GROUP)")


def _add_completeness() -> None:
    """`anon batch verify` and `anon batch report` live in their own module."""
    from anonapi_cli.completeness_commands import report, verify

    batch.add_command(verify)
    batch.add_command(report)


_add_completeness()


@batch.command(name="log")
@json_option
@pass_cli
def action_log(cli_ctx: CliContext, as_json: bool) -> None:
    """Show the resets and cancels done to the batch's jobs, each job's outcome included.

    Times are UTC; a refusal shows the server's reason with names, paths and numbers left out.
    """
    from anonapi_core.actions.audit import batch_log

    entries = batch_log(cli_ctx.cwd)
    if as_json:
        echo_json([entry.to_record() for entry in entries])
        return
    if not entries:
        click.echo("No reset or cancel of this batch's jobs is recorded yet")
        return
    for entry in entries:
        click.echo(entry.summary())
        for outcome in entry.outcomes:
            click.echo(f"  job {outcome.job_id}: {outcome.result}")
