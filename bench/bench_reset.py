"""Reset and cancel: `anon batch reset` / `cancel` of a 500-job batch on the embedded server,
directly on loopback and through `latency_proxy` as a server 30 ms away (a hospital network).

Ours runs with `--yes`; the original has no such flag, so `y` is piped to its prompt. The server
runs no workers, so nothing else touches the jobs: before each run they are put in the state the
action changes (ERROR before a reset, ACTIVE before a cancel) directly in the server's store
(untimed), and after the last run every one must be in the state the action leaves (ACTIVE after
a reset, INACTIVE after a cancel).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from anchors import original_anon
from common import (
    Report,
    Row,
    Timing,
    at_least_faster,
    measure_command,
    ours_anon,
    parse_args,
    runs_for,
)
from live_fixtures import BatchWorld, server_with_batch

LATENCY_S = 0.030


@dataclass(frozen=True)
class Action:
    """A batch command, the job state it acts on and the state it leaves."""

    command: str
    before: str
    after: str


RESET = Action("reset", "ERROR", "ACTIVE")
CANCEL = Action("cancel", "ACTIVE", "INACTIVE")


def side_by_side(world: BatchWorld, action: Action, runs: int) -> tuple[Timing, Timing]:
    """(ours, the original's) timings of one action on every job of the batch."""
    store = world.server.store

    def prepare() -> None:
        for job_id in world.job_ids:
            error = "bench" if action.before == "ERROR" else None
            store.modify_job(int(job_id), {"status": action.before, "error": error}, restart=False)

    def check(who: str) -> None:
        statuses = set(store.job_statuses([int(j) for j in world.job_ids]).values())
        if statuses != {action.after}:
            raise RuntimeError(f"after {who}'s {action.command} the jobs are {sorted(statuses)}")

    anchor = measure_command(
        original_anon() + ["batch", action.command],
        runs,
        cwd=world.folder,
        env=world.homes.original_env(),
        stdin="y\n",
        setup=prepare,
    )
    check("the original")
    ours = measure_command(
        ours_anon() + ["batch", action.command, "--yes"],
        runs,
        cwd=world.folder,
        env=world.homes.our_env(),
        setup=prepare,
    )
    check("our")
    return ours, anchor


def main() -> None:
    args = parse_args(__doc__)
    runs = runs_for(args.quick)
    jobs = 20 if args.quick else 500
    report = Report(
        f"Reset and cancel {jobs:,} jobs",
        f"`anon batch reset` / `cancel` of a {jobs:,}-job batch; whole process, {runs} runs "
        "after one warm-up; both CLIs talk to the same embedded server, directly on loopback "
        f"or through `latency_proxy.py` adding {LATENCY_S * 1000:.0f} ms to every response and "
        "to every new connection (a round trip of that much).",
    )
    report.notes.append(
        "Ours sends up to 8 requests at once over kept-alive connections "
        "(`AnonClient.for_each`); the original sends one at a time, each on a new connection."
    )
    target = at_least_faster(5)
    for latency_s, where in ((0.0, "loopback"), (LATENCY_S, f"{LATENCY_S * 1000:.0f} ms away")):
        with (
            tempfile.TemporaryDirectory(prefix="bench-reset-") as tmp,
            server_with_batch(Path(tmp), jobs, latency_s=latency_s) as world,
        ):
            actions = (RESET,) if latency_s == 0 else (RESET, CANCEL)
            for action in actions:
                ours, anchor = side_by_side(world, action, runs)
                case = f"`anon batch {action.command} --yes` / original (`echo y`), {where}"
                report.rows.append(Row(case, ours, anchor, "original", target))
    print(report.render())


if __name__ == "__main__":
    main()
