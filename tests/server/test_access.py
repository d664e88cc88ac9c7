"""Who may see and change which job, and what a request may carry (issue 8, findings 1, 8, 9).

Each test here failed on the server before these rules: any user read, changed, cancelled and
reran any job, forged its outcome, and the API read unbounded bodies before checking who called.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from anonapi_server import limits
from anonapi_server.admin import add_project, add_user
from anonapi_server.config import ServerHome
from anonapi_server.testing import EmbeddedServer, running_server
from tests.server.conftest import PROJECT, call, create_path_job, reset_job

MALLORY_TOKEN = "mallory-token-0123456789"
ADMIN_TOKEN = "admin-token-0123456789"
BOB_TOKEN = "bob-token-0123456789"


@pytest.fixture(scope="module")
def server() -> Iterator[EmbeddedServer]:
    # No workers: jobs stay ACTIVE, so every change below is one a client could still make.
    with running_server(workers=0) as running:
        home = ServerHome(running.home)
        add_user(home, "mallory", token=MALLORY_TOKEN)
        add_user(home, "admin", token=ADMIN_TOKEN, is_admin=True)
        add_project(home, "Other")
        add_user(home, "bob", token=BOB_TOKEN, projects=["Other"])
        yield running


def as_user(server: EmbeddedServer, user: str, token: str, function: str, method="GET", **params):
    return call(server, function, method, token=token, user_name=user, **params)


def own_job(server: EmbeddedServer) -> int:
    reply = create_path_job(server, "folder:" + server.unc("in", "anything"))
    assert reply.status_code == 200, reply.text
    return reply.json()["job_id"]


def test_another_user_can_neither_see_nor_change_a_job(server: EmbeddedServer):
    job_id = own_job(server)
    mallory = ("mallory", MALLORY_TOKEN)
    for function, method, params in [
        ("get_job", "GET", {"job_id": job_id}),
        ("cancel_job", "POST", {"job_id": job_id}),
        ("modify_job", "POST", {"job_id": job_id, "description": "mine now"}),
        ("modify_job", "POST", {"job_id": job_id, "status": "ACTIVE"}),
    ]:
        reply = as_user(server, *mallory, function, method, **params)
        assert reply.status_code == 400, (function, reply.text)
        assert reply.json()["errors"]["job_id"] == f"Job with id {job_id} does not exist"
    assert str(job_id) not in as_user(server, *mallory, "get_jobs").json()
    for function in ("get_jobs_list", "get_jobs_list_extended"):
        assert as_user(server, *mallory, function, job_ids=[job_id]).json() == {}
    job = call(server, "get_job", job_id=job_id).json()
    assert (job["status"], job["description"]) == ("ACTIVE", "test job")


def test_the_owner_sees_and_changes_its_job(server: EmbeddedServer):
    job_id = own_job(server)
    assert str(job_id) in call(server, "get_jobs").json()
    reply = call(server, "modify_job", "POST", job_id=job_id, description="renamed")
    assert reply.json()["description"] == "renamed"
    assert call(server, "cancel_job", "POST", job_id=job_id).json()["status"] == "INACTIVE"


def test_an_admin_sees_and_changes_every_job(server: EmbeddedServer):
    job_id = own_job(server)
    admin = ("admin", ADMIN_TOKEN)
    assert str(job_id) in as_user(server, *admin, "get_jobs").json()
    assert as_user(server, *admin, "get_job", job_id=job_id).json()["job_id"] == job_id
    reply = as_user(server, *admin, "cancel_job", "POST", job_id=job_id)
    assert reply.json()["status"] == "INACTIVE"


def test_modify_job_cannot_forge_a_jobs_outcome(server: EmbeddedServer):
    job_id = own_job(server)
    for field, value in [
        ("error", "all fine"),
        ("files_processed", "7"),
        ("files_downloaded", "9"),
    ]:
        reply = call(server, "modify_job", "POST", job_id=job_id, **{field: value})
        assert reply.status_code == 400
        assert "set by the server" in reply.json()["errors"][field]
    # The original client's reset sends blank values for them: still accepted.
    reply = reset_job(server, job_id)
    assert reply.status_code == 200
    assert reply.json()["files_processed"] in (0, None)


def test_moving_a_job_to_a_project_its_owner_is_not_in_is_refused(server: EmbeddedServer):
    reply = as_user(
        server,
        "bob",
        BOB_TOKEN,
        "create_job",
        "POST",
        source_type="PATH",
        source_path="folder:" + server.unc("in", "b"),
        destination_path=server.unc("out"),
        project_name="Other",
    )
    job_id = reply.json()["job_id"]
    reply = as_user(
        server, "bob", BOB_TOKEN, "modify_job", "POST", job_id=job_id, project_name=PROJECT
    )
    assert reply.status_code == 400
    assert (
        "is not connected to given project_name"
        in reply.json()["errors"]["AnonymizeInputException"]
    )


@pytest.mark.parametrize(
    ("function", "method", "params", "field"),
    [
        ("get_job", "GET", {"job_id": str(2**63)}, "job_id"),
        ("get_job", "GET", {"job_id": "-1"}, "job_id"),
        ("get_job", "GET", {"job_id": "9" * 5000}, "job_id"),
        ("cancel_job", "POST", {"job_id": str(2**31)}, "job_id"),
        ("modify_job", "POST", {"job_id": "1", "priority": str(2**63)}, "priority"),
    ],
)
def test_out_of_range_numbers_are_a_400_naming_the_parameter_and_the_connection_lives(
    server: EmbeddedServer, function: str, method: str, params: dict, field: str
):
    headers = {"Authorization": f"Token {server.token}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=10) as client:
        data = {"user_name": server.user_name, **params}
        reply = client.request(method, f"/{function}", data=data)
        assert reply.status_code == 400, reply.text
        assert field in reply.json()["errors"]
        again = client.get("/get_jobs", params={"user_name": server.user_name})
        assert again.status_code == 200


def test_out_of_range_ids_in_a_list_are_left_out(server: EmbeddedServer):
    job_id = own_job(server)
    reply = call(server, "get_jobs_list", job_ids=[str(2**64), "-3", str(job_id)])
    assert list(reply.json()) == [str(job_id)]


def test_a_body_over_the_limit_is_refused_with_413(server: EmbeddedServer):
    description = "x" * (limits.MAX_BODY_BYTES + 10)
    reply = call(server, "modify_job", "POST", job_id=own_job(server), description=description)
    assert reply.status_code == 413


def test_a_field_over_its_length_limit_is_a_400_naming_it(server: EmbeddedServer):
    too_long = "d" * (limits.field_limit("description") + 1)
    reply = call(server, "modify_job", "POST", job_id=own_job(server), description=too_long)
    assert reply.status_code == 400
    assert "longer than" in reply.json()["errors"]["description"]


def raw_request(server: EmbeddedServer, head: bytes, wait: float = 5) -> bytes:
    """Send `head` on a raw connection and return whatever comes back before it closes."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=wait) as sock:
        sock.sendall(head)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except TimeoutError:
            pass
    return received


