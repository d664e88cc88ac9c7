"""Where the user's token may go: only to servers in the user's own settings, matched by URL.

A folder's `.anonbatch` names its server by URL, and a folder can come from anyone (a colleague's
share, a download). Before, `batch status` in such a folder sent the user's token to that URL over
plain http without asking. Every client built from the settings passes `check_credentials`, so
no command can send the token anywhere else; plain http to another machine is warned about once.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Any
from urllib.parse import urlsplit

from anonapi_core.exceptions import AnonClientSettingsError
from anonapi_core.server_address import Server

log = logging.getLogger(__name__)
_warned: set[str] = set()


class NoTokenError(AnonClientSettingsError):
    """The settings hold no token (or no user name) to send."""


class UntrustedServerError(AnonClientSettingsError):
    """A server that is not in the user's settings: the token is not sent there."""


def _normalise(url: str) -> str:
    return url.strip().rstrip("/").casefold()


def is_loopback(url: str) -> bool:
    """True for `localhost` and loopback addresses: traffic that never leaves the machine."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_credentials(settings: Any, server: Server) -> None:
    """Raise unless the user's name and token may be sent to `server`; warn about plain http.

    `settings` is the user's Settings (anything with user_name, user_token and, to be checked
    against, servers).
    """
    if not settings.user_token:
        user = settings.user_name or "(no user name set)"
        raise NoTokenError(f"no token set for user {user}; run `anon settings user set-token`")
    if not settings.user_name:
        raise NoTokenError("no user name set; run `anon settings user set-username NAME`")
    servers = getattr(settings, "servers", None)
    if servers is not None and _normalise(server.url) not in {
        _normalise(url) for url in servers.values()
    }:
        raise UntrustedServerError(
            f"Not sending your token to {server.url}: it is not one of the servers in your "
            f"settings. If you trust it, add it with 'anon server add NAME {server.url}'"
        )
    warning = plain_http_warning(server.url)
    if warning and server.url not in _warned:
        _warned.add(server.url)
        log.warning(warning)


def plain_http_warning(url: str) -> str | None:
    """Why plain http to `url` is unsafe, or None for https and loopback addresses."""
    if urlsplit(url).scheme.lower() != "http" or is_loopback(url):
        return None
    return (
        f"{url} uses plain http: your token and job details cross the network unencrypted; "
        "ask for its https address"
    )
