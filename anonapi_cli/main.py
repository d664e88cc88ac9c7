"""The `anon` command: root group, global options, and one error policy for every command.

Every failure the user can cause or meet (bad input, unreachable server, refused request,
unreadable file) ends as one line `Error: <what> (<where>)` on stderr and exit code 1; click's own
usage errors keep exit code 2. Subcommand modules import the core lazily so that `anon --help`
stays fast.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from anonapi_cli.batch_commands import batch
from anonapi_cli.completeness_commands import report as batch_report
from anonapi_cli.completeness_commands import verify as batch_verify
from anonapi_cli.context import CliContext, pass_cli
from anonapi_cli.create_commands import create
from anonapi_cli.job_commands import job
from anonapi_cli.map_commands import mapping
from anonapi_cli.output import echo_json, echo_servers, json_option
from anonapi_cli.preflight_commands import check as map_check
from anonapi_cli.preview_commands import preview
from anonapi_cli.pseudonym_commands import pseudonyms
from anonapi_cli.remote_server_commands import server
from anonapi_cli.select_commands import select
from anonapi_cli.settings_commands import settings
from anonapi_core.exceptions import AnonAPIError

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class AnonGroup(click.Group):
    """Root group that turns every expected failure into one `Error:` line."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AnonAPIError as e:
            raise click.ClickException(_one_line(str(e)) or type(e).__name__) from e
        except OSError as e:
            raise click.ClickException(_describe_os_error(e)) from e


def _one_line(message: str) -> str:
    """Core messages are one line already; this guards the promise for any that is not."""
    return " ".join(message.split())


def _describe_os_error(e: OSError) -> str:
    """`[Errno 13] Permission denied: 'x'` -> `Permission denied (x)`: the cause and the place."""
    reason = e.strerror or str(e) or type(e).__name__
    return f"{reason} ({e.filename})" if e.filename else reason


@click.group(cls=AnonGroup, context_settings=CONTEXT_SETTINGS, invoke_without_command=True)
@click.option("-v", "--verbose", count=True, help="Log more (-vv for debug, including HTTP).")
@click.pass_context
def cli(ctx: click.Context, verbose: int) -> None:
    """Create and track anonymization jobs on IDIS anonymization servers.

    Run any command with -h for its options, e.g. `anon batch status -h`.
    """
    if verbose:
        logging.basicConfig(
            level=logging.DEBUG if verbose > 1 else logging.INFO,
            format="%(name)s - %(levelname)s: %(message)s",
            stream=sys.stderr,
        )
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())
        ctx.exit(0)
    ctx.obj = CliContext.create()


@cli.command()
@json_option
@pass_cli
def status(cli_ctx: CliContext, as_json: bool) -> None:
    """Show servers (* = active), user name and settings file."""
    settings = cli_ctx.settings
    if as_json:
        echo_json(
            {
                "servers": dict(sorted(settings.servers.items())),
                "active_server": settings.active_server_name,
                "user_name": settings.user_name,
                "settings_file": str(cli_ctx.settings_path),
            }
        )
        return
    echo_servers(settings.servers, settings.active_server_name, "Available servers (* = active)")
    click.echo(f"\nUsing username: '{settings.user_name}'")
    click.echo(f"Reading settings from {cli_ctx.settings_path}")


cli.add_command(server)
cli.add_command(job)
batch.add_command(batch_verify)
batch.add_command(batch_report)
cli.add_command(batch)
mapping.add_command(map_check)
cli.add_command(mapping)
cli.add_command(pseudonyms)
cli.add_command(preview)
cli.add_command(select)
cli.add_command(create)
cli.add_command(settings)
