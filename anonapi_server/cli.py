"""The `anon-server` command: create a server home, administer it, and run the embedded server.

Thin: each command parses its arguments, calls one function of `anonapi_server.admin` or
`runner`, and prints the result. The server stack is imported inside the commands so that
`anon-server --help` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any, TypeVar

import click

from anonapi_server.errors import ServerError, describe_os_error

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
HOME_HELP = "Server home (default: $ANON_SERVER_HOME)."

F = TypeVar("F", bound=Callable[..., Any])


def _home_option(fn: F) -> F:
    return click.option("--home", type=click.Path(path_type=Path), help=HOME_HELP)(fn)


class ServerGroup(click.Group):
    """Root group: the one place that turns failures a user can cause into one `Error:` line
    and exit code 1 (a refusal of the server's own, or a folder or file the OS refuses)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ServerError as e:
            raise click.ClickException(" ".join(str(e).split()) or type(e).__name__) from e
        except OSError as e:
            raise click.ClickException(describe_os_error(e)) from e


def _home(home: Path | None):  # noqa: ANN202 - ServerHome, imported lazily
    from anonapi_server.config import resolve_home

    return resolve_home(home)


@click.group(cls=ServerGroup, context_settings=CONTEXT_SETTINGS)
def cli() -> None:
    """Run and administer the embedded IDIS-compatible anonymization server."""


@cli.command()
@click.argument("home", type=click.Path(path_type=Path))
@click.option(
    "--database",
    metavar="URL",
    help="A PostgreSQL database shared by several hosts, as postgresql://user:password@host/name "
    "(default: a SQLite file in HOME, for one machine).",
)
def init(home: Path, database: str | None) -> None:
    """Create a server home with share \\\\localhost\\data and project Wetenschap-Algemeen."""
    from anonapi_server.admin import init_home
    from anonapi_server.config import ServerHome

    server_home = ServerHome(home.expanduser().absolute())
    if init_home(server_home, database=database):
        click.echo(f"Initialised server home {server_home.root}")
        if database:
            click.echo(f"Database {server_home.load_config().shown_database}")
        click.echo(f"Share \\\\localhost\\data is {server_home.default_share_root}")
        click.echo(f"Next: anon-server user add NAME --home {server_home.root}")
    else:
        click.echo(f"{server_home.root} already is a server home; nothing changed")


@cli.command()
@_home_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(0, 64),
    help="Worker processes that run jobs.",
)
@click.option(
    "--tls-cert", type=click.Path(path_type=Path), help="Certificate (PEM) to serve HTTPS with."
)
@click.option("--tls-key", type=click.Path(path_type=Path), help="Private key (PEM) of --tls-cert.")
@click.option(
    "--insecure-http",
    is_flag=True,
    help="Serve plain HTTP beyond this machine: tokens and job data travel readable.",
)
def run(
    home: Path | None,
    host: str,
    port: int,
    workers: int,
    tls_cert: Path | None,
    tls_key: Path | None,
    insecure_http: bool,
) -> None:
    """Serve the API and run jobs until Ctrl-C."""
    from anonapi_server.runner import run as run_server
    from anonapi_server.transport import transport_for

    server_home = _home(home)
    server_home.load_config()  # a missing home fails here, before anything starts
    transport = transport_for(host, tls_cert, tls_key, insecure_http=insecure_http)
    if transport.warning:
        click.echo(f"Warning: {transport.warning}", err=True)
    click.echo(
        f"Serving {server_home.root} on {transport.scheme}://{host}:{port} with {workers} worker(s)"
    )
    # A second Ctrl-C while stopping ends quietly, not with click's "Aborted!".
    with suppress(KeyboardInterrupt):
        run_server(server_home, host=host, port=port, workers=workers, tls=transport.options)
    click.echo("Stopped")


@cli.command()
@_home_option
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes that run jobs.",
)
def worker(home: Path | None, workers: int) -> None:
    """Run jobs from the home's (shared) database and serve no API, until Ctrl-C.

    For more machines on one PostgreSQL database: give each a home made with
    'anon-server init HOME --database postgresql://...' and, where it mounts a share elsewhere
    than the database says, 'shares: {data: /mnt/data}' in its anon-server.yml.
    """
    from anonapi_server.runner import run_worker_host

    server_home = _home(home)
    config = server_home.load_config()
    click.echo(f"Worker host for {config.shown_database} with {workers} worker(s); Ctrl-C stops")
    run_worker_host(server_home, workers=workers)


@cli.command()
@_home_option
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status(home: Path | None, as_json: bool) -> None:
    """List the hosts, workers, leases and queue depth of the home's database."""
    import json

    from anonapi_server.admin import open_store
    from anonapi_server.hosts import cluster_status, format_status

    with open_store(_home(home)) as store:
        found = cluster_status(store)
    click.echo(json.dumps(found.to_json(), indent=2) if as_json else format_status(found))


@cli.group()
def user() -> None:
    """Manage users and their tokens."""


@user.command("add")
@click.argument("name")
@click.option("--token", help="Use this token (default: generate one).")
@click.option(
    "--project",
    "projects",
    multiple=True,
    help="Connect to this project (repeatable; default: every project).",
)
@click.option("--admin", is_flag=True, help="May read and change every user's jobs.")
@_home_option
def user_add(
    name: str, token: str | None, projects: tuple[str, ...], admin: bool, home: Path | None
) -> None:
    """Register a user (or give it a new token and role) and print the token."""
    from anonapi_server.admin import add_user

    click.echo(add_user(_home(home), name, token=token, projects=projects, is_admin=admin))


