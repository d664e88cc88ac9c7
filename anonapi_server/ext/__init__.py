"""Extensions beyond the IDIS API, under their own path prefix `/ext`, and the capability document.

A real IDIS server has none of these; the client reads `GET /ext` once and says "not available on
this server" where it gets a 404. Each extension lives in its own module of this package and is
listed in `EXTENSIONS`: its name (what the capability document announces) and its routes, relative
to `/ext`. Requests are authenticated like IDIS calls: `user_name` in the query string or form body
and the header `Authorization: Token <token>`; see `authenticated`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from anonapi_server.store import Store

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
        return await handler(request, ExtCall(store, user_name, callers[user_name]))

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
from anonapi_server.ext import hosts, pacs_count  # noqa: E402, F401
