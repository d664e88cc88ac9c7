"""Files a job's server held back (quarantined) and a person's release or drop of each.

Extension `quarantine` of the embedded server; a real IDIS server has none, and every call then
raises `extensions.NotAvailable` ("quarantine is not available on this server ..."), which the
CLI and the dashboard show as that one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from anonapi_core.client import AnonClient
from anonapi_core.exceptions import APIParseResponseError
from anonapi_core.extensions import call

EXTENSION = "quarantine"
Decision = Literal["release", "drop"]


@dataclass(frozen=True)
class HeldFile:
    """One held file as the server reports it: no source name, no patient data.

    `series`/`instance` are the folder and file name it has (or would have) in the job's output;
    `state` is held, released or dropped, with who decided and when.
    """

    file_id: str
    series: str
    instance: str
    reason: str
    state: str
    decided_by: str | None = None
    decided_at: str | None = None

    @property
    def place(self) -> str:
        return f"{self.series}\\{self.instance}"

    @classmethod
    def from_reply(cls, item: Any) -> HeldFile:
        if not isinstance(item, dict) or not isinstance(item.get("file_id"), str):
            raise APIParseResponseError(f"Not a held file: {str(item)[:200]}")
        return cls(
            file_id=item["file_id"],
            series=str(item.get("series") or ""),
            instance=str(item.get("instance") or ""),
            reason=str(item.get("reason") or ""),
            state=str(item.get("state") or "held"),
            decided_by=item.get("decided_by"),
            decided_at=item.get("decided_at"),
        )


def _job_path(job_id: str | int) -> str:
    job = str(job_id).strip()
    if not job.isdigit():
        raise APIParseResponseError(f"A job id is a number, not '{job}'")
    return f"jobs/{job}/quarantine"


def held_files(client: AnonClient, job_id: str | int) -> list[HeldFile]:
    """The files the job held back, in output order, with their decisions."""
    reply = call(client, EXTENSION, "GET", _job_path(job_id))
    files = reply.get("files") if isinstance(reply, dict) else None
    if not isinstance(files, list):
        raise APIParseResponseError("The quarantine reply holds no list 'files'")
    return [HeldFile.from_reply(item) for item in files]


def decide(client: AnonClient, job_id: str | int, file_id: str, decision: Decision) -> HeldFile:
    """Release (publish de-identified anyway) or drop one held file; returns it as decided."""
    if not file_id or "/" in file_id or not file_id.isalnum():
        raise APIParseResponseError(f"'{file_id}' is not a held file id")
    reply = call(client, EXTENSION, "POST", f"{_job_path(job_id)}/{file_id}/{decision}")
    return HeldFile.from_reply(reply.get("file") if isinstance(reply, dict) else None)
