"""Calls to the server extensions under `/ext` that the embedded server has and a real IDIS lacks.

A server announces its extensions in one capability document (`GET /ext`); it is read once per
server and user and kept for the life of the process, so a dashboard polling every two seconds
does not ask again. A server without the prefix (a real IDIS answers 404) has no extensions; any
call to one then raises `NotAvailable`, which the CLI and the dashboard show as the one line
"... is not available on this server" instead of failing.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from anonapi_core.client import AnonClient
from anonapi_core.exceptions import (
    APIClientAPIException,
    APIClientAuthorizationFailedException,
    APIClientError,
)

if TYPE_CHECKING:
    import httpx

EXT_API = "anonapi-ext"
PREFIX = "ext"

_known: dict[tuple[str, str], frozenset[str]] = {}
_lock = threading.Lock()


class NotAvailable(APIClientError):
    """The server has no such extension (a real IDIS server has none)."""

    def __init__(self, extension: str, server_url: str):
        super().__init__(f"{extension} is not available on this server ({server_url})")
        self.extension = extension


class Forbidden(APIClientError):
    """The server refused this user (403): the job is someone else's."""


def capabilities(client: AnonClient) -> frozenset[str]:
    """The names of the extensions `client`'s server has; empty for a plain IDIS server."""
    key = (client.server.url.rstrip("/"), client.api.username)
    with _lock:
        if key in _known:
            return _known[key]
    response = client.api.send_json("GET", PREFIX)
    if response.status_code == 404:
        names: frozenset[str] = frozenset()
    else:
        document = _reply(client, response, PREFIX)
        if not isinstance(document, dict) or document.get("api") != EXT_API:
            names = frozenset()
        else:
            names = frozenset(str(n) for n in document.get("extensions") or ())
    with _lock:
        _known[key] = names
    return names


def require(client: AnonClient, extension: str) -> None:
    """Raise NotAvailable unless the server announced `extension`."""
    if extension not in capabilities(client):
        raise NotAvailable(extension, client.server.url)


def call(client: AnonClient, extension: str, method: str, path: str, body: Any = None) -> Any:
    """Call one route of `extension` (path relative to `/ext`) and return its JSON reply."""
    require(client, extension)
    full = f"{PREFIX}/{path.lstrip('/')}"
    response = client.api.send_json(method, full, body)
    if response.status_code == 404 and not _has_errors(response):
        raise NotAvailable(extension, client.server.url)
    return _reply(client, response, full)


def _has_errors(response: httpx.Response) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and "errors" in body


def _reply(client: AnonClient, response: httpx.Response, path: str) -> Any:
    """The JSON of a 2xx reply; an error with the server's own reason otherwise."""
    code = response.status_code
    detail = client.api.error_text(response)
    if code == 401:
        raise APIClientAuthorizationFailedException(
            f"Server {client.server.url} answered 401 Unauthorized for '{path}'"
            + (f" ({detail})" if detail else "")
        )
    if code == 403:
        raise Forbidden(f"Server refused: {detail or 'not allowed'}")
    if 400 <= code < 500:
        errors = {}
        if _has_errors(response):
            errors = response.json()["errors"]
        raise APIClientAPIException(
            f"Server refused: {detail or f'HTTP {code}'}",
            api_errors=errors if isinstance(errors, dict) else None,
        )
    if code >= 300:
        raise APIClientError(
            f"Unexpected response from {client.server.url}/{path}: HTTP {code} "
            f"{response.reason_phrase}" + (f" ({detail})" if detail else "")
        )
    try:
        return response.json()
    except ValueError as e:
        raise APIClientError(f"Response from {client.server.url}/{path} was not JSON") from e
