"""`anon create ...`: create jobs from the mapping, and the defaults job creation uses."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from anonapi_cli.context import CliContext, pass_cli
from anonapi_cli.output import counted, echo_json, json_option, note
from anonapi_cli.prompts import confirm_or_stop, yes_option

if TYPE_CHECKING:
    from anonapi_core.actions.create import CreatedJob, CreationPlan, CreationReport, FailedJob

DEFAULT_DESCRIPTIONS = {
    "project": "Anonymize according to this project",
    "destination_path": "Write data to this UNC path after anonymization",
}


@click.group()
def create() -> None:
    """Create jobs."""


def _describe(job: CreatedJob | FailedJob) -> str:
    request = job.request
    name = request.pseudo_name or request.pseudo_id or ""
    line = f"line {request.line}, " if request.line else ""
    return f"{line}{request.source} ({name})"


@create.command(name="from-mapping")
@click.option(
    "--dry-run/--no-dry-run",
    default=False,
    help="Validate and show the jobs that would be created; send and write nothing.",
)
@click.option(
    "-f",
    "--filter",
    "filters",
    multiple=True,
    help="Only rows whose pseudo_id or pseudo_name is this value; can be repeated.",
)
@click.option(
    "--stop-on-error/--continue-on-error",
    default=True,
    help="After a job the server refuses, stop (default) or go on with the other rows.",
)
@yes_option
@json_option
@pass_cli
def from_mapping(
    cli_ctx: CliContext,
    dry_run: bool,
    filters: tuple[str, ...],
    stop_on_error: bool,
    yes: bool,
    as_json: bool,
) -> None:
    """Create a job for every row of the mapping and record the ids in .anonbatch here.

    Every row is checked before any job is created. Each created job id is recorded at once,
    so after an interruption running the command again creates only the rest.
    """
    from anonapi_cli.map_commands import mapping_path_for
    from anonapi_core.actions.create import MappingValidationError, execute_plan, plan_jobs

    path = mapping_path_for(cli_ctx, yes)
    try:
        plan = plan_jobs(cli_ctx.settings, path, cli_ctx.cwd, filter=filters, recover=not dry_run)
    except MappingValidationError as e:
        for problem in e.problems:
            click.echo(f"  {problem}", err=True)
        raise click.ClickException(
            f"{counted(len(e.problems), 'problem')} in mapping {path}; no jobs were created"
        ) from None
    if filters:
        note(f"Only rows with pseudonym {', '.join(filters)}: {counted(len(plan.jobs), 'job')}")
    if plan.already_created:
        note(
            f"{counted(len(plan.already_created), 'row')} already "
            f"{'has' if len(plan.already_created) == 1 else 'have'} a job from an earlier run "
            f"(recorded in {cli_ctx.cwd}); skipping them"
        )
    if dry_run:
        _show_dry_run(plan, as_json)
        return
    if not plan.jobs:
        click.echo("Nothing to create: every row already has a job")
        return
    confirm_or_stop(
        f"This will create {counted(len(plan.jobs), 'job')} on {plan.server}, for projects "
        f"{', '.join(plan.projects)}, writing data to {', '.join(plan.destinations)}. "
        "Are you sure?",
        yes,
    )

    def created(job: CreatedJob) -> None:
        if not as_json:
            click.echo(f"Created job {job.job_id} for {_describe(job)}")

    def failed(job: FailedJob) -> None:
        click.echo(f"Error: {_describe(job)}: {job.reason}", err=True)

    try:
        report = execute_plan(
            cli_ctx.settings,
            plan,
            stop_on_error=stop_on_error,
            on_created=created,
            on_failed=failed,
        )
    except KeyboardInterrupt:
        click.echo(
            f"Interrupted. Every job created so far is recorded in {cli_ctx.cwd}; "
            "run the same command again to create the rest.",
            err=True,
        )
        click.get_current_context().exit(130)
    _show_report(report, as_json)
    if not report.ok:
        click.get_current_context().exit(1)


def _show_dry_run(plan: CreationPlan, as_json: bool) -> None:
    if as_json:
        echo_json(
            {
                "dry_run": True,
                "server": str(plan.server),
                "jobs": [p.request.create_job_params() for p in plan.jobs],
                "already_created": plan.already_created,
            }
        )
        return
    click.echo("** Dry run, nothing will be sent to the server **")
    for planned in plan.jobs:
        click.echo(f"Would create: {planned.request.create_job_params()}")
    click.echo(f"{counted(len(plan.jobs), 'job')} would be created on {plan.server}")


def _show_report(report: CreationReport, as_json: bool) -> None:
    from anonapi_core.jobids import format_job_ids

    # Creation is concurrent, so the server's ids arrive out of order; users scan them sorted.
    ids = [job.job_id for job in report.created]
    if as_json:
        echo_json(
            {
                "created": [{"job_id": j.job_id, "line": j.request.line} for j in report.created],
                "failed": [{"line": j.request.line, "reason": j.reason} for j in report.failed],
                "not_attempted": len(report.not_attempted),
                "batch_error": report.batch_error,
            }
        )
    else:
        click.echo(f"Created {counted(len(ids), 'job')}: {format_job_ids(ids)}")
    if report.not_attempted:
        note(
            f"{counted(len(report.not_attempted), 'job')} not created because of the error above; "
            "fix it and run the command again to create them"
        )
    if report.batch_error:
        click.echo(f"Error: {report.batch_error}", err=True)
    elif report.batch is not None and not as_json:
        click.echo(f"Saved job ids in batch in {report.plan.folder}")


@create.command(name="set-defaults")
@click.option("--project", help="Default anonymization project.")
@click.option("--destination-path", help="Default UNC path to write anonymized data to.")
@pass_cli
def set_defaults(cli_ctx: CliContext, project: str | None, destination_path: str | None) -> None:
    """Set the default project and destination for new mappings and jobs (asks if not given)."""
    from anonapi_core.paths import is_unc

    current = dict(cli_ctx.settings.job_default_parameters)
    if project is None:
        project = click.prompt("Default project", default=current.get("project", ""), err=True)
    if destination_path is None:
        destination_path = click.prompt(
            "Default destination (UNC path)", default=current.get("destination_path", ""), err=True
        )
    if destination_path and not is_unc(destination_path):
        raise click.BadParameter(
            f"'{destination_path}' is not a UNC path like \\\\server\\share\\folder",
            param_hint="--destination-path",
        )
    current.update({"project": project.strip(), "destination_path": destination_path.strip()})
    cli_ctx.settings.job_default_parameters = [(k, v) for k, v in current.items() if v]
    cli_ctx.save_settings()
    _print_defaults(cli_ctx)


@create.command(name="show-defaults")
@json_option
@pass_cli
def show_defaults(cli_ctx: CliContext, as_json: bool) -> None:
    """Show the default parameters used when creating jobs."""
    if as_json:
        echo_json(dict(cli_ctx.settings.job_default_parameters))
        return
    _print_defaults(cli_ctx)


def _print_defaults(cli_ctx: CliContext) -> None:
    defaults = dict(cli_ctx.settings.job_default_parameters)
    click.echo("Default parameters when creating jobs:")
    for key in {**DEFAULT_DESCRIPTIONS, **defaults}:
        value = defaults.get(key, "NOT SET")
        description = DEFAULT_DESCRIPTIONS.get(key, "")
        click.echo(f"{key}:{value}" + (f" ({description})" if description else ""))
