"""Quarantine actions on one server: list a job's held files, release one, drop one.

Against a server without the extension each raises `extensions.NotAvailable`.
"""

from __future__ import annotations

from anonapi_core.client import AnonClient
from anonapi_core.models import Server
from anonapi_core.quarantine import HeldFile, decide, held_files
from anonapi_core.settings import Settings


def list_held_files(settings: Settings, server: Server, job_id: str) -> list[HeldFile]:
    """The files job `job_id` held back and why, with any decision taken."""
    with AnonClient.from_settings(settings, server) as client:
        return held_files(client, job_id)


def release_held_file(settings: Settings, server: Server, job_id: str, file_id: str) -> HeldFile:
    """Publish one held file de-identified anyway, recorded as this user's decision."""
    with AnonClient.from_settings(settings, server) as client:
        return decide(client, job_id, file_id, "release")


def drop_held_file(settings: Settings, server: Server, job_id: str, file_id: str) -> HeldFile:
    """Never publish one held file, recorded as this user's decision."""
    with AnonClient.from_settings(settings, server) as client:
        return decide(client, job_id, file_id, "drop")
