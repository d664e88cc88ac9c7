"""Extension `pacs-count`: how many studies and instances a PACS holds per mapping identifier.

`POST /ext/pacs/count` with `{"source_name": "IDC_WADO", "identifiers": ["accession_number:1",
"study_instance_uid:1.2.3"]}` answers `{"counts": [{"identifier", "studies", "instances",
"error"}]}` in the order asked, so a client can check a mapping's PACS rows before it creates
jobs: 0 studies and 2 studies are both rows that would end in ERROR.
"""

from __future__ import annotations

from dataclasses import asdict
from json import JSONDecodeError

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from anonapi_server.ext import EXTENSIONS, ExtCall, Extension, authenticated, error
from anonapi_server.pacs.config import DEFAULT_SOURCE_NAME, UnknownSource, resolve
from anonapi_server.store import Store

MAX_IDENTIFIERS = 1000  # one request stays bounded in time and memory; a client sends chunks


async def count(request: Request, call: ExtCall) -> Response:
    try:
        body = await request.json()
    except (JSONDecodeError, UnicodeDecodeError):
        return error(400, "body", "Send a JSON object with source_name and identifiers")
    if not isinstance(body, dict):
        return error(400, "body", "Send a JSON object with source_name and identifiers")
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

    counts = await run_in_threadpool(count_studies, node, identifiers)
    return JSONResponse({"counts": [asdict(c) for c in counts]})


def routes(store: Store) -> list[BaseRoute]:
    return [Route("/pacs/count", authenticated(store, count), methods=["POST"])]


EXTENSIONS.append(Extension("pacs-count", routes))
