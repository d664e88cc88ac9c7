"""The IDIS web API as an ASGI app: one endpoint per IDIS function, replies in IDIS's shapes.

Handlers are plain functions on the store, run in Starlette's thread pool because the store is
synchronous. Every user mistake becomes a 400 `{"errors": {...}}` naming the parameter; a 500 is
left only for a bug in this server.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from anonapi_core.models import JobStatus
from anonapi_server.ext import ext_routes
from anonapi_server.metrics import metrics_routes
from anonapi_server.request_params import BadRequest, Params
from anonapi_server.shares import PathRefused, ShareTable
from anonapi_server.source_paths import normalise_source
from anonapi_server.store import Store

NOT_DEFINED = "This API function does not exist; the documentation lists the ones that do"
WADO_SOURCE = "IDC_WADO"


@dataclass(frozen=True)
class Call:
    """One authenticated call: who makes it and with which parameters."""

    store: Store
    user_name: str
    params: Params

    def share_table(self) -> ShareTable:
        return ShareTable(self.store.shares())

    def job_id(self) -> int:
        """The `job_id` parameter, with IDIS's error when it is missing."""
        job_id = self.params.integer("job_id", required=True)
        assert job_id is not None
        return job_id

    def job(self) -> dict[str, Any]:
        """The job named by `job_id`, with IDIS's errors when it is missing or unknown.

        Calls that change a job change it first and read it back with this: a change to an
        unknown id changes nothing, and the read-back gives the error, so no read is spent on
        checking that the job exists.
        """
        job_id = self.job_id()
        job = self.store.job(job_id)
        if job is None:
            raise BadRequest("job_id", f"Job with id {job_id} does not exist")
        return job


