"""Wire models of the IDIS web API, shared by the client and the embedded server.

Field names and types follow what a real IDIS server sends (reference §2.4). The core fields are
required, as the original client required them; a reply missing one is a parse error with the
field named, never a KeyError.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from anonapi_core.exceptions import APIParseResponseError
from anonapi_core.job_fields import CORE_FIELDS, EXTENDED_FIELDS, JobStatus, job_objects
from anonapi_core.server_address import RemoteAnonServer, Server

__all__ = [
    "CORE_FIELDS",
    "EXTENDED_FIELDS",
    "JobInfo",
    "JobStatus",
    "RemoteAnonServer",
    "Server",
    "parse_job_list",
]


class JobInfo(BaseModel):
    """One job as the server reports it. Extended fields are None in core-only replies.

    Unknown extra fields are kept (a newer server may send more) so that nothing is lost when a
    job is shown in full.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    job_id: int
    date: str
    user_name: str | None
    status: str
    error: str | None
    description: str | None
    project_name: str | None
    priority: int | None
    files_downloaded: int | None
    files_processed: int | None

    destination_id: int | None = None
    destination_name: str | None = None
    destination_path: str | None = None
    destination_network: str | None = None
    destination_status: str | None = None
    destination_type: str | None = None
    source_id: int | None = None
    source_instance_id: str | None = None
    source_status: str | None = None
    source_type: str | None = None
    source_anonymizedpatientid: str | None = None
    source_anonymizedpatientname: str | None = None
    source_pims_keyfile_id: str | int | None = None
    source_name: str | None = None
    source_path: str | None = None
    source_protocol: int | None = None
    source_subject: int | None = None

    @property
    def job_status(self) -> JobStatus | None:
        """The status as an enum, or None for a value this client does not know."""
        try:
            return JobStatus(self.status)
        except ValueError:
            return None

    @property
    def error_text(self) -> str:
        """The error with IDIS's blank placeholder (a single space after reset) removed."""
        return (self.error or "").strip()

    @classmethod
    def parse(cls, data: Any) -> JobInfo:
        """Parse one job object; raise APIParseResponseError naming what is wrong."""
        if not isinstance(data, Mapping):
            raise APIParseResponseError(f"Expected a job object, got {type(data).__name__}")
        try:
            return cls.model_validate(data)
        except ValidationError as e:
            first = e.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "job"
            job = data.get("job_id", "?")
            raise APIParseResponseError(
                f"Job {job} in server reply: field '{where}': {first['msg']}"
            ) from e


def parse_job_list(data: Any) -> list[JobInfo]:
    """Parse a reply keyed by job id (get_jobs, get_jobs_list[_extended]) in server order."""
    return [JobInfo.parse(value) for value in job_objects(data)]
