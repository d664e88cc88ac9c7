"""Quarantine client and actions against the real embedded server, and against a server that
has no such extension (a real IDIS)."""

from __future__ import annotations

import pytest

from anonapi_core.actions.quarantine import drop_held_file, list_held_files, release_held_file
from anonapi_core.client import AnonClient
from anonapi_core.exceptions import APIClientAPIException, APIParseResponseError
from anonapi_core.extensions import NotAvailable
from anonapi_core.models import Server
from anonapi_core.quarantine import decide, held_files
from anonapi_core.settings import Settings
from anonapi_server.testing import EmbeddedServer
from tests.support.held_files import job_with_held_files
from tests.support.recorder import recording_server


def settings_for(server: EmbeddedServer) -> tuple[Settings, Server]:
    settings = Settings(
        servers={"local": server.url},
        active_server_name="local",
        user_name=server.user_name,
        user_token=server.token,
        timeout=30,
    )
    return settings, Server(name="local", url=server.url)


def test_held_files_are_listed_released_and_dropped_as_the_user(
    anon_server_session: EmbeddedServer,
) -> None:
    server = anon_server_session
    job_id = str(job_with_held_files(server, "core-held"))
    settings, active = settings_for(server)
    held = list_held_files(settings, active, job_id)
    assert [(f.place, f.state) for f in held] == [("1_2\\1.dcm", "held"), ("1_2\\2.dcm", "held")]
    assert all(f.reason.startswith("burned-in annotation") for f in held)
    released = release_held_file(settings, active, job_id, held[0].file_id)
    assert (released.state, released.decided_by) == ("released", server.user_name)
    assert (server.share_root / "out" / job_id / "1_2" / "1.dcm").is_file()
    dropped = drop_held_file(settings, active, job_id, held[1].file_id)
    assert dropped.state == "dropped"
    assert not (server.share_root / "out" / job_id / "1_2" / "2.dcm").exists()
    with pytest.raises(APIClientAPIException, match="already dropped by"):
        drop_held_file(settings, active, job_id, held[1].file_id)


def test_an_unknown_job_is_the_servers_own_sentence(anon_server_session: EmbeddedServer) -> None:
    settings, active = settings_for(anon_server_session)
    with pytest.raises(APIClientAPIException, match="Job with id 987654 does not exist"):
        list_held_files(settings, active, "987654")


def test_bad_ids_are_refused_before_any_call() -> None:
    with recording_server() as idis:
        with AnonClient(Server(name="s", url=idis.url), "u", "t", timeout=5) as client:
            with pytest.raises(APIParseResponseError, match="job id is a number"):
                held_files(client, "1/../2")
            with pytest.raises(APIParseResponseError, match="not a held file id"):
                decide(client, "1", "../x", "release")
        assert idis.requests == []


def test_a_server_without_the_extension_says_not_available() -> None:
    with recording_server() as idis:
        idis.status, idis.body = 404, {"documentation": "IDIS web API"}
        client = AnonClient(Server(name="idis", url=idis.url), "u", "t", timeout=5)
        with client, pytest.raises(NotAvailable, match="quarantine is not available on this"):
            held_files(client, "1")
