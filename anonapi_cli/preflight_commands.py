"""`anon map check`: the pre-flight check of the mapping, before any job exists."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from anonapi_cli.context import CliContext, pass_cli
from anonapi_cli.output import echo_json, json_option, note

if TYPE_CHECKING:
    from anonapi_core.preflight import PreflightReport

_LABEL = {"error": "error  ", "warning": "warning", "info": "info   "}


def echo_report(report: PreflightReport) -> None:
    """One line per finding (errors first), then the notes on checks that did not run."""
    click.echo(f"Pre-flight check of {report.file}, {report.summary()}")
    for finding in report.sorted_findings():
        click.echo(f"  {_LABEL[finding.severity]}  {finding}")
    for text in report.notes:
        click.echo(f"  note     {text}")


@click.command(name="check")
@click.option(
    "--server/--no-server",
    default=True,
    help="Also ask the active server (shares it serves, PACS instance counts); default: yes.",
)
@json_option
@pass_cli
def check(cli_ctx: CliContext, server: bool, as_json: bool) -> None:
    """Check every row of the mapping before creating jobs; exit 1 on any error.

    Finds duplicate sources, one study under two pseudonyms, one pseudonym for two sources,
    identifiers Excel mangled, shares the server does not serve, PACS studies it cannot find,
    and pseudonyms your earlier batches gave to other sources.
    """
    from anonapi_cli.map_commands import mapping_path_for
    from anonapi_core.actions.preflight import preflight

    path = mapping_path_for(cli_ctx)
    report = preflight(cli_ctx.settings, path, cli_ctx.cwd, server=server)
    if as_json:
        echo_json(report.to_dict())
    else:
        echo_report(report)
    if not report.ok:
        if not as_json:
            note(f"{len(report.errors)} errors: fix them before creating jobs")
        click.get_current_context().exit(1)


def preflight_gate(cli_ctx: CliContext, path: Path, ignore: bool) -> None:
    """Run the pre-flight before creating jobs: its errors stop creation unless `ignore`."""
    from anonapi_core.actions.preflight import preflight

    report = preflight(cli_ctx.settings, path, cli_ctx.cwd)
    shown = [f for f in report.sorted_findings() if f.severity != "info"]
    for finding in shown:
        click.echo(f"  {_LABEL[finding.severity]}  {finding}", err=True)
    if report.ok:
        return
    if ignore:
        note(f"Pre-flight found {len(report.errors)} errors; creating anyway (--ignore-check)")
        return
    raise click.ClickException(
        f"The pre-flight check found {len(report.errors)} errors in {path}; no jobs were "
        "created. Fix them, or pass --ignore-check to create the jobs anyway"
    )
