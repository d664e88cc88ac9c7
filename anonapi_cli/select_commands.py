"""`anon select ...`: the file selection (`fileselection.txt`) of the current folder."""

from __future__ import annotations

from pathlib import Path

import click

from anonapi_cli.context import CliContext, pass_cli
from anonapi_cli.output import counted, echo_json, json_option
from anonapi_cli.prompts import confirm_or_stop, yes_option


@click.group()
def select() -> None:
    """Select files for a single anonymization job."""


def _selection_file(cli_ctx: CliContext) -> Path:
    from anonapi_core.selection import SELECTION_FILE_NAME

    path = cli_ctx.cwd / SELECTION_FILE_NAME
    if not path.is_file():
        raise click.ClickException(f"There is no file selection in {cli_ctx.cwd}")
    return path


@select.command()
@json_option
@pass_cli
def status(cli_ctx: CliContext, as_json: bool) -> None:
    """Show how many files the selection in the current folder holds."""
    from anonapi_core.selection import load_selection

    path = _selection_file(cli_ctx)
    selection = load_selection(path)
    if as_json:
        echo_json(
            {
                "path": str(path),
                "description": selection.description,
                "id": selection.id,
                "files": len(selection.selected_paths),
            }
        )
        return
    click.echo(f"Selection containing {counted(len(selection.selected_paths), 'file')}:")
    click.echo(f"Description: {selection.description}")


@select.command()
@yes_option
@pass_cli
def delete(cli_ctx: CliContext, yes: bool) -> None:
    """Remove the selection file in the current folder."""
    path = _selection_file(cli_ctx)
    confirm_or_stop(f"This will delete {path}. Are you sure?", yes)
    path.unlink()
    click.echo(f"Removed file selection {path}")


@select.command()
@pass_cli
def edit(cli_ctx: CliContext) -> None:
    """Open the selection file in $VISUAL, $EDITOR or the default program."""
    from anonapi_cli.editor import open_in_editor

    open_in_editor(_selection_file(cli_ctx))


@select.command()
@click.argument("pattern")
@click.option("--recurse/--no-recurse", default=True, help="Also look in subfolders (default).")
@click.option(
    "--check-dicom/--no-check-dicom",
    default=True,
    help="Add only files that are DICOM (default), or every matching file.",
)
@click.option(
    "-e",
    "--exclude-pattern",
    multiple=True,
    help="Leave out files whose path matches this pattern; can be repeated.",
)
@json_option
@pass_cli
def add(
    cli_ctx: CliContext,
    pattern: str,
    recurse: bool,
    check_dicom: bool,
    exclude_pattern: tuple[str, ...],
    as_json: bool,
) -> None:
    """Add files matching PATTERN to the selection here.

    PATTERN is e.g. '*' or '*.dcm'. When nothing matches, nothing is written and the command
    fails.
    """
    from anonapi_cli.progress import progress_bar
    from anonapi_core.actions.selection import select_add

    with progress_bar("Finding DICOM files" if check_dicom else "Finding files") as progress:
        result = select_add(
            cli_ctx.cwd,
            pattern,
            recurse=recurse,
            check_dicom=check_dicom,
            exclude=exclude_pattern,
            progress=progress,
        )
    if as_json:
        echo_json(
            {
                "path": str(result.path),
                "found": result.found,
                "added": result.added,
                "total": result.total,
            }
        )
        return
    kind = "DICOM files" if check_dicom else "files"
    click.echo(f"Found {result.found} {kind}, {result.added} new")
    click.echo(f"selection now contains {result.total} files")
