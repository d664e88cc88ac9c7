"""The IDIS web API as an ASGI app: one endpoint per IDIS function, replies in IDIS's shapes.

Handlers are plain functions on the store, run in Starlette's thread pool because the store is
synchronous. Every user mistake becomes a 400 `{"errors": {...}}` naming the parameter; a 500 is
left only for a bug in this server.
"""

from __future__ import annotations

import logging
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
from anonapi_server.limits import (
    BODY_SECONDS,
    MAX_BODY_BYTES,
    TooLarge,
    TooSlow,
    declared_too_large,
    read_body,
    too_long,
)
from anonapi_server.metrics import metrics_routes
from anonapi_server.pacs.config import DEFAULT_SOURCE_NAME, UnknownSource, resolve
from anonapi_server.pacs.retrieve import StudyQuery
from anonapi_server.privacy import internal_error
from anonapi_server.request_params import BadRequest, Params
from anonapi_server.shares import PathRefused, ShareTable
from anonapi_server.source_paths import normalise_source, source_folder
from anonapi_server.store import Store

log = logging.getLogger(__name__)

NOT_DEFINED = "This API function does not exist; the documentation lists the ones that do"


@dataclass(frozen=True)
class Call:
    """One authenticated call: who makes it and with which parameters."""

    store: Store
    user_name: str
    params: Params
    is_admin: bool = False

    @property
    def visible_to(self) -> str | None:
        """Whose jobs this caller may see and change: its own, or everybody's (None) for admins."""
        return None if self.is_admin else self.user_name

    def share_table(self) -> ShareTable:
        return ShareTable(self.store.shares())

    def job_id(self) -> int:
        """The `job_id` parameter, with IDIS's error when it is missing."""
        job_id = self.params.integer("job_id", required=True)
        assert job_id is not None
        return job_id

    def job(self) -> dict[str, Any]:
        """The job named by `job_id`, with IDIS's errors when it is missing or unknown.

        Another user's job is reported as not existing, so that ids tell nobody what others do.
        """
        job_id = self.job_id()
        job = self.store.job(job_id, user_name=self.visible_to)
        if job is None:
            raise BadRequest("job_id", _no_such_job(job_id))
        return job

    def own_job(self) -> tuple[int, str]:
        """The `job_id` of a job this caller may change, and its owner.

        Someone else's job gets the error of an unknown job; a job of a project its owner is no
        longer a member of cannot be changed (as it could not be created) except by an admin.
        """
        job_id = self.job_id()
        found = self.store.job_ownership(job_id)
        if found is None or (found[0] != self.user_name and not self.is_admin):
            raise BadRequest("job_id", _no_such_job(job_id))
        owner, project_name = found
        if not self.is_admin:
            _checked_project(self, project_name, owner)
        return job_id, owner


def _no_such_job(job_id: int) -> str:
    return f"Job with id {job_id} does not exist"


