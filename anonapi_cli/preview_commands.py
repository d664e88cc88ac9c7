"""`anon preview FILE`: what de-identification will do to one file, element by element."""

from __future__ import annotations

from pathlib import Path

import click

from anonapi_cli.output import echo_json, json_option, table


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--project", help="Use this project's options (read from the embedded server).")
@click.option(
    "--option",
    "options",
    multiple=True,
    help="A de-identification option to apply, e.g. retain_full_dates; can be repeated.",
)
@click.option(
    "--server-home",
    type=click.Path(file_okay=False, path_type=Path),
    help="Embedded server home to read --project from (default: $ANON_SERVER_HOME).",
)
@click.option("--changed", is_flag=True, help="Show only elements that change.")
@json_option
def preview(
    file: Path,
    project: str | None,
    options: tuple[str, ...],
    server_home: Path | None,
    changed: bool,
    as_json: bool,
) -> None:
    """Show what de-identification does to FILE, element by element.

    Each element before and after, the rule behind it, and whether the file would be
    quarantined. Uses this program's embedded engine: another server's profile may differ.
    """
    # The engine lives with the server; only this command needs it (and pydicom).
    from anonapi_server.deid.preview import preview_file

    chosen = frozenset(options) | _project_options(project, server_home)
    try:
        result = preview_file(file, project=project or "(no project)", options=chosen)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--option") from None
    rows = [r for r in result.rows if not changed or r.before != r.after]
    if as_json:
        data = result.to_dict()
        data["rows"] = [r.__dict__ for r in rows]
        echo_json(data)
        return
    opts = ", ".join(result.options) or "none"
    click.echo(f"Preview of {file.name}, project {result.project} (options: {opts})")
    if result.verdict == "written":
        click.echo("Verdict: would be de-identified and written")
    else:
        click.echo(f"Verdict: would be {result.verdict.upper()}: {result.reason}")
    if rows:
        click.echo(
            table(
                ["element", "name", "before", "after", "rule"],
                [[r.path, r.keyword, r.before, r.after, r.rule] for r in rows],
            )
        )
    click.echo(f"Note: {result.note}")


def _project_options(project: str | None, home: Path | None) -> frozenset[str]:
    """The project's options on the embedded server; a clear error when it cannot tell."""
    if project is None:
        return frozenset()
    from anonapi_server.config import ConfigError
    from anonapi_server.deid.preview import project_options

    try:
        found = project_options(home, project)
    except ConfigError as e:
        raise click.ClickException(
            f"Cannot read project '{project}': {e}; or give its options with --option"
        ) from None
    if found is None:
        raise click.ClickException(f"No project '{project}' on the embedded server")
    return found