def test_an_unknown_caller_is_refused_before_its_body_is_read(server: EmbeddedServer):
    """The body of 100 MB is announced but never sent: the reply must not wait for it."""
    started = time.monotonic()
    reply = raw_request(
        server,
        b"POST /modify_job HTTP/1.1\r\nHost: x\r\nAuthorization: Token wrong\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000000\r\n\r\n",
        wait=3,
    )
    assert reply.startswith(b"HTTP/1.1 401")
    assert time.monotonic() - started < 2.5


@pytest.mark.parametrize(
    ("length_and_start", "status"),
    [
        (b"100000000\r\n\r\n", b"413"),  # announced too large: refused unread
        (b"100\r\n\r\nuser_name=", b"408"),  # 100 bytes announced, 10 sent, then nothing
    ],
)
def test_a_body_too_large_or_too_slow_is_refused(
    server: EmbeddedServer, monkeypatch: pytest.MonkeyPatch, length_and_start: bytes, status: bytes
):
    monkeypatch.setattr(limits, "BODY_SECONDS", 0.5)
    reply = raw_request(
        server,
        b"POST /modify_job HTTP/1.1\r\nHost: x\r\n"
        + f"Authorization: Token {server.token}\r\n".encode()
        + b"Content-Length: "
        + length_and_start,
        wait=4,
    )
    assert reply.startswith(b"HTTP/1.1 " + status)


def test_headers_sent_too_slowly_lose_the_connection(
    server: EmbeddedServer, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(limits, "HEADER_SECONDS", 0.5)
    started = time.monotonic()
    reply = raw_request(server, b"GET /get_jobs HTTP/1.1\r\nHost: x\r\n", wait=4)
    assert reply == b""
    assert time.monotonic() - started < 3
