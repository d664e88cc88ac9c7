"""Extension `quarantine`: the files a job held back, and a person's release or drop of each.

`GET /ext/jobs/{job_id}/quarantine` answers `{"files": [...]}` (file id, where it would go in the
output, why it was held, and the decision if any); `POST .../quarantine/{file_id}/release` and
`.../drop` decide and answer `{"file": {...}}`. Only the job's owner or an admin: another user's
job is reported as not existing, as in the IDIS API. What a release does is in
anonapi_server.quarantine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from anonapi_server.ext import EXTENSIONS, ExtCall, Extension, Handler, authenticated, error
from anonapi_server.quarantine import Refused, drop, release
from anonapi_server.quarantine_store import current_rows
from anonapi_server.store import Store

NAME = "quarantine"
_SHOWN = ("file_id", "series", "instance", "cause", "reason", "state", "held_at")
_DECISION = ("decided_by", "decided_at")

Decision = Callable[[Store, dict[str, Any], str, str], dict[str, Any]]


def shown(row: dict[str, Any]) -> dict[str, Any]:
    """A row as the API shows it: no hash or size of the source, nothing of other jobs."""
    return {key: row[key] for key in (*_SHOWN, *_DECISION)}


def _job(call: ExtCall, raw_id: str) -> dict[str, Any]:
    """The caller's job (any job for an admin); Refused (404) as if missing otherwise."""
    try:
        job_id = int(raw_id)
    except ValueError:
        job_id = None
    job = None
    if job_id is not None:
        job = call.store.job(job_id, user_name=None if call.is_admin else call.user_name)
    if job is None:
        raise Refused(404, "job_id", f"Job with id {raw_id} does not exist")
    return job


def _list(call: ExtCall, raw_id: str) -> dict[str, Any]:
    job = _job(call, raw_id)
    return {"files": [shown(r) for r in current_rows(call.store, job["job_id"])]}


def _decide(call: ExtCall, raw_id: str, file_id: str, decision: Decision) -> dict[str, Any]:
    job = _job(call, raw_id)
    # As for the IDIS API's changes: an owner who left the job's project may no longer decide.
    if not call.is_admin and not call.store.user_in_project(call.user_name, job["project_name"]):
        raise Refused(
            403,
            "project_name",
            f"{call.user_name} is no longer connected to project {job['project_name']}; "
            "an admin may decide on this job's held files",
        )
    return {"file": shown(decision(call.store, job, file_id, call.user_name))}


async def _listed(request: Request, call: ExtCall) -> Response:
    try:
        reply = await run_in_threadpool(_list, call, request.path_params["job_id"])
    except Refused as e:
        return error(e.status, e.field, str(e))
    return JSONResponse(reply)


def _deciding(decision: Decision) -> Handler:
    async def handler(request: Request, call: ExtCall) -> Response:
        params = request.path_params
        try:
            reply = await run_in_threadpool(
                _decide, call, params["job_id"], params["file_id"], decision
            )
        except Refused as e:
            return error(e.status, e.field, str(e))
        return JSONResponse(reply)

    return handler


def _routes(store: Store) -> list[BaseRoute]:
    files = "/jobs/{job_id}/quarantine"
    return [
        Route(files, authenticated(store, _listed), methods=["GET"]),
        *(
            Route(
                f"{files}/{{file_id}}/{name}",
                authenticated(store, _deciding(decision)),
                methods=["POST"],
            )
            for name, decision in (("release", release), ("drop", drop))
        ),
    ]


EXTENSIONS.append(Extension(NAME, _routes))
