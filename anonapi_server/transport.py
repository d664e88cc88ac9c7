"""HTTP or HTTPS: what the server may listen with, decided from the address it listens on.

Every request carries its user's token in a header and job replies name shares and folders. On
the loopback interface only this machine can listen in; anywhere else plain HTTP hands both to
whoever shares the network. So beyond loopback the server needs a certificate, or an explicit
`--insecure-http`, which is repeated as a warning at every start.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anonapi_server.config import ConfigError

LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


@dataclass(frozen=True)
class Transport:
    """How to serve: the URL scheme, uvicorn's TLS options, and a warning to print, if any."""

    scheme: str
    options: dict[str, Any] = field(default_factory=dict)
    warning: str | None = None


def is_loopback(host: str) -> bool:
    name = host.strip().strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def transport_for(
    host: str, cert: Path | None, key: Path | None, *, insecure_http: bool
) -> Transport:
    """The transport for listening on `host`; ConfigError with the fix when it is not allowed."""
    if (cert is None) != (key is None):
        raise ConfigError("Give both --tls-cert and --tls-key (the certificate and its key)")
    if cert is not None and key is not None:
        for option, path in (("--tls-cert", cert), ("--tls-key", key)):
            if not path.is_file():
                raise ConfigError(f"{option} {path} is not a file")
        return Transport("https", {"ssl_certfile": str(cert), "ssl_keyfile": str(key)})
    if is_loopback(host):
        return Transport("http")
    if not insecure_http:
        raise ConfigError(
            f"Listening on {host} reaches beyond this machine: serve HTTPS with --tls-cert and "
            "--tls-key, or accept plain HTTP with --insecure-http"
        )
    return Transport(
        "http",
        warning=f"serving plain HTTP on {host}: tokens and job details can be read on the network",
    )