@cli.group()
def share() -> None:
    """Manage the shares (UNC roots) the server reads and writes."""


@share.command("add")
@click.argument("name")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--host", default="localhost", show_default=True, help="Host part of the UNC path.")
@_home_option
def share_add(name: str, path: Path, host: str, home: Path | None) -> None:
    """Serve the local folder PATH as \\\\HOST\\NAME."""
    from anonapi_server.admin import add_share

    unc = add_share(_home(home), name, path, host=host)
    click.echo(f"{unc} is {path.resolve()}")


@share.command("list")
@_home_option
def share_list(home: Path | None) -> None:
    """Show every share and the local folder it is served from."""
    from anonapi_server.admin import list_shares

    found = list_shares(_home(home))
    for unc, local in found:
        click.echo(f"{unc} is {local}")
    if not found:
        click.echo("No shares; add one with 'anon-server share add NAME PATH'")


@cli.group()
def project() -> None:
    """Manage projects: who may use them and how they de-identify."""


@project.command("add")
@click.argument("name")
@click.option("--option", "options", multiple=True, help="Enable a de-identification option.")
@click.option("--user", "users", multiple=True, help="Connect an existing user (repeatable).")
@_home_option
def project_add(
    name: str, options: tuple[str, ...], users: tuple[str, ...], home: Path | None
) -> None:
    """Create a project with its own pseudonymisation secret."""
    from anonapi_server.admin import add_project

    add_project(_home(home), name, options=options, users=users)
    click.echo(f"Added project {name}")


@project.command("list")
@_home_option
def project_list(home: Path | None) -> None:
    """Show every project with its options and users."""
    from anonapi_server.admin import list_projects

    found = list_projects(_home(home))
    for name, options, members in found:
        click.echo(
            f"{name}: options {', '.join(options) or 'none'}; users {', '.join(members) or 'none'}"
        )
    if not found:
        click.echo("No projects; add one with 'anon-server project add NAME'")


@cli.group("opt-out")
def opt_out() -> None:
    """Manage the list of patients who do not want their data used for research."""


@opt_out.command("add")
@click.argument("patient_id")
@_home_option
def opt_out_add(patient_id: str, home: Path | None) -> None:
    """Put PATIENT_ID on the opt-out list."""
    from anonapi_server.admin import add_opt_out

    add_opt_out(_home(home), patient_id)
    click.echo(f"Patient {patient_id} is on the opt-out list")


@cli.group()
def pacs() -> None:
    """Manage the PACS that PACS jobs (source_type WADO) retrieve studies from."""


@pacs.command("add")
@click.argument("name")
@click.option("--dicomweb", metavar="URL", help="DICOMweb base URL (QIDO-RS and WADO-RS).")
@click.option("--dimse", metavar="HOST:PORT", help="DIMSE node (C-FIND, C-GET or C-MOVE).")
@click.option("--called-aet", help="AE title of the PACS (DIMSE).")
@click.option("--calling-aet", help="AE title of this server (DIMSE; default ANONAPI).")
@click.option(
    "--retrieve",
    type=click.Choice(["get", "move"]),
    default="get",
    show_default=True,
    help="DIMSE: C-GET, or C-MOVE to the calling AE title.",
)
@click.option("--move-port", type=click.IntRange(1, 65535), help="C-MOVE: port workers receive on.")
@click.option("--timeout", type=float, default=30.0, show_default=True, help="Seconds.")
@click.option("--default", "default", is_flag=True, help="Make it the PACS IDC_WADO means.")
@_home_option
def pacs_add(
    name: str,
    dicomweb: str | None,
    dimse: str | None,
    called_aet: str | None,
    calling_aet: str | None,
    retrieve: str,
    move_port: int | None,
    timeout: float,
    default: bool,
    home: Path | None,
) -> None:
    """Add or replace the PACS NAME (the first one added is the default)."""
    from anonapi_server.admin import add_pacs, list_pacs
    from anonapi_server.pacs.config import new_node

    node = new_node(
        name,
        dicomweb=dicomweb,
        dimse=dimse,
        called_aet=called_aet,
        calling_aet=calling_aet,
        retrieve=retrieve,
        move_port=move_port,
        timeout=timeout,
    )
    server_home = _home(home)
    add_pacs(server_home, node, default=default)
    added = next(n for n in list_pacs(server_home) if n.name == name)
    click.echo(f"Added PACS {added.describe()}")


@pacs.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_home_option
def pacs_list(as_json: bool, home: Path | None) -> None:
    """List the PACS this server knows; IDC_WADO means the default one."""
    import json
    from dataclasses import asdict

    from anonapi_server.admin import list_pacs

    known = list_pacs(_home(home))
    if as_json:
        click.echo(json.dumps([asdict(n) for n in known], indent=2))
        return
    if not known:
        click.echo("No PACS configured; add one with 'anon-server pacs add NAME ...'")
    for node in known:
        click.echo(node.describe())


@pacs.command("remove")
@click.argument("name")
@_home_option
def pacs_remove(name: str, home: Path | None) -> None:
    """Remove the PACS NAME (jobs that name it then end in ERROR)."""
    from anonapi_server.admin import remove_pacs

    remove_pacs(_home(home), name)
    click.echo(f"Removed PACS {name}")
