"""`anon server ...`: the servers the user knows, which one is active, and what they report."""

from __future__ import annotations

import click

from anonapi_cli.context import CliContext, pass_cli
from anonapi_cli.output import (
    NO_SERVERS,
    echo_json,
    echo_servers,
    job_json,
    job_table,
    json_option,
)


@click.group()
def server() -> None:
    """Manage anonymization servers."""


@server.command()
@click.argument("short_name")
@click.argument("url")
@click.option("--replace", is_flag=True, help="Replace the URL of a server of that name.")
@pass_cli
def add(cli_ctx: CliContext, short_name: str, url: str, replace: bool) -> None:
    """Add a server under a short name."""
    added = cli_ctx.settings.add_server(short_name, url, replace=replace)
    cli_ctx.save_settings()
    click.echo(f"added {added} to list")


@server.command()
@click.argument("short_name")
@pass_cli
def remove(cli_ctx: CliContext, short_name: str) -> None:
    """Remove a server from the list."""
    removed = cli_ctx.settings.get_server(short_name)
    cli_ctx.settings.remove_server(short_name)
    cli_ctx.save_settings()
    click.echo(f"removed {removed} from list")


@server.command(name="list")
@json_option
@pass_cli
def list_servers(cli_ctx: CliContext, as_json: bool) -> None:
    """Show all servers; * marks the active one."""
    settings = cli_ctx.settings
    if as_json:
        echo_json(
            [
                {"name": n, "url": u, "active": n == settings.active_server_name}
                for n, u in sorted(settings.servers.items())
            ]
        )
        return
    echo_servers(settings.servers, settings.active_server_name, "Available servers (* = active):")


@server.command()
@click.argument("short_name")
@pass_cli
def activate(cli_ctx: CliContext, short_name: str) -> None:
    """Make commands use this server."""
    active = cli_ctx.settings.activate_server(short_name)
    cli_ctx.save_settings()
    click.echo(f"Set active server to {active}")


@server.command(name="status")
@click.option("--all", "check_all", is_flag=True, help="Check every known server, concurrently.")
@json_option
@pass_cli
def server_status(cli_ctx: CliContext, check_all: bool, as_json: bool) -> None:
    """Check whether the active server (or all servers) answers."""
    from anonapi_core.actions.servers import check_server, check_servers

    settings = cli_ctx.settings
    checks = (
        check_servers(settings) if check_all else [check_server(settings, cli_ctx.active_server())]
    )
    if as_json:
        echo_json(
            [
                {
                    "name": c.server.name,
                    "url": c.server.url,
                    "active": c.active,
                    "ok": c.ok,
                    "latency_s": c.latency_s,
                    "error": c.error,
                    "warning": c.warning,
                }
                for c in checks
            ]
        )
    elif not checks:
        click.echo(NO_SERVERS)
    else:
        for check in checks:
            if check.ok:
                click.echo(
                    f"OK: {check.server} is online and responsive "
                    f"({1000 * (check.latency_s or 0):.0f} ms)"
                )
                if check.warning:
                    click.echo(f"Warning: {check.server}: {check.warning}", err=True)
            else:
                click.echo(f"Error: {check.server} is not responding: {check.error}", err=True)
    if not all(c.ok for c in checks):
        click.get_current_context().exit(1)


@server.command()
@json_option
@pass_cli
def jobs(cli_ctx: CliContext, as_json: bool) -> None:
    """List the latest jobs on the active server (the server decides how many)."""
    from anonapi_core.actions.jobs import latest_jobs

    active = cli_ctx.active_server()
    found = latest_jobs(cli_ctx.settings, active)
    if as_json:
        echo_json([job_json(j) for j in found])
        return
    click.echo(f"most recent {len(found)} jobs on {active}:\n")
    click.echo(job_table(found))
