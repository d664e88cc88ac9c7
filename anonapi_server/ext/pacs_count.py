"""Extension `pacs-count`: how many studies and instances a PACS holds per mapping identifier.

`POST /ext/pacs/count` with `{"source_name": "IDC_WADO", "identifiers": ["accession_number:1",
"study_instance_uid:1.2.3"]}` answers `{"counts": [{"identifier", "studies", "instances",
"error"}]}` in the order asked, so a client can check a mapping's PACS rows before it creates
jobs: 0 studies and 2 studies are both rows that would end in ERROR.
"""

from __future__ import annotations

from dataclasses import asdict

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from anonapi_server.ext import (
    EXTENSIONS,
    BadBody,
    ExtCall,
    Extension,
    authenticated,
    error,
    json_object,
)
from anonapi_server.pacs.config import DEFAULT_SOURCE_NAME, UnknownSource, resolve
from anonapi_server.store import Store

MAX_IDENTIFIERS = 1000  # one request stays bounded in time and memory; a client sends chunks
MAX_CONCURRENT_COUNTS = 4  # of the ~40 threads the API shares; see CountSlots


class CountSlots:
    """How many counts may query a PACS at once on this server; the rest are told to retry.

    A count holds a thread of the API's shared pool for as long as the PACS takes (up to its
    timeout per identifier): without a bound a few dozen concurrent counts would take every
    thread and stall the IDIS API for every user. Counted on the event loop, so no lock.
    """

    def __init__(self, limit: int):
        self.limit, self.busy = limit, 0


async def count(request: Request, call: ExtCall, slots: CountSlots) -> Response:
    try:
        body = await json_object(request, "source_name and identifiers")
    except BadBody as e:
        return e.reply
    identifiers = body.get("identifiers")
    if not isinstance(identifiers, list) or not all(isinstance(i, str) for i in identifiers):
        return error(400, "identifiers", "identifiers must be a list of strings")
    if len(identifiers) > MAX_IDENTIFIERS:
        return error(
            400,
            "identifiers",
            f"At most {MAX_IDENTIFIERS} identifiers per request, not {len(identifiers)}",
        )
    source_name = body.get("source_name") or DEFAULT_SOURCE_NAME
    if not isinstance(source_name, str):
        return error(400, "source_name", "source_name must be a string")
    try:
        node = await run_in_threadpool(resolve, call.store, source_name)
    except UnknownSource as e:
        return error(400, "source_name", str(e))
    from anonapi_server.pacs.retrieve import count_studies

    if slots.busy >= slots.limit:
        busy = error(429, "pacs", f"{slots.limit} PACS counts are running; try again shortly")
        busy.headers["retry-after"] = "5"
        return busy
    slots.busy += 1
    try:
        counts = await run_in_threadpool(count_studies, node, identifiers)
    finally:
        slots.busy -= 1
    return JSONResponse({"counts": [asdict(c) for c in counts]})


def routes(store: Store) -> list[BaseRoute]:
    slots = CountSlots(MAX_CONCURRENT_COUNTS)

    async def handler(request: Request, call: ExtCall) -> Response:
        return await count(request, call, slots)

    return [Route("/pacs/count", authenticated(store, handler), methods=["POST"])]


EXTENSIONS.append(Extension("pacs-count", routes))
