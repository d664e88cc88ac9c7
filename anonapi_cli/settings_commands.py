"""`anon settings ...`: the local settings file, the user name and the API token.

The token is a secret: no command prints it; it is set from standard input or a hidden prompt,
never from the command line (where shell history and process lists would keep it).
"""

from __future__ import annotations

import sys

import click

from anonapi_cli.context import CliContext, pass_cli
from anonapi_cli.output import echo_json, json_option


@click.group()
def settings() -> None:
    """Manage local settings."""


def _public_settings(cli_ctx: CliContext) -> dict:
    """The settings as shown to the user: everything but the token's value."""
    current = cli_ctx.settings
    return {
        "settings_file": str(cli_ctx.settings_path),
        "servers": dict(sorted(current.servers.items())),
        "active_server_name": current.active_server_name,
        "user_name": current.user_name,
        "user_token": "<set>" if current.user_token else "<not set>",
        "validate_ssl": current.validate_ssl,
        "timeout": current.timeout,
        "stall_minutes": current.stall_minutes,
        "job_default_parameters": [f"{k},{v}" for k, v in current.job_default_parameters],
        "active_mapping_file": str(current.active_mapping_file)
        if current.active_mapping_file
        else None,
    }


@settings.command()
@json_option
@pass_cli
def show(cli_ctx: CliContext, as_json: bool) -> None:
    """Show the settings (the token is never shown)."""
    shown = _public_settings(cli_ctx)
    if as_json:
        echo_json(shown)
        return
    import yaml

    click.echo(yaml.safe_dump(shown, sort_keys=False, default_flow_style=False).rstrip())


@settings.command()
@pass_cli
def edit(cli_ctx: CliContext) -> None:
    """Open the settings file in the default editor."""
    path = cli_ctx.settings_path
    if not path.exists():
        cli_ctx.save_settings()  # a first-time user gets the defaults to edit
    click.echo(f"Opening {path}")
    from anonapi_cli.editor import open_in_editor

    open_in_editor(path, hint="; edit it by hand")


@settings.command(name="set-validate-ssl")
@click.argument("value", type=click.BOOL)
@pass_cli
def set_validate_ssl(cli_ctx: CliContext, value: bool) -> None:
    """Check servers' TLS certificates (true) or not (false)."""
    cli_ctx.settings.validate_ssl = value
    cli_ctx.save_settings()
    click.echo(f"validate_ssl is now {value}")


@settings.group()
def user() -> None:
    """Manage the user name and API token."""


@user.command(name="info")
@json_option
@pass_cli
def user_info(cli_ctx: CliContext, as_json: bool) -> None:
    """Show the user name and whether a token is set (never the token)."""
    current = cli_ctx.settings
    token_set = bool(current.user_token)
    if as_json:
        echo_json({"user_name": current.user_name, "token_set": token_set})
        return
    click.echo(f"username is {current.user_name}")
    click.echo(f"API token: {'set' if token_set else 'not set'}")


@user.command(name="set-username")
@click.argument("user_name")
@pass_cli
def set_username(cli_ctx: CliContext, user_name: str) -> None:
    """Set the user name sent to servers."""
    if not user_name.strip():
        raise click.BadParameter("the user name cannot be empty", param_hint="USER_NAME")
    cli_ctx.settings.user_name = user_name.strip()
    cli_ctx.save_settings()
    click.echo(f"username is now '{cli_ctx.settings.user_name}'")


@user.command(name="set-token")
@pass_cli
def set_token(cli_ctx: CliContext) -> None:
    """Save an API token given by a server administrator.

    Reads it from standard input when piped (`anon settings user set-token < token.txt`),
    else asks for it without echoing.
    """
    if sys.stdin.isatty():
        token = click.prompt("API token", hide_input=True, err=True)
    else:
        token = sys.stdin.readline()
    token = token.strip()
    if not token:
        raise click.ClickException("No token given on standard input; nothing was changed")
    if any(c.isspace() for c in token):
        raise click.ClickException("A token cannot contain spaces; nothing was changed")
    cli_ctx.settings.user_token = token
    cli_ctx.save_settings()
    click.echo(f"Saved API token for {cli_ctx.settings.user_name}")


@user.command(name="get-token")
@click.option("--show", is_flag=True, help="Print the new token in the command to register it.")
@pass_cli
def get_token(cli_ctx: CliContext, show: bool) -> None:
    """Generate a new random API token and save it (as the original anonapi did).

    A server accepts it only once its administrator registered it for your user name; the
    token is printed only with --show. If you were given a token, use `set-token` instead.
    """
    import secrets
    import string

    alphabet = string.ascii_letters + string.digits
    token = "".join(secrets.choice(alphabet) for _ in range(64))
    cli_ctx.settings.user_token = token
    cli_ctx.save_settings()
    user = cli_ctx.settings.user_name or "<your user name>"
    click.echo(f"Generated and saved a new API token for {user} in {cli_ctx.settings_path}")
    click.echo(
        "Next: the server's administrator must register it for your user name before the "
        "server accepts it. On the embedded server they run:"
    )
    shown = token if show else "<token>"
    click.echo(f"  anon-server user add {user} --token {shown} --home <server home>")
    if not show:
        click.echo("(run `anon settings user get-token --show` for a new one printed in place)")
