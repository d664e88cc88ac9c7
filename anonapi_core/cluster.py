"""A server's cluster at a glance (extension `hosts`): hosts, live workers, jobs waiting.

Only the embedded server offers it (`GET /ext/hosts`); for a real IDIS server there is nothing to
show, which is not an error.
"""

from __future__ import annotations

from dataclasses import dataclass

from anonapi_core.client import AnonClient
from anonapi_core.extensions import call, capabilities

EXTENSION = "hosts"


@dataclass(frozen=True)
class ClusterSummary:
    """Counts from a server's `GET /ext/hosts`."""

    hosts_up: int
    hosts: int
    live_workers: int
    workers: int
    queue_depth: int

    def text(self) -> str:
        return (
            f"{self.hosts_up}/{self.hosts} host(s) up, {self.live_workers}/{self.workers} "
            f"worker(s) live, {self.queue_depth} job(s) waiting"
        )


def cluster_summary(client: AnonClient) -> ClusterSummary | None:
    """The cluster of `client`'s server; None when the server does not offer `hosts`."""
    if EXTENSION not in capabilities(client):
        return None
    reply = call(client, EXTENSION, "GET", "hosts")
    hosts = reply.get("hosts") or []
    return ClusterSummary(
        hosts_up=sum(1 for h in hosts if h.get("alive")),
        hosts=len(hosts),
        live_workers=sum(int(h.get("live_workers") or 0) for h in hosts),
        workers=sum(int(h.get("workers") or 0) for h in hosts),
        queue_depth=int(reply.get("queue_depth") or 0),
    )