def keyed(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """IDIS replies with jobs keyed by their id as a string, in its own order."""
    return {str(row["job_id"]): row for row in rows}


def get_jobs(call: Call) -> dict:
    return keyed(call.store.latest_jobs(100, user_name=call.visible_to))


def get_job(call: Call) -> dict:
    return call.job()


def get_jobs_list(call: Call) -> dict:
    ids = call.params.job_ids()
    return keyed(call.store.jobs_by_id(ids, extended=False, user_name=call.visible_to))


def get_jobs_list_extended(call: Call) -> dict:
    ids = call.params.job_ids()
    return keyed(call.store.jobs_by_id(ids, extended=True, user_name=call.visible_to))


def _checked_path(table: ShareTable, name: str, value: str) -> str:
    try:
        if name == "source_path":
            return normalise_source(table, value)
        return table.check(value)
    except PathRefused as e:
        raise BadRequest(name, str(e)) from e


def _checked_project(call: Call, project_name: str, member: str) -> str:
    """`project_name` when it exists and `member` (who owns the job) belongs to it."""
    if call.store.project(project_name) is None:
        known = ", ".join(call.store.project_names()) or "none"
        raise BadRequest("project_name", f"Unknown project_name {project_name} (known: {known})")
    if not call.store.user_in_project(member, project_name):
        raise BadRequest(
            "AnonymizeInputException",
            f"given user_name `{member}` is not connected to given project_name {project_name}",
        )
    return project_name


def _checked_instance_id(value: str) -> str:
    try:
        StudyQuery.parse(value)
    except ValueError as e:
        raise BadRequest("source_instance_id", str(e)) from e
    return value


def _checked_source_name(store: Store, value: str | None) -> str:
    """IDC_WADO (the original's only name: the default PACS) or the name of a known PACS.

    IDC_WADO is accepted also while no PACS is configured: the job then ends in ERROR saying
    how to add one, as the original's clients expect a created job for every mapping row.
    """
    name = value or DEFAULT_SOURCE_NAME
    if name.upper() == DEFAULT_SOURCE_NAME:
        return DEFAULT_SOURCE_NAME
    try:
        return resolve(store, name).name
    except UnknownSource as e:
        raise BadRequest("source_name", str(e)) from e


def create_job(call: Call) -> dict:
    p = call.params
    table = call.share_table()
    project_name = _checked_project(call, p.required("project_name"), call.user_name)
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
        values["source_instance_id"] = _checked_instance_id(p.required("source_instance_id"))
        values["source_name"] = _checked_source_name(call.store, p.text("source_name"))
    else:
        raise BadRequest("source_type", f"Unknown source_type {source_type}; use PATH or WADO")
    values["source_type"] = source_type
    _check_destination_outside_source(table, values.get("source_path"), values["destination_path"])
    return call.store.create_job(values)


def _check_destination_outside_source(
    table: ShareTable, source_path: str | None, destination_path: str | None
) -> None:
    """Output written inside the source would be read back as source by the next run, and a
    job's output folder could take the place of a source folder. Compared as local folders,
    links resolved, so two shares naming the same folder are seen as one."""
    if not source_path or not destination_path:
        return
    try:
        source = source_folder(table, source_path)
    except PathRefused as e:
        raise BadRequest("source_path", str(e)) from e
    try:
        target = table.resolve(destination_path)
    except PathRefused as e:
        raise BadRequest("destination_path", str(e)) from e
    if target == source or target.is_relative_to(source):
        raise BadRequest(
            "destination_path",
            f"{destination_path} is the source folder or inside it; each run would read its "
            "earlier output again. Choose a destination outside the source",
        )


def cancel_job(call: Call) -> dict:
    job_id, _ = call.own_job()
    call.store.modify_job(job_id, {"status": JobStatus.INACTIVE.value}, restart=True)
    return call.job()


# modify_job: parameter -> (column, kind). `status` is handled on its own (it may restart a job).
# The job's outcome (error, file counters) is the server's to write, never a client's.
_MODIFIABLE: dict[str, tuple[str, str]] = {
    "description": ("description", "text"),
    "priority": ("priority", "int"),
    "source_ignore_opt_out": ("source_ignore_opt_out", "bool"),
    "source_ignore_opt_out_reason": ("source_ignore_opt_out_reason", "text"),
    "source_path": ("source_path", "path"),
    "destination_path": ("destination_path", "path"),
    "source_instance_id": ("source_instance_id", "instance"),
    "source_anonymizedpatientid": ("source_anonymizedpatientid", "text"),
    "source_anonymizedpatientname": ("source_anonymizedpatientname", "text"),
    "anonymizedpatientid": ("source_anonymizedpatientid", "text"),
    "anonymizedpatientname": ("source_anonymizedpatientname", "text"),
    "source_pims_keyfile_id": ("source_pims_keyfile_id", "text"),
    "pims_keyfile_id": ("source_pims_keyfile_id", "text"),
    "project_name": ("project_name", "project"),
}
_SETTABLE_STATUS = (JobStatus.ACTIVE.value, JobStatus.INACTIVE.value)

# The original client's reset sends these with exactly these values; a new attempt starts with
# them anyway, so they are accepted and ignored. Any other value would be a forged outcome.
_RESET_VALUES = {"error": "", "files_downloaded": "0", "files_processed": "0"}


def modify_job(call: Call) -> dict:
    job_id, owner = call.own_job()
    _check_reset_values(call.params)
    changes = _field_changes(call, owner)
    status = _status_change(call.params)
    if status is not None:
        changes["status"] = status
    if "source_path" in changes or "destination_path" in changes:
        job = call.store.job(job_id)
        assert job is not None  # own_job found it
        _check_destination_outside_source(
            call.share_table(),
            changes.get("source_path", job["source_path"]),
            changes.get("destination_path", job["destination_path"]),
        )
    if changes:
        # A status change restarts the job: the attempt running now loses its claim.
        call.store.modify_job(job_id, changes, restart=status is not None)
    return call.job()


def _field_changes(call: Call, owner: str) -> dict[str, Any]:
    """Column values for the fields given, each parsed and checked as its kind demands."""
    p = call.params
    accepted = {*_MODIFIABLE, *_RESET_VALUES, "job_id", "user_name", "status"}
    unknown = sorted(set(p.values) - accepted)
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
            changes[column] = _checked_project(call, p.required(name), owner)
        elif kind == "instance":
            changes[column] = _checked_instance_id(p.required(name))
        else:
            changes[column] = p.text(name)
    return changes


def _check_reset_values(p: Params) -> None:
    for name, reset in _RESET_VALUES.items():
        given = p.text(name)
        if given is not None and given.strip() != reset:
            raise BadRequest(
                name, f"{name} is set by the server; a reset (status=ACTIVE) clears it"
            )


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


def _errors(status: int, field: str, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"errors": {field: message}}, status_code=status, headers=headers)


