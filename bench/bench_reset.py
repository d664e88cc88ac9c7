"""Reset: `anon batch reset` of a 500-job batch on the embedded server.

Ours runs with `--yes`; the original has no such flag, so `y` is piped to its prompt. The server
runs no workers, so a reset job stays ACTIVE and every run resets the same 500 jobs.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from anchors import original_anon
from common import Report, Row, at_least_faster, measure_command, ours_anon, parse_args, runs_for
from scratch import server_unavailable, server_with_batch


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
    why_not = server_unavailable()
    if why_not:
        report.rows.append(Row("`anon batch reset`", why_not, target=target))
    else:
        with (
            tempfile.TemporaryDirectory(prefix="bench-reset-") as tmp,
            server_with_batch(Path(tmp), jobs) as world,
        ):
            anchor = measure_command(
                original_anon() + ["batch", "reset"],
                runs,
                cwd=world.folder,
                env=world.homes.original_env(),
                stdin="y\n",
            )
            ours = measure_command(
                ours_anon() + ["batch", "reset", "--yes"],
                runs,
                cwd=world.folder,
                env=world.homes.our_env(),
            )
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
