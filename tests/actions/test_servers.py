"""check_servers pings all known servers at once and keeps each failure's cause."""

from __future__ import annotations

import time

from anonapi_core.actions.servers import check_servers
from anonapi_core.settings import Settings


def test_check_servers_reports_each_server_with_latency_or_cause(settings: Settings) -> None:
    checks = {c.server.name: c for c in check_servers(settings)}

    assert checks["idle"].ok and checks["idle"].active and checks["idle"].latency_s is not None
    assert not checks["dead"].ok and not checks["dead"].active
    assert "connection refused" in checks["dead"].error


def test_check_servers_runs_concurrently(settings: Settings) -> None:
    # Two unroutable servers: checked one after the other they would take two timeouts.
    settings.timeout = 0.5
    settings.servers.update({"slow1": "http://10.255.255.1:81", "slow2": "http://10.255.255.1:82"})

    started = time.perf_counter()
    checks = check_servers(settings)
    elapsed = time.perf_counter() - started

    assert sum(not c.ok for c in checks) == 3
    assert elapsed < 0.95


def test_check_servers_without_servers_is_empty() -> None:
    assert check_servers(Settings()) == []
