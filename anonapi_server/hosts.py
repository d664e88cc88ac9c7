"""Heartbeats of hosts and workers, and the cluster status built from them.

Every host process (`anon-server run`, `anon-server worker`) writes its row in `hosts` every
BEAT_SECONDS and each of its worker processes its row in `workers`. A row not rewritten for
STALE_BEATS beats belongs to a host or worker that is gone (killed, machine down, network cut):
the status shows it as down, and the jobs it held are claimed again once their leases expire (the
jobs table stays the one queue; these rows only report). `anon-server status`, `GET /ext/hosts`
and `/metrics` all read `cluster_status`.
"""

from __future__ import annotations

import itertools
import logging
import os
import socket
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

from anonapi_server.store import Store

log = logging.getLogger(__name__)

BEAT_SECONDS = 5.0
STALE_BEATS = 3
FORGET_SECONDS = 24 * 3600.0  # a host silent this long is dropped from the status


_hosts_in_process = itertools.count()


def host_name() -> str:
    """A new host name for the status: the machine's name and the process id (and a number
    after the first, for tests and demos that run several hosts in one process)."""
    number = next(_hosts_in_process)
    return f"{socket.gethostname()}:{os.getpid()}" + (f"/{number}" if number else "")


def alive(last_seen: float, now: float, beat: float = BEAT_SECONDS) -> bool:
    return now - last_seen <= beat * STALE_BEATS


class HostBeat(threading.Thread):
    """Writes this host's row until stopped; removes it on a clean stop."""

    def __init__(
        self,
        store: Store,
        *,
        role: str,
        workers: int,
        beat_seconds: float = BEAT_SECONDS,
    ):
        super().__init__(daemon=True, name="anon-host-heartbeat")
        self.store, self.beat_seconds = store, beat_seconds
        self.name_in_status = host_name()
        mounts = store.mounts
        self._row = {
            "name": self.name_in_status,
            "role": role,
            "hostname": socket.gethostname(),
            "pid": os.getpid(),
            "workers": workers,
            "shares": "*" if mounts is None else ",".join(sorted(mounts)),
            "started": time.time(),
        }
        self._done = threading.Event()
        self.beat()  # visible at once, and a database that cannot be written fails the start
        store.forget_silent(time.time() - FORGET_SECONDS)

    def beat(self) -> None:
        self.store.beat_host({**self._row, "last_seen": time.time()})

    def run(self) -> None:
        while not self._done.wait(self.beat_seconds):
            try:
                self.beat()
            except Exception as e:  # the database is away (restart, network): beat again later
                log.warning("host heartbeat failed (%s); retrying", type(e).__name__)

    def stop(self) -> None:
        self._done.set()
        if self.is_alive():
            self.join()
        try:
            self.store.drop_host(self.name_in_status)
        except Exception:  # stopping anyway; the row ages out
            log.warning("could not remove this host from the status", exc_info=True)


class WorkerStats:
    """What one worker process reports in its heartbeat: claims and their latency, files done."""

    def __init__(self, store: Store, worker_id: str, host: str, beat_seconds: float = BEAT_SECONDS):
        self.store, self.worker_id, self.host = store, worker_id, host
        self.beat_seconds = beat_seconds
        self.claims = 0
        self.claim_seconds = 0.0
        self.files_processed = 0
        self.job_id: int | None = None
        self._last_beat = 0.0
        self._files_at_last_beat = 0

    def claimed(self, seconds: float, job_id: int | None) -> None:
        self.claims += 1
        self.claim_seconds += seconds
        self.job_id = job_id
        self.maybe_beat()

    def finished(self, files: int) -> None:
        self.files_processed += files
        self.job_id = None
        self.maybe_beat()

    def maybe_beat(self, force: bool = False) -> None:
        now = time.monotonic()
        elapsed = now - self._last_beat
        if not force and elapsed < self.beat_seconds:
            return
        rate = (self.files_processed - self._files_at_last_beat) / elapsed if elapsed else 0.0
        try:
            self.store.beat_worker(
                {
                    "worker_id": self.worker_id,
                    "host_name": self.host,
                    "last_seen": time.time(),
                    "job_id": self.job_id,
                    "files_processed": self.files_processed,
                    "files_per_second": rate if self._last_beat else 0.0,
                    "claims": self.claims,
                    "claim_seconds": self.claim_seconds,
                }
            )
        except Exception as e:  # reporting must never stop a worker; the next beat tries again
            log.warning("worker heartbeat failed (%s); retrying", type(e).__name__)
            return
        self._last_beat, self._files_at_last_beat = now, self.files_processed


