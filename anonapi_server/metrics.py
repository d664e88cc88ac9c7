"""`GET /metrics`: the cluster's state in Prometheus' text format, for an operations team.

Read from the database at each scrape (the heartbeats of every host, the jobs table), so any API
host answers for the whole cluster. No authentication, as Prometheus scrapers expect: the figures
are counts and host names, nothing about a patient or a user.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from anonapi_server.hosts import cluster_status
from anonapi_server.store import Store


class ClusterCollector(Collector):
    """Turns one `cluster_status` into metric families."""

    def __init__(self, store: Store):
        self.store = store

    def collect(self) -> Iterator[Metric]:
        status = cluster_status(self.store)
        jobs = GaugeMetricFamily("anon_jobs", "Jobs by status", labels=["status"])
        for name, count in sorted(status.jobs_by_status.items()):
            jobs.add_metric([name], count)
        yield jobs
        yield GaugeMetricFamily(
            "anon_queue_depth", "Jobs waiting for a worker", value=status.queue_depth
        )
        yield GaugeMetricFamily("anon_leases", "Jobs owned by a worker now", len(status.leases))
        up = GaugeMetricFamily("anon_host_up", "1 while a host heartbeats", labels=["host", "role"])
        live = GaugeMetricFamily("anon_live_workers", "Live workers per host", labels=["host"])
        for host in status.hosts:
            up.add_metric([host["name"], host["role"]], 1 if host["alive"] else 0)
            live.add_metric([host["name"]], host["live_workers"])
        yield up
        yield live
        files: dict[str, float] = defaultdict(float)
        rate: dict[str, float] = defaultdict(float)
        claims: dict[str, tuple[int, float]] = defaultdict(lambda: (0, 0.0))
        for worker in status.workers:
            name = worker["host_name"]
            files[name] += worker["files_processed"]
            if worker["alive"]:
                rate[name] += worker["files_per_second"]
            count, seconds = claims[name]
            claims[name] = (count + worker["claims"], seconds + worker["claim_seconds"])
        done = CounterMetricFamily(
            "anon_files_processed", "Files de-identified, per host", labels=["host"]
        )
        speed = GaugeMetricFamily(
            "anon_files_per_second", "Files per second over the last heartbeat", labels=["host"]
        )
        latency = SummaryMetricFamily(
            "anon_claim_seconds", "Time a worker's claim of the next job took", labels=["host"]
        )
        for name in sorted(files):
            done.add_metric([name], files[name])
            speed.add_metric([name], rate[name])
            latency.add_metric([name], count_value=claims[name][0], sum_value=claims[name][1])
        yield done
        yield speed
        yield latency


def metrics_routes(store: Store) -> list[BaseRoute]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ClusterCollector(store))

    async def metrics(request: Request) -> Response:
        body = await run_in_threadpool(generate_latest, registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return [Route("/metrics", metrics, methods=["GET"])]