def _token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "token" and token.strip() else None


ASK_FOR_CREDENTIALS = "Send user_name and the header 'Authorization: Token <token>'"
WRONG_CREDENTIALS = "Unknown user or wrong token"


async def _parameters(request: Request) -> Params | JSONResponse:
    """The request's parameters, or the reply refusing a body too large, too slow or malformed.

    A refused body's connection is closed: the client may still be sending it.
    """
    close = {"connection": "close"}
    if declared_too_large(request):
        return _errors(413, "body", f"The request body exceeds {MAX_BODY_BYTES} bytes", **close)
    try:
        params = Params.parse(request.url.query, await read_body(request))
    except TooLarge:
        return _errors(413, "body", f"The request body exceeds {MAX_BODY_BYTES} bytes", **close)
    except TooSlow:
        return _errors(408, "body", f"The request body took over {BODY_SECONDS:g} s", **close)
    except BadRequest as e:
        return JSONResponse({"errors": e.errors}, status_code=400)
    oversized = too_long(params.values)
    if oversized:
        name, limit = oversized
        return _errors(400, name, f"{name} is longer than {limit} characters")
    return params


# What can leave a job for the workers: a new one, or one set ACTIVE again.
_MAKES_WORK = frozenset({"create_job", "modify_job"})


def create_app(
    store: Store,
    health: Callable[[], dict[str, Any]] | None = None,
    wake: Callable[[], None] | None = None,
) -> Starlette:
    """The ASGI app over a store. Users, shares and projects are read per request.

    `health` reports the state of the worker processes in the root document, so that a client
    checking the server sees when jobs are not being run. `wake` tells this server's idle
    workers that a job may be waiting (after a create_job or modify_job), so a job starts at
    once rather than at the workers' next look.
    """

    def root_document() -> dict[str, Any]:
        document: dict[str, Any] = {"404": NOT_DEFINED, "documentation": DOCUMENTATION}
        if health is not None:
            document["workers"] = health()
        return document

    async def endpoint(request: Request) -> JSONResponse:
        segments = [s for s in request.url.path.split("/") if s]
        function = FUNCTIONS.get(segments[-1]) if segments else None
        if function is None:
            return JSONResponse(root_document(), 404)
        name = segments[-1]
        if request.method != function.method:
            return _errors(405, "method", f"{name} needs {function.method}, not {request.method}")
        # Who calls is settled from the header before the body is read: an unknown caller
        # cannot make the server hold its body.
        # Refused unread, a body may still be on its way: the connection closes.
        token = _token(request)
        if token is None:
            return _errors(401, "authorization", ASK_FOR_CREDENTIALS, connection="close")
        callers = await run_in_threadpool(store.token_users, token)
        if not callers:
            return _errors(401, "authorization", WRONG_CREDENTIALS, connection="close")
        params = await _parameters(request)
        if isinstance(params, JSONResponse):
            return params
        user_name = params.text("user_name")
        if not user_name:
            return _errors(401, "authorization", ASK_FOR_CREDENTIALS)
        if user_name not in callers:
            return _errors(401, "authorization", WRONG_CREDENTIALS)
        call = Call(store, user_name, params, is_admin=callers[user_name])
        try:
            reply = await run_in_threadpool(function.handler, call)
            if wake is not None and name in _MAKES_WORK:
                wake()
        except BadRequest as e:
            return JSONResponse({"errors": e.errors}, status_code=400)
        except Exception as e:  # a bug: the caller gets no detail, the log no request values
            reference = internal_error(log, f"API function {name}", e)
            return _errors(
                500,
                "server",
                f"Internal server error (reference {reference}); the server log has details",
                connection="close",
            )
        return JSONResponse(reply)

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    routes = [
        *ext_routes(store),
        *metrics_routes(store),
        Route("/", endpoint, methods=methods),
        Route("/{path:path}", endpoint, methods=methods),
    ]
    return Starlette(routes=routes)