@dataclass(frozen=True)
class ClusterStatus:
    """Hosts, workers, leases, queue depth and jobs by status, as of `now`."""

    now: float
    hosts: list[dict[str, Any]]
    workers: list[dict[str, Any]]
    leases: list[dict[str, Any]]
    queue_depth: int
    jobs_by_status: dict[str, int]

    def to_json(self, viewer: str | None = None) -> dict[str, Any]:
        """The reply of `GET /ext/hosts`. With `viewer`, other users' job ids are left out of
        the leases (each user sees only their own jobs); the counts stay."""
        leases = []
        for lease in self.leases:
            mine = viewer is None or lease["user_name"] == viewer
            leases.append(
                {
                    "job_id": lease["job_id"] if mine else None,
                    "worker_id": lease["lease_owner"],
                    "expires_in": round(lease["lease_expires"] - self.now, 1),
                }
            )
        return {**asdict(self), "leases": leases}


def cluster_status(store: Store, now: float | None = None) -> ClusterStatus:
    now = time.time() if now is None else now
    host_rows, worker_rows = store.heartbeats()
    live_per_host: dict[str, int] = {}
    for worker in worker_rows:
        worker["alive"] = alive(worker["last_seen"], now)
        worker["seen_ago"] = round(now - worker["last_seen"], 1)
        if worker["alive"]:
            live_per_host[worker["host_name"]] = live_per_host.get(worker["host_name"], 0) + 1
    for host in host_rows:
        host["alive"] = alive(host["last_seen"], now)
        host["seen_ago"] = round(now - host["last_seen"], 1)
        host["live_workers"] = live_per_host.get(host["name"], 0) if host["alive"] else 0
    return ClusterStatus(
        now=now,
        hosts=host_rows,
        workers=worker_rows,
        leases=store.leases(now),
        queue_depth=store.queue_depth(now),
        jobs_by_status=store.jobs_by_status(),
    )


def format_status(status: ClusterStatus) -> str:
    """The text `anon-server status` prints: one line per host, lease, and the queue."""
    lines = [f"Queue: {status.queue_depth} job(s) waiting for a worker"]
    by_status = ", ".join(f"{k} {v}" for k, v in sorted(status.jobs_by_status.items()))
    lines.append(f"Jobs: {by_status or 'none'}")
    lines.append(f"Hosts ({len(status.hosts)}):")
    for host in status.hosts:
        state = "up" if host["alive"] else "DOWN"
        lines.append(
            f"  {host['name']:<30} {host['role']:<10} {state:<4} "
            f"workers {host['live_workers']}/{host['workers']}  shares {host['shares']}  "
            f"seen {host['seen_ago']:.0f} s ago"
        )
    lines.append(f"Workers ({sum(1 for w in status.workers if w['alive'])} live):")
    for worker in status.workers:
        state = "up" if worker["alive"] else "DOWN"
        job = f"job {worker['job_id']}" if worker["job_id"] is not None else "idle"
        lines.append(
            f"  {worker['worker_id']:<40} {state:<4} {job:<10} "
            f"{worker['files_processed']} files, {worker['claims']} claims"
        )
    lines.append(f"Leases ({len(status.leases)}):")
    for lease in status.leases:
        lines.append(
            f"  job {lease['job_id']:<8} {lease['lease_owner']:<40} "
            f"expires in {lease['lease_expires'] - status.now:.0f} s"
        )
    return "\n".join(lines)
