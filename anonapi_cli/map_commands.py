"""`anon map ...`: the mapping from original data to pseudonyms that jobs are created from.

Every command says which mapping file it acts on: the active mapping of the settings, else
`anon_mapping.csv` in the current folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from anonapi_cli.context import CliContext, pass_cli
from anonapi_cli.output import echo_json, json_option, note, table
from anonapi_cli.prompts import confirm_or_stop, yes_option

if TYPE_CHECKING:
    from anonapi_core.actions.mapping import AddedRow

INPUT_FILE_OPTION = click.option(
    "-f",
    "--input-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read values (and optional pseudonyms) from this xlsx, csv or txt file.",
)


@click.group(name="map")
def mapping() -> None:
    """Map original data to anonymized name, id, etc."""


def mapping_path_for(cli_ctx: CliContext) -> Path:
    """The mapping a command acts on, announced on stderr so the user sees which file changes."""
    from anonapi_core.actions.mapping import mapping_path

    path = mapping_path(cli_ctx.settings, cli_ctx.cwd)
    note(f"Using mapping {path}")
    return path


@mapping.command()
@click.option("--root-source-path", help="UNC path that relative sources are resolved against.")
@click.option("--project", help="Anonymization project of the jobs.")
@click.option("--destination-path", help="UNC path anonymized data is written to.")
@yes_option
@pass_cli
def init(
    cli_ctx: CliContext,
    root_source_path: str | None,
    project: str | None,
    destination_path: str | None,
    yes: bool,
) -> None:
    """Save an example mapping here and activate it."""
    from anonapi_core.actions.mapping import map_init
    from anonapi_core.mapping import DEFAULT_MAPPING_NAME

    target = cli_ctx.cwd / DEFAULT_MAPPING_NAME
    overwrite = False
    if target.exists():
        confirm_or_stop(f"Mapping file {target} already exists. Overwrite?", yes)
        overwrite = True
    options = {
        "root_source_path": root_source_path,
        "project": project,
        "destination_path": destination_path,
    }
    path = map_init(cli_ctx.settings, cli_ctx.cwd, overwrite=overwrite, options=options)
    click.echo(f"Initialised example mapping in {path}")
    click.echo(f"Activated mapping at {path}")


@mapping.command()
@click.argument(
    "mapping_file",
    required=False,
    type=click.Path(dir_okay=False, path_type=Path),
)
@pass_cli
def activate(cli_ctx: CliContext, mapping_file: Path | None) -> None:
    """Make a mapping (default: ./anon_mapping.csv) active."""
    from anonapi_core.actions.mapping import activate as activate_mapping
    from anonapi_core.mapping import DEFAULT_MAPPING_NAME

    path = mapping_file or cli_ctx.cwd / DEFAULT_MAPPING_NAME
    if not path.is_file():
        raise click.ClickException(f"Could not find mapping file at {path.absolute()}")
    click.echo(f"Activated mapping at {activate_mapping(cli_ctx.settings, path)}")


@mapping.command()
@json_option
@pass_cli
def status(cli_ctx: CliContext, as_json: bool) -> None:
    """Show the mapping: options, first rows, problems."""
    from anonapi_core.jobrequests import validate_jobs
    from anonapi_core.mapping import load_mapping

    path = mapping_path_for(cli_ctx)
    loaded = load_mapping(path)
    problems = [str(p) for p in validate_jobs(loaded, cli_ctx.settings.job_default_parameters)]
    if as_json:
        echo_json(
            {
                "path": str(path),
                "description": loaded.description,
                "options": loaded.options,
                "rows": loaded.rows,
                "problems": problems,
            }
        )
        return
    click.echo(f"Mapping at {path}")
    click.echo(f"Description: {loaded.description}")
    for key, value in loaded.options.items():
        click.echo(f"{key}: {value}")
    click.echo(f"Parameter grid with {len(loaded)} rows (showing at most 5):\n")
    columns = [c for c in ("source", "pseudo_id", "pseudo_name") if c in loaded.columns]
    click.echo(table(columns, [[row.get(c, "") for c in columns] for row in loaded.rows[:5]]))
    if problems:
        click.echo(f"\n{len(problems)} problems (jobs cannot be created until fixed):")
        for problem in problems:
            click.echo(f"  {problem}")


@mapping.command()
@pass_cli
def edit(cli_ctx: CliContext) -> None:
    """Open the mapping in the default editor for csv files.

    Close it before running other map commands: editors lock the file.
    """
    path = mapping_path_for(cli_ctx)
    if click.launch(str(path)) != 0:
        raise click.ClickException(f"Could not open an editor for {path}")


@mapping.command()
@yes_option
@pass_cli
def delete(cli_ctx: CliContext, yes: bool) -> None:
    """Delete the mapping file."""
    from anonapi_core.actions.mapping import delete_mapping

    path = mapping_path_for(cli_ctx)
    confirm_or_stop(f"This will delete the mapping {path}. Are you sure?", yes)
    delete_mapping(cli_ctx.settings, path)
    click.echo(f"Removed mapping at {path}")


def _print_added(added: list[AddedRow], as_json: bool, what: str) -> None:
    if as_json:
        echo_json(
            [
                {
                    "source": a.source,
                    "pseudo_name": a.pseudo_name,
                    "folder": None if a.folder is None else str(a.folder),
                    "files": a.candidates,
                    "dicom_files": a.dicom_files,
                }
                for a in added
            ]
        )
        return
    for row in added:
        if row.folder is not None:
            click.echo(
                f"Added '{row.folder}': {row.dicom_files} DICOM files of {row.candidates} "
                f"found, as {row.source} ({row.pseudo_name})"
            )
            if not row.dicom_files:
                note(f"Warning: no DICOM files in {row.folder}; its job would have nothing to do")
        else:
            click.echo(f"Added {row.source} ({row.pseudo_name})")
    click.echo(f"Done. Added {len(added)} {what} to mapping")


@mapping.command(name="add-study-folders")
@click.argument("paths", nargs=-1)
@INPUT_FILE_OPTION
@click.option(
    "--check-dicom/--no-check-dicom",
    default=True,
    help="Open each file to check it is DICOM (default), or go by file name only.",
)
@json_option
@pass_cli
def add_study_folders(
    cli_ctx: CliContext,
    paths: tuple[str, ...],
    input_file: Path | None,
    check_dicom: bool,
    as_json: bool,
) -> None:
    """Add the DICOM files of each folder as one job per folder.

    PATHS may use * wildcards: study*, *, **/raw.
    """
    from anonapi_cli.progress import progress_bar
    from anonapi_core.actions.mapping import add_study_folders as action
    from anonapi_core.actions.mapping import input_file_rows
    from anonapi_core.dicom_scan import expand_wildcards

    folders = [cli_ctx.cwd / p for p in expand_wildcards(cli_ctx.cwd, paths)]
    names: list[str | None] = [None] * len(folders)
    if input_file is not None:
        note(f"Reading folders from {input_file}")
        for row_folder, name in input_file_rows(input_file, "folder"):
            folders.append(cli_ctx.cwd / row_folder.replace("\\", "/"))
            names.append(name)
    if not folders:
        raise click.UsageError("Give folders (wildcards allowed) or --input-file")
    for folder in folders:
        if not folder.is_dir():
            raise click.BadParameter(f"folder '{folder}' does not exist", param_hint="PATHS")
    path = mapping_path_for(cli_ctx)
    with progress_bar("Finding DICOM files" if check_dicom else "Finding files") as progress:
        added = action(path, folders, check_dicom=check_dicom, pseudonyms=names, progress=progress)
    _print_added(added, as_json, "study folders")


@mapping.command(name="add-accession-numbers")
@click.argument("accession_numbers", nargs=-1)
@INPUT_FILE_OPTION
@json_option
@pass_cli
def add_accession_numbers(
    cli_ctx: CliContext,
    accession_numbers: tuple[str, ...],
    input_file: Path | None,
    as_json: bool,
) -> None:
    """Add PACS studies by accession number, one job each."""
    from anonapi_core.actions.mapping import add_accession_numbers as action
    from anonapi_core.actions.mapping import input_file_rows

    entries: list[tuple[str, str | None]] = [(n, None) for n in accession_numbers]
    if input_file is not None:
        note(f"Reading accession numbers from {input_file}")
        entries += input_file_rows(input_file, "accession_number")
    if not entries:
        raise click.UsageError("Give accession numbers or --input-file")
    path = mapping_path_for(cli_ctx)
    _print_added(action(path, entries), as_json, "accession numbers")


@mapping.command(name="add-selection")
@click.argument("selection", type=click.Path(path_type=Path))
@json_option
@pass_cli
def add_selection(cli_ctx: CliContext, selection: Path, as_json: bool) -> None:
    """Add a file selection (or its folder) as one job."""
    from anonapi_core.actions.mapping import add_selection as action

    path = mapping_path_for(cli_ctx)
    _print_added([action(path, cli_ctx.cwd / selection)], as_json, "file selection")
