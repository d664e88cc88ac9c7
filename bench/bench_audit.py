"""Audit records: what writing down observed statuses adds to a poll, and opening a job's history.

Every poll of a batch (`anon batch status`, the dashboard's tick) compares the jobs' statuses with
the last ones recorded beside the batch and appends the changes. Baseline, in the same run: what
every poll does anyway with the server's reply, validating the jobs into wire models. A job's
history is read from record files filled to the size years of use leave them at.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from common import (
    Report,
    Row,
    at_most_ratio,
    at_most_seconds,
    measure,
    parse_args,
    runs_for,
)

from anonapi_core import status_history
from anonapi_core.action_log import ActionEntry, JobOutcome, action_log
from anonapi_core.actions.batch import BatchStatus, record_seen_statuses
from anonapi_core.batch import JobBatch
from anonapi_core.job_origins import JobOrigin, record_origins
from anonapi_core.models import JobInfo, Server
from anonapi_core.record_file import append_records
from anonapi_core.timeline import job_timeline
from anonapi_server.demo import sample_jobs

CHANGES_PER_JOB = 5
JOBS_PER_RESET = 500


def main() -> None:
    args = parse_args(__doc__)
    runs = runs_for(args.quick)
    count = 500 if args.quick else 10_000
    jobs = sample_jobs(count)
    replies = [job.model_dump() for job in jobs]
    polled = BatchStatus(
        JobBatch([str(j.job_id) for j in jobs], Server(name="p", url="")), replies, []
    )
    report = Report(
        f"Audit records of a {count:,}-job batch",
        f"In-process, {runs} runs after one warm-up. Baseline: validating the poll's {count:,} "
        "jobs into wire models, which every poll does.",
    )
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as tmp:
        folder = Path(tmp)
        baseline = measure(lambda: [JobInfo.model_validate(r) for r in replies], runs, warmup=1)
        record_seen_statuses(folder, polled)
        steady = measure(lambda: record_seen_statuses(folder, polled), runs, warmup=1)
        report.rows.append(
            Row("poll, no status changed", steady, baseline, "model validation", at_most_ratio(0.1))
        )

        def forget() -> None:
            status_history.statuses_file(folder).unlink(missing_ok=True)
            status_history._last_seen.clear()

        first = measure(lambda: record_seen_statuses(folder, polled), runs, setup=forget, warmup=1)
        report.rows.append(
            Row("first poll: every job recorded", first, baseline, "model validation")
        )
        _fill(folder, jobs, resets=count // 100)
        sizes = sum(p.stat().st_size for p in folder.iterdir()) / 1e6
        one = str(jobs[count // 2].job_id)
        history = measure(lambda: job_timeline(folder, one), runs, warmup=1)
        report.rows.append(
            Row(
                "one job's history",
                history,
                target=at_most_seconds(0.25),
                note=f"{sizes:.1f} MB of records, {len(job_timeline(folder, one).events)} events",
            )
        )
    print(report.render())


def _fill(folder: Path, jobs: list[JobInfo], resets: int) -> None:
    """Records as a long-lived batch has them: every job's origin, CHANGES_PER_JOB status
    changes each, `resets` resets of JOBS_PER_RESET jobs."""
    time = "2026-12-07T08:00:00.000+00:00"
    ids = [str(job.job_id) for job in jobs]
    record_origins(folder, [JobOrigin(i, "z123456", time, "anon_mapping.csv", 9) for i in ids])
    names = ["ACTIVE", "ERROR"]
    append_records(
        status_history.statuses_file(folder),
        [
            {"job_id": i, "status": names[n % 2], "time": time}
            for n in range(CHANGES_PER_JOB)
            for i in ids
        ],
        max_bytes=status_history.MAX_BYTES,
    )
    entry = ActionEntry(time, "z123456", "reset", "p01", ())
    for r in range(resets):
        chosen = ids[(r * JOBS_PER_RESET) % len(ids) :][:JOBS_PER_RESET]
        outcomes = tuple(JobOutcome(i, True) for i in chosen)
        append_records(
            action_log(folder),
            [ActionEntry(entry.time, entry.user, entry.action, entry.server, outcomes).to_record()],
            max_bytes=4_000_000,
        )


if __name__ == "__main__":
    main()
