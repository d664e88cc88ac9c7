"""Extensions beyond the IDIS API, under their own path prefix `/ext`, and the capability document.

A real IDIS server has none of these; the client reads `GET /ext` once and says "not available on
this server" where it gets a 404. Each extension lives in its own module of this package and is
listed in `EXTENSIONS`: its name (what the capability document announces) and its routes, relative
to `/ext`. Requests are authenticated like IDIS calls: `user_name` in the query string or form body
and the header `Authorization: Token <token>`; see `authenticated`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from anonapi_server.errors import ServerError
from anonapi_server.limits import (
    BODY_SECONDS,
    MAX_BODY_BYTES,
    TooLarge,
    TooSlow,
    declared_too_large,
    read_body,
)
from anonapi_server.privacy import internal_error
from anonapi_server.store import Store

log = logging.getLogger(__name__)

PREFIX = "/ext"
EXT_API = "anonapi-ext"
EXT_VERSION = 1

Handler = Callable[[Request, "ExtCall"], Awaitable[Response]]


@dataclass(frozen=True)
class ExtCall:
    """One authenticated extension call: the store and who makes it."""

    store: Store
    user_name: str
    is_admin: bool = False  # an admin may act on every user's jobs, others only on their own


@dataclass(frozen=True)
class Extension:
    """One named extension and its routes (paths relative to `/ext`)."""

    name: str
    routes: Callable[[Store], list[BaseRoute]] = field(repr=False)


# Modules of this package append themselves here by name: see `extensions()`.
EXTENSIONS: list[Extension] = []


def error(status: int, field_name: str, message: str) -> JSONResponse:
    """An error in IDIS's shape, so clients report extension errors like API errors."""
    return JSONResponse({"errors": {field_name: message}}, status_code=status)


class BadBody(ServerError):
    """A JSON body the server will not use; `reply` says why, in IDIS's error shape."""

    def __init__(self, reply: JSONResponse):
        super().__init__(reply.body)
        self.reply = reply


async def json_object(request: Request, what: str) -> dict[str, Any]:
    """The body as a JSON object, read under the API's body limits (size and time).

    `request.json()` would read any size for as long as the client takes, and a deeply nested
    or huge-number document makes the parser raise errors that are not JSON errors (a 500).
    Raises BadBody with the 413/408/400 reply; `what` says what the object should hold.
    """
    close = {"connection": "close"}
    too_large = f"The request body exceeds {MAX_BODY_BYTES} bytes"
    if declared_too_large(request):
        raise BadBody(JSONResponse({"errors": {"body": too_large}}, 413, headers=close))
    try:
        body = await read_body(request)
    except TooLarge as e:
        raise BadBody(JSONResponse({"errors": {"body": too_large}}, 413, headers=close)) from e
    except TooSlow as e:
        message = f"The request body took over {BODY_SECONDS:g} s"
        raise BadBody(JSONResponse({"errors": {"body": message}}, 408, headers=close)) from e
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as e:  # JSONDecodeError, bad UTF-8, too many digits
        raise BadBody(error(400, "body", f"Send a JSON object with {what}")) from e
    if not isinstance(document, dict):
        raise BadBody(error(400, "body", f"Send a JSON object with {what}"))
    return document


def authenticated(store: Store, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Wrap an extension handler: 401 unless user_name and token match a registered user."""

    async def endpoint(request: Request) -> Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        user_name = request.query_params.get("user_name", "")
        if scheme.lower() != "token" or not token.strip() or not user_name:
            return error(
                401, "authorization", "Send user_name and the header 'Authorization: Token <token>'"
            )
        callers = await run_in_threadpool(store.token_users, token.strip())
        if user_name not in callers:
            return error(401, "authorization", "Unknown user or wrong token")
        try:
            return await handler(request, ExtCall(store, user_name, callers[user_name]))
        except Exception as e:  # a bug: as in the IDIS API, no detail to the caller or the log
            reference = internal_error(log, f"extension {request.url.path}", e)
            return JSONResponse(
                {"errors": {"server": f"Internal server error (reference {reference})"}},
                status_code=500,
                headers={"connection": "close"},
            )

    return endpoint


def capability_document() -> dict[str, Any]:
    """What `GET /ext` answers: which extensions this server has."""
    return {"api": EXT_API, "version": EXT_VERSION, "extensions": [e.name for e in EXTENSIONS]}


def ext_routes(store: Store) -> list[BaseRoute]:
    """The `/ext` mount: the capability document and every extension's routes."""

    async def capabilities(request: Request, call: ExtCall) -> Response:
        return JSONResponse(capability_document())

    document = authenticated(store, capabilities)
    routes: list[BaseRoute] = [Route("/", document, methods=["GET"])]
    for extension in EXTENSIONS:
        routes += extension.routes(store)
    return [Route(PREFIX, document, methods=["GET"]), Mount(PREFIX, routes=routes)]


# Each extension module registers itself in EXTENSIONS when imported (after the names above).
from anonapi_server.ext import hosts, pacs_count, quarantine, shares  # noqa: E402, F401
