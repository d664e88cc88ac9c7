"""`anon batch verify` and `anon batch report`: prove a batch complete, and hand it on."""

from __future__ import annotations

from pathlib import Path

import click

from anonapi_cli.context import CliContext, pass_cli
from anonapi_cli.output import echo_json, json_option, note, table


@click.command()
@json_option
@pass_cli
def verify(cli_ctx: CliContext, as_json: bool) -> None:
    """Check every job's file counts against what it should have had; exit 1 unless all complete.

    Expected files come from the job's file selection, its source folder (when the share is
    reachable from here; on Linux and macOS map shares with ANONAPI_SHARE_ROOTS) or the PACS.
    """
    from anonapi_core.actions.completeness import verify_batch

    result = verify_batch(cli_ctx.settings, cli_ctx.cwd)
    if as_json:
        echo_json(
            {
                "ok": result.ok,
                "jobs": [r.to_dict() for r in result.results],
                "not_found": result.not_found,
                "notes": result.notes,
            }
        )
    else:
        rows = [
            [
                r.job_id,
                r.status,
                r.expected.count,
                r.downloaded,
                r.processed,
                r.quarantined,
                r.skipped,
                r.written,
                r.summary(),
            ]
            for r in result.results
        ]
        headers = ["id", "status", "expected", "down", "proc", "quar", "skip", "output", "verdict"]
        click.echo(table(headers, rows))
        for job_id in result.not_found:
            click.echo(f"Job {job_id}: not found on the server")
        for text in result.notes:
            note(f"note: {text}")
        complete = sum(r.complete for r in result.results)
        total = len(result.results) + len(result.not_found)
        note(
            f"{complete} of {total} jobs complete, {len(result.mismatches)} mismatches, "
            f"{len(result.unfinished)} not finished"
        )
    if not result.ok:
        click.get_current_context().exit(1)


@click.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="File to write (replaced atomically if it exists).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["xlsx", "csv", "json"]),
    help="Report format; default: from the file name's extension.",
)
@pass_cli
def report(cli_ctx: CliContext, output: Path, fmt: str | None) -> None:
    """Write one row per job (status, pseudonyms, source, destination, counts, error, dates)."""
    from anonapi_core.actions.completeness import batch_report
    from anonapi_core.mapping import local_delimiter
    from anonapi_core.report import format_for

    chosen = format_for(output, fmt)
    rows = batch_report(cli_ctx.settings, cli_ctx.cwd, output, chosen, delimiter=local_delimiter())
    click.echo(f"Wrote {len(rows)} jobs to {output} ({chosen})")
