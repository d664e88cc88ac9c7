"""How `anon job quarantine` prints held files and decisions."""

from __future__ import annotations

from collections.abc import Sequence

from anonapi_cli.output import counted, table
from anonapi_core.quarantine import HeldFile


def _state(held: HeldFile) -> str:
    if held.state == "held" or not held.decided_by:
        return held.state
    return f"{held.state} by {held.decided_by} at {held.decided_at}"


def held_table(job_id: str, server_name: str, files: Sequence[HeldFile]) -> str:
    """A heading with how many are still held, then one row per file."""
    waiting = sum(1 for f in files if f.state == "held")
    heading = f"job {job_id} on {server_name}: {counted(waiting, 'file')} held back"
    if not files:
        return f"{heading} (the job held nothing back, or it has not finished)"
    rows = [[f.file_id, f.place, _state(f), f.reason] for f in files]
    hint = "\n\nDecide with: anon job quarantine ID --release FILE_ID  (or --drop FILE_ID)"
    return f"{heading}\n{table(['file id', 'output', 'state', 'why held'], rows)}" + (
        hint if waiting else ""
    )


def decided_line(job_id: str, held: HeldFile) -> str:
    where = "published as" if held.state == "released" else "never published; was to be"
    return f"Held file {held.file_id} of job {job_id} {_state(held)}: {where} {held.place}"
