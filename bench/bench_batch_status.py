"""Batch status: `anon batch status` on a batch of 1,000 jobs held by the embedded server.

Whole processes against the same server instance (no workers, so nothing changes between runs):
what a user waits for between pressing enter and reading the summary.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from anchors import original_anon
from common import Report, Row, at_most_ratio, measure_command, ours_anon, parse_args, runs_for
from live_fixtures import server_with_batch


def main() -> None:
    args = parse_args(__doc__)
    runs = runs_for(args.quick)
    jobs = 50 if args.quick else 1_000
    report = Report(
        f"Batch status, {jobs:,} jobs on the embedded server",
        f"`anon batch status` in a folder whose `.anonbatch` holds {jobs:,} job ids; whole "
        f"process, {runs} runs after one warm-up; both CLIs talk to the same server.",
    )
    target = at_most_ratio(0.5)
    with (
        tempfile.TemporaryDirectory(prefix="bench-status-") as tmp,
        server_with_batch(Path(tmp), jobs) as world,
    ):
        command = ["batch", "status"]
        anchor = measure_command(
            original_anon() + command, runs, cwd=world.folder, env=world.homes.original_env()
        )
        ours = measure_command(
            ours_anon() + command, runs, cwd=world.folder, env=world.homes.our_env()
        )
        report.rows.append(Row("`anon batch status`", ours, anchor, "original", target))
    print(report.render())


if __name__ == "__main__":
    main()
