"""Demo material: generated jobs for screenshots and benchmarks, and the `anon-tui --demo` setup.

Headless (no textual): the dashboard imports it, and so can a benchmark or a notebook.
"""

from __future__ import annotations

import random

from anonapi_core.models import JobInfo, JobStatus

SAMPLE_ERRORS: tuple[str, ...] = (
    "Patient 'DEMO-OPTOUT' is on the opt-out list; set opt_out_ignore to process",
    "Burned-in annotation found in 1.2.826.0.1.3680043.8.498.1 [BurnedInAnnotation=YES]",
    "Cannot read \\\\localhost\\demo\\missing: no such folder",
)


def sample_jobs(
    count: int, *, seed: int = 7, first_id: int = 1000, user: str = "demo"
) -> list[JobInfo]:
    """`count` plausible jobs in a fixed pseudo-random mix of statuses (same seed, same jobs).

    The error texts contain brackets on purpose: a table that reads them as markup breaks.
    """
    rng = random.Random(seed)
    statuses = (
        [JobStatus.DONE] * 5
        + [JobStatus.ACTIVE] * 3
        + [JobStatus.UPLOADED, JobStatus.ERROR, JobStatus.INACTIVE]
    )
    jobs = []
    for n in range(count):
        status = rng.choice(statuses)
        files = rng.randint(20, 400)
        done = files if status in (JobStatus.DONE, JobStatus.UPLOADED) else rng.randint(0, files)
        jobs.append(
            JobInfo(
                job_id=first_id + n,
                date=f"2026-11-{1 + n % 28:02d}T{8 + n % 10:02d}:{n * 7 % 60:02d}:00",
                user_name=user,
                status=status,
                error=rng.choice(SAMPLE_ERRORS) if status == JobStatus.ERROR else None,
                description=f"Study {n % 97} [series {n % 5}]",
                project_name="Wetenschap-Algemeen",
                priority=0,
                files_downloaded=done,
                files_processed=done
                if status == JobStatus.DONE
                else max(0, done - rng.randint(0, done)),
                source_anonymizedpatientid=f"P{n:05d}",
                source_anonymizedpatientname=f"Patient{n:05d}",
            )
        )
    return jobs
