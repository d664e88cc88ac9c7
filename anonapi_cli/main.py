"""The `anon` command: root group, global options, and one error policy for every command.

Every failure the user can cause or meet (bad input, unreachable server, refused request,
unreadable file) ends as one line `Error: <what> (<where>)` on stderr and exit code 1; click's own
usage errors keep exit code 2. Start-up counts: a command line imports only its own command group
(`SUBCOMMANDS`), the groups import the core lazily, and `anon --help` itself is printed by
`anonapi_cli.entry` without importing click at all.
"""

from __future__ import annotations

import errno
import importlib
import sys
from typing import Any

import click

from anonapi_cli.context import CliContext, pass_cli
from anonapi_cli.output import echo_json, echo_servers, json_option

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "batch": ("anonapi_cli.batch_commands", "batch"),
    "create": ("anonapi_cli.create_commands", "create"),
    "job": ("anonapi_cli.job_commands", "job"),
    "map": ("anonapi_cli.map_commands", "mapping"),
    "select": ("anonapi_cli.select_commands", "select"),
    "server": ("anonapi_cli.remote_server_commands", "server"),
    "settings": ("anonapi_cli.settings_commands", "settings"),
}
"""Command groups by name: (module, attribute). A command line imports only the group it runs."""


class AnonGroup(click.Group):
    """Root group: loads command groups when used, and turns every expected failure into one
    `Error:` line (the one place that maps exceptions to messages and exit codes)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *SUBCOMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in SUBCOMMANDS:
            module, attribute = SUBCOMMANDS[cmd_name]
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        return self.commands.get(cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        from anonapi_core.exceptions import AnonAPIError, one_line_message

        try:
            return super().invoke(ctx)
        except OSError as e:
            if e.errno == errno.EPIPE:
                raise  # `anon ... | head`: click's main ends quietly when the reader has gone
            raise click.ClickException(one_line_message(e)) from e
        except AnonAPIError as e:
            raise click.ClickException(one_line_message(e)) from e


def _show_core_warnings() -> None:
    """The core's warnings (e.g. a token about to cross the network over plain http) as
    `Warning: ...` lines on stderr; added once however often `cli` runs in one process."""
    import logging

    core = logging.getLogger("anonapi_core")
    if not any(getattr(h, "anon_cli", False) for h in core.handlers):
        handler = logging.StreamHandler()  # sys.stderr at the time of each message
        handler.setLevel(logging.WARNING)
        handler.setFormatter(logging.Formatter("Warning: %(message)s"))
        handler.anon_cli = True  # type: ignore[attr-defined]
        core.addHandler(handler)


@click.group(cls=AnonGroup, context_settings=CONTEXT_SETTINGS, invoke_without_command=True)
@click.option("-v", "--verbose", count=True, help="Log more (-vv for debug, including HTTP).")
@click.pass_context
def cli(ctx: click.Context, verbose: int) -> None:
    """Create and track anonymization jobs on IDIS anonymization servers.

    Run any command with -h for its options, e.g. `anon batch status -h`.
    """
    if verbose:
        import logging

        logging.basicConfig(
            level=logging.DEBUG if verbose > 1 else logging.INFO,
            format="%(name)s - %(levelname)s: %(message)s",
            stream=sys.stderr,
        )
    else:
        _show_core_warnings()
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
