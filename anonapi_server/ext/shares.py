r"""Extension `shares`: which of a client's UNC paths lie on a share this server serves.

A pre-flight check asks this before any job exists, so a mapping that points at a share the server
cannot read fails on the user's desk and not as one ERROR job per row. Only the share is judged
(host and share name known, path well formed); whether a folder exists below it is not revealed,
since another user's folders are none of the caller's business.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from anonapi_server.ext import EXTENSIONS, ExtCall, Extension, authenticated, error
from anonapi_server.shares import PathRefused, ShareTable, parse_unc
from anonapi_server.store import Store

NAME = "shares"
MAX_PATHS = 10_000  # a mapping of ten thousand rows; more in one call is a mistake or an attack
MAX_PATH_LENGTH = 4096


def check_paths(table: ShareTable, paths: list[str]) -> list[dict[str, object]]:
    """One result per path, in order: served or not, and why not."""
    results: list[dict[str, object]] = []
    for path in paths:
        try:
            table.local_root(parse_unc(path))
        except PathRefused as e:
            results.append({"path": path, "served": False, "reason": str(e)})
        else:
            results.append({"path": path, "served": True, "reason": None})
    return results


async def _check(request: Request, call: ExtCall) -> Response:
    try:
        body = await request.json()
    except ValueError:
        return error(400, "body", 'Send a JSON object {"paths": [...]}')
    paths = body.get("paths") if isinstance(body, dict) else None
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        return error(400, "paths", "Expected a list of UNC paths as strings")
    if len(paths) > MAX_PATHS:
        return error(400, "paths", f"At most {MAX_PATHS} paths per call, got {len(paths)}")
    if any(len(p) > MAX_PATH_LENGTH for p in paths):
        return error(400, "paths", f"A path is longer than {MAX_PATH_LENGTH} characters")
    table = ShareTable(await run_in_threadpool(call.store.shares))
    return JSONResponse({"results": check_paths(table, paths)})


def routes(store: Store) -> list[BaseRoute]:
    return [Route("/shares/check", authenticated(store, _check), methods=["POST"])]


EXTENSIONS.append(Extension(NAME, routes))
