"""Reset: `anon batch reset` of a 500-job batch on the embedded server.

Ours runs with `--yes`; the original has no such flag, so `y` is piped to its prompt. The server
runs no workers, so nothing else touches the jobs: before each run they are put in ERROR directly in
the server's store (untimed), and after the last run every one must be ACTIVE again.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from anchors import original_anon
from common import Report, Row, at_least_faster, measure_command, ours_anon, parse_args, runs_for
from live_fixtures import server_with_batch


def main() -> None:
    args = parse_args(__doc__)
    runs = runs_for(args.quick)
    jobs = 20 if args.quick else 500
    report = Report(
        f"Reset {jobs:,} jobs",
        f"`anon batch reset` of a {jobs:,}-job batch; whole process, {runs} runs after one "
        "warm-up; both CLIs talk to the same embedded server.",
    )
    target = at_least_faster(5)
    with (
        tempfile.TemporaryDirectory(prefix="bench-reset-") as tmp,
        server_with_batch(Path(tmp), jobs) as world,
    ):
        store = world.server.store

        def fail_all() -> None:
            for job_id in world.job_ids:
                store.modify_job(int(job_id), {"status": "ERROR", "error": "bench"}, restart=False)

        def check_all_reset(who: str) -> None:
            statuses = set(store.job_statuses([int(j) for j in world.job_ids]).values())
            if statuses != {"ACTIVE"}:
                raise RuntimeError(f"after {who}'s reset the jobs are {sorted(statuses)}")

        anchor = measure_command(
            original_anon() + ["batch", "reset"],
            runs,
            cwd=world.folder,
            env=world.homes.original_env(),
            stdin="y\n",
            setup=fail_all,
        )
        check_all_reset("the original")
        ours = measure_command(
            ours_anon() + ["batch", "reset", "--yes"],
            runs,
            cwd=world.folder,
            env=world.homes.our_env(),
            setup=fail_all,
        )
        check_all_reset("our")
        report.rows.append(
            Row(
                "`anon batch reset --yes` / original (`echo y`)",
                ours,
                anchor,
                "original",
                target,
            )
        )
    print(report.render())


if __name__ == "__main__":
    main()
