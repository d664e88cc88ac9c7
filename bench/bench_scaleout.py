"""Scale-out: jobs/s and files/s with 1, 2 and 4 worker processes on SQLite and PostgreSQL, and
the latency of a claim when 4 processes claim from one queue at once.

Each store gets one worker host (`run_worker_host`, the code behind `anon-server worker`) per
worker count, started before the clock runs; a run then creates the same jobs (each a study of
small images) and is timed until every job is DONE. The anchor of each row is the same store with
one worker, so the ratio column is how the time shrinks (or not) as workers are added.
"""

from __future__ import annotations

import multiprocessing
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from common import Report, Row, Timing, parse_args, runs_for

from anonapi_server.admin import init_home
from anonapi_server.config import ServerHome
from anonapi_server.pg_cluster import Cluster, ClusterUnavailable, throwaway_cluster
from anonapi_server.runner import run_worker_host
from anonapi_server.sample_studies import write_study
from anonapi_server.store import Store

PROJECT = "Wetenschap-Algemeen"
CONTENDERS = 4
CLAIM_LEASE = 3600.0  # nobody finishes these claims: no lease may run out while the queue drains


def new_home(folder: Path, database: str | None, files: int) -> tuple[ServerHome, str]:
    """A home on the database (None: its own SQLite file) with one study; the study's UNC."""
    home = ServerHome(folder)
    init_home(home, database=database, lease_seconds=30)
    write_study(
        home.default_share_root / "in" / "s",
        patient_id="P1",
        patient_name="Doe^John",
        n_files=files,
        rows=16,
        columns=16,
    )
    return home, "\\\\localhost\\data\\in\\s"


def create_jobs(store: Store, count: int, source: str) -> list[int]:
    values = {
        "user_name": "bench",
        "project_name": PROJECT,
        "source_type": "PATH",
        "source_path": source,
        "destination_path": "\\\\localhost\\data\\out",
        "source_anonymizedpatientid": "PSEUDO",
    }
    return [store.create_job(values)["job_id"] for _ in range(count)]


@contextmanager
def worker_host(home: ServerHome, store: Store, workers: int) -> Iterator[None]:
    """A running worker host whose workers have all reported (so start-up is not timed)."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run_worker_host, args=(home,), kwargs={"workers": workers, "stop": stop}
    )
    thread.start()
    try:
        deadline = time.monotonic() + 120
        while len(store.heartbeats()[1]) < workers:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError(f"{workers} worker(s) did not start")
            time.sleep(0.1)
        yield
    finally:
        stop.set()
        thread.join(60)


def timed_batch(store: Store, jobs: int, source: str) -> float:
    started = time.perf_counter()
    job_ids = create_jobs(store, jobs, source)
    deadline = time.monotonic() + 600
    while True:
        statuses = set(store.job_statuses(job_ids).values())
        if statuses <= {"DONE", "ERROR"}:
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"jobs not finished: {statuses}")
        time.sleep(0.02)
    if statuses != {"DONE"}:
        raise RuntimeError(f"jobs ended {sorted(statuses)}")
    return time.perf_counter() - started


def throughput_rows(
    label: str, database: str | None, tmp: Path, jobs: int, files: int, runs: int, counts: tuple
) -> list[Row]:
    rows: list[Row] = []
    one: Timing | None = None
    for workers in counts:
        home, source = new_home(tmp / f"{label}-{workers}", database, files)
        store = Store(home.load_config().database_url)
        try:
            with worker_host(home, store, workers):
                timing = Timing(tuple(timed_batch(store, jobs, source) for _ in range(runs)))
        finally:
            store.close()
        one = one or timing
        rate = jobs / timing.median
        rows.append(
            Row(
                f"{label}: {jobs} jobs × {files} files, {workers} worker(s)",
                timing,
                one if workers != counts[0] else None,
                f"{label}, {counts[0]} worker",
                note=f"{rate:.1f} jobs/s, {rate * files:.0f} files/s",
            )
        )
    return rows


def _claim_all(url: str, start, ready, out) -> None:  # noqa: ANN001 - multiprocessing proxies
    store = Store(url)
    store.queue_depth(0.0)  # connected before the clock runs
    ready.put(True)
    latencies = []
    start.wait()
    while True:
        began = time.perf_counter()
        claim = store.claim_job("bench", CLAIM_LEASE)
        latencies.append(time.perf_counter() - began)
        if claim is None:
            break
    store.close()
    out.put(latencies)


def claim_latency_row(label: str, url: str, jobs: int) -> Row:
    """CONTENDERS processes claim every job of one queue; the latency of each claim."""
    store = Store(url)
    store.create_schema()
    if store.project(PROJECT) is None:
        store.add_project(PROJECT)
    create_jobs(store, jobs, "\\\\localhost\\data\\in\\s")
    store.close()
    context = multiprocessing.get_context("spawn")
    start, ready, out = context.Event(), context.Queue(), context.Queue()
    processes = [
        context.Process(target=_claim_all, args=(url, start, ready, out)) for _ in range(CONTENDERS)
    ]
    for process in processes:
        process.start()
    for _ in processes:
        ready.get(timeout=120)
    began = time.perf_counter()
    start.set()
    latencies = sorted(x for _ in processes for x in out.get(timeout=300))
    took = time.perf_counter() - began
    for process in processes:
        process.join(30)
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return Row(
        f"{label}: claim latency, {CONTENDERS} processes, {jobs} jobs",
        Timing((took,)),
        note=f"p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms per claim "
        f"({len(latencies)} claims incl. the empty ones)",
    )


def main() -> None:
    args = parse_args(__doc__)
    runs = 1 if args.quick else runs_for(False) - 2
    jobs, files = (4, 2) if args.quick else (40, 10)
    counts = (1,) if args.quick else (1, 2, 4)
    claim_jobs = 40 if args.quick else 2000
    report = Report(
        "Scale-out: throughput with 1, 2, 4 workers; claim latency",
        f"{jobs} jobs of {files} small DICOM files each, created at once and timed until all are "
        f"DONE ({runs} run(s) per row, worker hosts started before the clock). Anchor: the same "
        "store with one worker. Claim latency: "
        f"{CONTENDERS} processes draining a queue of {claim_jobs} jobs.",
    )
    with tempfile.TemporaryDirectory(prefix="bench-scaleout-") as folder, ExitStack() as stack:
        tmp = Path(folder)
        report.rows += throughput_rows("SQLite", None, tmp, jobs, files, runs, counts)
        sqlite_url = f"sqlite:///{(tmp / 'claims.db').as_posix()}"
        report.rows.append(claim_latency_row("SQLite", sqlite_url, claim_jobs))
        try:
            cluster: Cluster = stack.enter_context(throwaway_cluster())
        except ClusterUnavailable as e:
            report.rows.append(Row("PostgreSQL", f"PostgreSQL not available here: {e}"))
        else:
            if not args.quick:  # the smoke run keeps to what PostgreSQL adds: its claim
                report.rows += throughput_rows(
                    "PostgreSQL", cluster.new_database(), tmp, jobs, files, runs, counts
                )
            report.rows.append(claim_latency_row("PostgreSQL", cluster.new_database(), claim_jobs))
    report.notes.append(
        "The machine has 2 cores shared with other work: more than 2 worker processes cannot "
        "add CPU, so growth past 2 workers measures contention, not capacity."
    )
    print(report.render())


if __name__ == "__main__":
    main()