def keyed(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """IDIS replies with jobs keyed by their id as a string, in its own order."""
    return {str(row["job_id"]): row for row in rows}


def get_jobs(call: Call) -> dict:
    return keyed(call.store.latest_jobs(100))


def get_job(call: Call) -> dict:
    return call.job()


def get_jobs_list(call: Call) -> dict:
    return keyed(call.store.jobs_by_id(call.params.job_ids(), extended=False))


def get_jobs_list_extended(call: Call) -> dict:
    return keyed(call.store.jobs_by_id(call.params.job_ids(), extended=True))


def _checked_path(table: ShareTable, name: str, value: str) -> str:
    try:
        if name == "source_path":
            return normalise_source(table, value)
        return table.check(value)
    except PathRefused as e:
        raise BadRequest(name, str(e)) from e


def _checked_project(call: Call, project_name: str) -> str:
    if call.store.project(project_name) is None:
        known = ", ".join(call.store.project_names()) or "none"
        raise BadRequest("project_name", f"Unknown project_name {project_name} (known: {known})")
    if not call.store.user_in_project(call.user_name, project_name):
        raise BadRequest(
            "AnonymizeInputException",
            f"given user_name `{call.user_name}` is not connected to given project_name "
            f"{project_name}",
        )
    return project_name


def create_job(call: Call) -> dict:
    p = call.params
    table = call.share_table()
    project_name = _checked_project(call, p.required("project_name"))
    destination_type = (p.text("destination_type") or "PATH").upper()
    if destination_type != "PATH":
        raise BadRequest(
            "destination_type", f"Unknown destination_type {destination_type}; use PATH"
        )
    values: dict[str, Any] = {
        "user_name": call.user_name,
        "project_name": project_name,
        "destination_type": destination_type,
        "destination_path": _checked_path(
            table, "destination_path", p.required("destination_path")
        ),
        "description": p.text("description"),
        "priority": p.integer("priority") or 0,
        "source_anonymizedpatientid": p.text("anonymizedpatientid"),
        "source_anonymizedpatientname": p.text("anonymizedpatientname"),
        "source_pims_keyfile_id": p.text("pims_keyfile_id") or None,
        "source_sop_class_filter_list": p.text("source_sop_class_filter_list"),
        "source_ignore_opt_out": bool(p.boolean("source_ignore_opt_out")),
        "source_ignore_opt_out_reason": p.text("source_ignore_opt_out_reason"),
    }
    source_type = p.required("source_type").upper()
    if source_type == "PATH":
        values["source_path"] = _checked_path(table, "source_path", p.required("source_path"))
    elif source_type == "WADO":
        values["source_instance_id"] = p.required("source_instance_id")
        values["source_name"] = p.text("source_name") or WADO_SOURCE
    else:
        raise BadRequest("source_type", f"Unknown source_type {source_type}; use PATH or WADO")
    values["source_type"] = source_type
    return call.store.create_job(values)


def cancel_job(call: Call) -> dict:
    call.store.modify_job(call.job_id(), {"status": JobStatus.INACTIVE.value}, restart=True)
    return call.job()


# modify_job: parameter -> (column, kind). `status` is handled on its own (it may restart a job).
_MODIFIABLE: dict[str, tuple[str, str]] = {
    "error": ("error", "text"),
    "description": ("description", "text"),
    "priority": ("priority", "int"),
    "files_downloaded": ("files_downloaded", "int"),
    "files_processed": ("files_processed", "int"),
    "source_ignore_opt_out": ("source_ignore_opt_out", "bool"),
    "source_ignore_opt_out_reason": ("source_ignore_opt_out_reason", "text"),
    "source_path": ("source_path", "path"),
    "destination_path": ("destination_path", "path"),
    "source_instance_id": ("source_instance_id", "text"),
    "source_anonymizedpatientid": ("source_anonymizedpatientid", "text"),
    "source_anonymizedpatientname": ("source_anonymizedpatientname", "text"),
    "anonymizedpatientid": ("source_anonymizedpatientid", "text"),
    "anonymizedpatientname": ("source_anonymizedpatientname", "text"),
    "source_pims_keyfile_id": ("source_pims_keyfile_id", "text"),
    "pims_keyfile_id": ("source_pims_keyfile_id", "text"),
    "project_name": ("project_name", "project"),
}
_SETTABLE_STATUS = (JobStatus.ACTIVE.value, JobStatus.INACTIVE.value)


def modify_job(call: Call) -> dict:
    job_id = call.job_id()
    changes = _field_changes(call)
    status = _status_change(call.params)
    if status is not None:
        changes["status"] = status
    if changes:
        # A status change restarts the job: the attempt running now loses its claim.
        call.store.modify_job(job_id, changes, restart=status is not None)
    return call.job()


def _field_changes(call: Call) -> dict[str, Any]:
    """Column values for the fields given, each parsed and checked as its kind demands."""
    p = call.params
    unknown = sorted(set(p.values) - set(_MODIFIABLE) - {"job_id", "user_name", "status"})
    if unknown:
        raise BadRequest(
            unknown[0],
            f"Unknown job field {unknown[0]}; modify_job can change status, "
            + ", ".join(sorted(_MODIFIABLE)),
        )
    changes: dict[str, Any] = {}
    table: ShareTable | None = None
    for name, (column, kind) in _MODIFIABLE.items():
        if name not in p:
            continue
        if kind == "int":
            changes[column] = p.integer(name)
        elif kind == "bool":
            changes[column] = bool(p.boolean(name))
        elif kind == "path":
            table = table or call.share_table()
            changes[column] = _checked_path(table, name, p.required(name))
        elif kind == "project":
            changes[column] = _checked_project(call, p.required(name))
        else:
            changes[column] = p.text(name)
    return changes


def _status_change(p: Params) -> str | None:
    given = p.text("status")
    if given is None:
        return None
    status = given.strip().upper()
    if status not in _SETTABLE_STATUS:
        raise BadRequest(
            "status",
            f"status can be set to ACTIVE (run the job again) or INACTIVE (cancel it), "
            f"not '{given}'",
        )
    return status


@dataclass(frozen=True)
class Function:
    method: str
    handler: Callable[[Call], dict]
    parameters: tuple[str, ...]
    description: str


FUNCTIONS: dict[str, Function] = {
    "get_jobs": Function("GET", get_jobs, (), "The latest 100 jobs, newest first"),
    "get_job": Function("GET", get_job, ("job_id",), "One job with extended information"),
    "get_jobs_list": Function(
        "GET", get_jobs_list, ("job_ids",), "The given jobs (repeat job_ids); unknown ids omitted"
    ),
    "get_jobs_list_extended": Function(
        "GET", get_jobs_list_extended, ("job_ids",), "As get_jobs_list, extended information"
    ),
    "create_job": Function(
        "POST",
        create_job,
        (
            "source_type",
            "source_path",
            "source_name",
            "source_instance_id",
            "destination_type",
            "destination_path",
            "project_name",
            "description",
            "anonymizedpatientid",
            "anonymizedpatientname",
            "pims_keyfile_id",
            "priority",
            "source_sop_class_filter_list",
            "source_ignore_opt_out",
            "source_ignore_opt_out_reason",
        ),
        "Create a job; returns it with extended information",
    ),
    "cancel_job": Function("POST", cancel_job, ("job_id",), "Set a job to INACTIVE"),
    "modify_job": Function(
        "POST",
        modify_job,
        ("job_id", "status", *sorted(_MODIFIABLE)),
        "Change fields of a job; status=ACTIVE runs it again",
    ),
}

DOCUMENTATION = {
    "overview": "IDIS-compatible anonymization web API (anonapi-tui embedded server). "
    "Send user_name and the header 'Authorization: Token <token>' with every call; "
    "parameters are form-encoded.",
    "functions": {
        name: {"method": f.method, "parameters": list(f.parameters), "description": f.description}
        for name, f in FUNCTIONS.items()
    },
}


def _errors(status: int, field: str, message: str) -> JSONResponse:
    return JSONResponse({"errors": {field: message}}, status_code=status)


def _token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "token" and token.strip() else None


def create_app(store: Store) -> Starlette:
    """The ASGI app over a store. Users, shares and projects are read per request."""

    async def endpoint(request: Request) -> JSONResponse:
        segments = [s for s in request.url.path.split("/") if s]
        function = FUNCTIONS.get(segments[-1]) if segments else None
        if function is None:
            return JSONResponse({"404": NOT_DEFINED, "documentation": DOCUMENTATION}, 404)
        name = segments[-1]
        if request.method != function.method:
            return _errors(405, "method", f"{name} needs {function.method}, not {request.method}")
        try:
            params = Params.parse(request.url.query, await request.body())
        except BadRequest as e:
            return JSONResponse({"errors": e.errors}, status_code=400)
        user_name = params.text("user_name")
        token = _token(request)
        if not user_name or token is None:
            return _errors(
                401, "authorization", "Send user_name and the header 'Authorization: Token <token>'"
            )
        if not await run_in_threadpool(store.check_token, user_name, token):
            return _errors(401, "authorization", f"Unknown user {user_name} or wrong token")
        try:
            reply = await run_in_threadpool(function.handler, Call(store, user_name, params))
        except BadRequest as e:
            return JSONResponse({"errors": e.errors}, status_code=400)
        return JSONResponse(reply)

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    routes = [
        *ext_routes(store),
        *metrics_routes(store),
        Route("/", endpoint, methods=methods),
        Route("/{path:path}", endpoint, methods=methods),
    ]
    return Starlette(routes=routes)
