"""`anon pseudonyms ...`: the private registry of every pseudonym you gave, across batches."""

from __future__ import annotations

from pathlib import Path

import click

from anonapi_cli.context import CliContext, pass_cli
from anonapi_cli.output import echo_json, json_option, note, table
from anonapi_cli.prompts import confirm_or_stop, yes_option


@click.group()
def pseudonyms() -> None:
    """Pseudonyms given in earlier batches (sources kept as keyed hashes)."""


@pseudonyms.command(name="list")
@click.argument("pseudonym", required=False)
@json_option
def list_command(pseudonym: str | None, as_json: bool) -> None:
    """List recorded pseudonyms (or one pseudonym's entries): batch, date, source hash."""
    from anonapi_core.actions.pseudonyms import list_pseudonyms
    from anonapi_core.pseudonym_registry import data_dir

    entries = list_pseudonyms(pseudonym)
    if as_json:
        echo_json(
            [
                {
                    "pseudonym": e.pseudonym,
                    "pseudo_name": e.pseudo_name,
                    "batch": e.batch,
                    "recorded": e.recorded.isoformat(),
                    "source_hash": e.source_hash,
                }
                for e in entries
            ]
        )
        return
    if not entries:
        click.echo(f"No pseudonyms recorded (registry in {data_dir()})")
        return
    rows = [
        [e.pseudonym, e.pseudo_name, f"{e.recorded:%Y-%m-%d}", e.batch, e.source_hash[:12]]
        for e in entries
    ]
    click.echo(table(["pseudonym", "name", "recorded", "batch", "source"], rows))


@pseudonyms.command()
@json_option
@pass_cli
def check(cli_ctx: CliContext, as_json: bool) -> None:
    """Check the mapping's pseudonyms against each other and the registry; exit 1 on errors."""
    from anonapi_cli.map_commands import mapping_path_for
    from anonapi_cli.preflight_commands import echo_report
    from anonapi_core.actions.preflight import preflight

    report = preflight(cli_ctx.settings, mapping_path_for(cli_ctx), cli_ctx.cwd, server=False)
    checks = {"registry", "two_pseudonyms", "shared_pseudonym", "duplicate_source"}
    report.findings = [f for f in report.findings if f.check in checks]
    report.notes = []
    if as_json:
        echo_json(report.to_dict())
    else:
        echo_report(report)
    if not report.ok:
        click.get_current_context().exit(1)


@pseudonyms.command()
@click.argument("pseudonym", required=False)
@click.option(
    "--batch",
    "batch_folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="Forget the entries of the batch in this folder (with PSEUDONYM: only that one).",
)
@yes_option
def forget(pseudonym: str | None, batch_folder: Path | None, yes: bool) -> None:
    """Forget a pseudonym, or a batch's pseudonyms, e.g. after its jobs were cancelled."""
    from anonapi_core.actions.preflight import batch_name
    from anonapi_core.actions.pseudonyms import forget_pseudonyms, list_pseudonyms

    if pseudonym is None and batch_folder is None:
        raise click.UsageError("Name a PSEUDONYM, a --batch folder, or both")
    batch = batch_name(batch_folder) if batch_folder is not None else None
    matching = [e for e in list_pseudonyms(pseudonym) if batch is None or e.batch == batch]
    if not matching:
        raise click.ClickException("Nothing recorded matches; nothing was forgotten")
    confirm_or_stop(f"Forget {len(matching)} registry entries?", yes)
    gone = forget_pseudonyms(pseudonym=pseudonym, folder=batch_folder)
    note(f"Forgot {gone} entries")
