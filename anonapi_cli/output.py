"""How results look on the terminal: job tables, the status summary, server lists, JSON.

Tables keep the original's shape (tabulate's "simple" format: header, dashes, two spaces between
columns, numbers right-aligned) so people and scripts that read them keep working. `--json`
output is the machine-readable alternative. Messages that are not data go to stderr so that
stdout stays clean for `--json` and pipes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from anonapi_core.client import JobResult
    from anonapi_core.job_fields import JobRecord
    from anonapi_core.models import JobInfo


def counted(n: int, noun: str) -> str:
    """`1 job`, `2 jobs`: counts in messages agree with their noun."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


JOB_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "job_id"),
    ("date", "date"),
    ("status", "status"),
    ("down", "files_downloaded"),
    ("proc", "files_processed"),
    ("user", "user_name"),
)

# `job info` shows the core fields, then these extended ones, in the original's order (§5.2).
JOB_INFO_EXTENDED_FIELDS: tuple[str, ...] = (
    "destination_path",
    "source_type",
    "source_anonymizedpatientid",
    "source_anonymizedpatientname",
    "source_name",
    "source_path",
    "source_pims_keyfile_id",
    "source_instance_id",
)


json_option = click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
"""The `--json` flag of every command that prints data; the command gets `as_json`."""


def note(message: str) -> None:
    """A progress or context message: stderr, so stdout carries only data."""
    click.echo(message, err=True)


def echo_json(data: Any, *, lines: bool = False) -> None:
    """Print data as JSON; `lines` prints one compact document per line (for repeated output)."""
    click.echo(json.dumps(data, default=str) if lines else json.dumps(data, indent=2, default=str))


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    try:
        float(str(value))
    except ValueError:
        return False
    return True


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A table in tabulate's "simple" format; None shows as an empty cell.

    A column is right-aligned when every value in it is a number, as tabulate does, so ids
    line up unless the batch holds a non-numeric id. Built column by column with one format
    string for every line: `batch status` prints thousands of rows at each start.
    """
    columns = list(zip(*rows, strict=True)) or [() for _ in headers]
    cells = [["" if v is None else str(v) for v in column] for column in columns]
    numeric = [bool(c) and all(v is None or _is_number(v) for v in c) for c in columns]
    widths = [max([len(h) + 2, *map(len, c)]) for h, c in zip(headers, cells, strict=True)]
    line = "  ".join(
        f"{{:{'>' if num else '<'}{w}}}" for w, num in zip(widths, numeric, strict=True)
    ).format
    out = [line(*headers).rstrip(), "  ".join("-" * w for w in widths)]
    out.extend(line(*row).rstrip() for row in zip(*cells, strict=True))
    return "\n".join(out)


def job_table(jobs: Sequence[JobInfo] | Sequence[JobRecord], *, pseudonym: bool = False) -> str:
    """The job table of `server jobs`, `job list`, `batch status`, `batch show-error`; the jobs
    as models or as records (`batch status` builds no models)."""
    columns = list(JOB_COLUMNS)
    if pseudonym:
        # The original labelled the pseudo id as anon_name (bug); show the name, as labelled.
        columns.append(("anon_name", "source_anonymizedpatientname"))
    rows = [[_field(j, f) for _, f in columns] for j in jobs]
    return table([c for c, _ in columns], rows)


def _field(job: JobInfo | JobRecord, name: str) -> Any:
    """A field of a job model or record; a field a record lacks is None, as on the model."""
    return job.get(name) if isinstance(job, Mapping) else getattr(job, name)


def summary_block(counts: Mapping[str, int], total: int) -> str:
    """The `batch status` summary (reference §5.3): count and share of each status."""
    lines = [f"Summary for all {total} jobs:", "Status       count   percentage", "-" * 31]
    for status, count in counts.items():
        share = f"{100 * count / total:.1f} %" if total else "-"
        lines.append(f"{status:<12} {count:<8} {share:<8}".rstrip())
    lines += ["-" * 31, f"{'Total':<12} {total:<8} {'100%' if total else '-'}"]
    return "\n".join(lines)


def job_details(job: JobInfo) -> str:
    """All fields of `job info`, one per line, in the original's order."""
    from anonapi_core.job_fields import CORE_FIELDS

    fields = (*CORE_FIELDS, *JOB_INFO_EXTENDED_FIELDS)
    width = max(len(f) for f in fields)
    return "\n".join(
        f"{name:<{width}}  {'' if getattr(job, name) is None else getattr(job, name)}"
        for name in fields
    )


def job_json(job: JobInfo) -> dict[str, Any]:
    return job.model_dump(mode="json")


NO_SERVERS = "No servers yet; add one with: anon server add NAME URL"


def echo_servers(servers: Mapping[str, str], active: str | None, header: str) -> None:
    """`header`, then `* name url` lines, active server starred, sorted by name as the original
    shows them; a fresh install has none, and an empty list would not say what to do."""
    if not servers:
        click.echo(NO_SERVERS)
        return
    click.echo(f"{header}\n")
    width = max([10, *(len(n) for n in servers)])
    for name, url in sorted(servers.items()):
        click.echo(f"{'*' if name == active else ' '} {name:<{width}} {url}")


def report_results(results: Sequence[JobResult[object]], done: str, where: str) -> bool:
    """Print one line per job (`Reset job 3 on p01`), failures on stderr; True if all worked."""
    for result in results:
        if result.ok:
            click.echo(f"{done} job {result.job_id} on {where}")
        else:
            click.echo(f"Error: job {result.job_id} on {where}: {result.error}", err=True)
    failed = sum(not r.ok for r in results)
    if failed:
        note(f"{failed} of {counted(len(results), 'job')} failed")
    return not failed


def results_json(results: Sequence[JobResult[object]]) -> list[dict[str, Any]]:
    return [{"job_id": r.job_id, "ok": r.ok, "error": r.error} for r in results]


def shown_ids(job_ids: Sequence[str], limit: int = 20) -> str:
    """Ids for a confirmation question, shortened when there are thousands."""
    if len(job_ids) <= limit:
        return ", ".join(job_ids)
    return ", ".join(job_ids[:limit]) + f", ... ({len(job_ids) - limit} more)"
