"""The fields of a job as the IDIS web API sends them, and a check that needs no pydantic.

`models.JobInfo` is the wire model and decides what a valid job is. Importing pydantic and
building a model per job costs more than a status read of a thousand jobs does otherwise (about
a quarter of `anon batch status`), so a reader that only shows fields takes each job as the
plain dict the server sent when the model would take it unchanged: every core field present,
every known field exactly of a type the model declares (what JSON gives for a correct reply).
Anything else (a number sent as text, a missing field, a wrong type) goes through the model,
which converts it as it always did or raises its error naming the field. A test keeps
`FIELD_TYPES` equal to the model's declarations.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

from anonapi_core.exceptions import APIParseResponseError

# A job's fields by name, as the server sent them (or as the model dumped them).
JobRecord = Mapping[str, Any]


class JobStatus(StrEnum):
    """Status of a job on the server (reference §5.1)."""

    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"
    UPLOADED = "UPLOADED"
    DONE = "DONE"
    ERROR = "ERROR"

    @property
    def is_running(self) -> bool:
        """True while the server still works on the job (a watch keeps polling)."""
        return self in RUNNING


# The statuses of a job the server still works on; plain text compares equal to them.
RUNNING = frozenset({JobStatus.ACTIVE, JobStatus.UPLOADED})

CORE_FIELDS: tuple[str, ...] = (
    "job_id",
    "date",
    "user_name",
    "status",
    "error",
    "description",
    "project_name",
    "priority",
    "files_downloaded",
    "files_processed",
)


_NONE = type(None)
_TEXT, _NUMBER = (str, _NONE), (int, _NONE)

# Each field's types as `JobInfo` declares them (None: the field may be null).
FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "job_id": (int,),
    "date": (str,),
    "user_name": _TEXT,
    "status": (str,),
    "error": _TEXT,
    "description": _TEXT,
    "project_name": _TEXT,
    "priority": _NUMBER,
    "files_downloaded": _NUMBER,
    "files_processed": _NUMBER,
    "destination_id": _NUMBER,
    "destination_name": _TEXT,
    "destination_path": _TEXT,
    "destination_network": _TEXT,
    "destination_status": _TEXT,
    "destination_type": _TEXT,
    "source_id": _NUMBER,
    "source_instance_id": _TEXT,
    "source_status": _TEXT,
    "source_type": _TEXT,
    "source_anonymizedpatientid": _TEXT,
    "source_anonymizedpatientname": _TEXT,
    "source_pims_keyfile_id": (str, int, _NONE),
    "source_name": _TEXT,
    "source_path": _TEXT,
    "source_protocol": _NUMBER,
    "source_subject": _NUMBER,
}

# The fields of the extended replies (get_job, get_jobs_list_extended), in the original's order.
EXTENDED_FIELDS: tuple[str, ...] = tuple(name for name in FIELD_TYPES if name not in CORE_FIELDS)


def job_objects(reply: Any) -> Iterable[Any]:
    """The job objects of a reply keyed by job id (get_jobs, get_jobs_list[_extended]), in
    server order; raise APIParseResponseError when the reply is not such a mapping."""
    if not isinstance(reply, Mapping):
        raise APIParseResponseError(f"Expected jobs keyed by id, got {type(reply).__name__}")
    return reply.values()


def job_records(reply: Any) -> list[JobRecord]:
    """The jobs of a reply keyed by job id as records, without building a model for a job the
    model would take unchanged; any other job is parsed by the model (converted, or refused
    with its error) and recorded as the model holds it."""
    records: list[JobRecord] = []
    for job in job_objects(reply):
        if _as_the_model_takes_it(job):
            records.append(job)
        else:
            from anonapi_core.models import JobInfo

            records.append(JobInfo.parse(job).model_dump())
    return records


def _as_the_model_takes_it(job: Any) -> bool:
    """Whether `job` is a dict the model would take without changing a value: every core
    field present, every known field exactly of a declared type (bool is no int here)."""
    if type(job) is not dict or not all(name in job for name in CORE_FIELDS):
        return False
    types = FIELD_TYPES
    return all(type(value) in types[name] for name, value in job.items() if name in types)
