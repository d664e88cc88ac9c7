"""Extension `hosts`: `GET /ext/hosts`, the hosts, workers, leases and queue depth of the cluster.

The dashboard's servers screen shows it where a server offers it. Every registered user may ask:
the reply holds host and worker names and counts, and job ids only of the caller's own jobs.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from anonapi_server.ext import EXTENSIONS, ExtCall, Extension, authenticated
from anonapi_server.hosts import cluster_status
from anonapi_server.store import Store


async def _hosts(request: Request, call: ExtCall) -> Response:
    status = await run_in_threadpool(cluster_status, call.store)
    return JSONResponse(status.to_json(viewer=call.user_name))


def _routes(store: Store) -> list[BaseRoute]:
    return [Route("/hosts", authenticated(store, _hosts), methods=["GET"])]


EXTENSIONS.append(Extension("hosts", _routes))
