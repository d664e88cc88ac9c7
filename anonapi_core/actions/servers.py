"""Server actions: check which of the known servers answer, and how fast."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from anonapi_core.client import AnonClient
from anonapi_core.cluster import ClusterSummary, cluster_summary
from anonapi_core.exceptions import (
    AnonAPIError,
    AnonClientSettingsError,
    APIClientAuthorizationFailedException,
)
from anonapi_core.models import Server
from anonapi_core.settings import Settings


@dataclass(frozen=True)
class ServerCheck:
    """Outcome of pinging one server; `error` keeps the cause (refused, timed out, 401 ...).

    `online` is True when the server answered but refused the user's token, None when it was not
    asked at all (no token to send), False when it did not answer.
    `cluster`: its hosts and workers, where the server offers them (the embedded server does).
    """

    server: Server
    active: bool
    ok: bool
    latency_s: float | None
    error: str | None
    online: bool | None = False
    warning: str | None = None  # answering, but e.g. its workers are down
    cluster: ClusterSummary | None = None


def known_servers(settings: Settings) -> list[Server]:
    """The servers in the settings, sorted by name as the original lists them."""
    return [Server(name=name, url=url) for name, url in sorted(settings.servers.items())]


def check_server(settings: Settings, server: Server) -> ServerCheck:
    """Ping one server with the user's credentials."""
    active = server.name == settings.active_server_name
    try:
        client = AnonClient.from_settings(settings, server)
    except AnonClientSettingsError as e:  # no token, or a server the token may not go to
        return ServerCheck(server, active, False, None, str(e), online=None)
    with client:
        try:
            latency, warning = client.check()
        except AnonAPIError as e:
            return ServerCheck(server, active, ok=False, latency_s=None, error=str(e))
        try:
            client.check_token()
        except APIClientAuthorizationFailedException:
            refused = f"it does not accept user {settings.user_name}'s token"
            return ServerCheck(server, active, False, latency, refused, online=True)
        except AnonAPIError as e:
            return ServerCheck(server, active, ok=False, latency_s=None, error=str(e))
        try:
            cluster = cluster_summary(client)
        except AnonAPIError:  # the server answers; only its extra report failed
            cluster = None
    return ServerCheck(
        server, active, True, latency, None, online=True, warning=warning, cluster=cluster
    )


def check_servers(settings: Settings) -> list[ServerCheck]:
    """Ping every known server at once, so one dead server costs one timeout, not N."""
    servers = known_servers(settings)
    if not servers:
        return []
    with ThreadPoolExecutor(max_workers=min(8, len(servers))) as pool:
        return list(pool.map(lambda s: check_server(settings, s), servers))
