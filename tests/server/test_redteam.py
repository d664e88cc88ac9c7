r"""Red-team cases against a server on loopback (issue 8): each is an attack that was tried.

Categories: authorization bypasses, path tricks (UNC variants, `..`, mixed slashes, case,
unicode), oversized and slow requests, header injection. Loops are bounded; traffic goes only to
the server this module starts.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from anonapi_server.admin import add_user
from anonapi_server.config import ServerHome
from anonapi_server.testing import EmbeddedServer, running_server
from tests.server.conftest import PROJECT, call, create_path_job

MALLORY = "mallory"
MALLORY_TOKEN = "mallory-token-red-team-0123"


@pytest.fixture(scope="module")
def server() -> Iterator[EmbeddedServer]:
    with running_server(workers=0) as running:
        add_user(ServerHome(running.home), MALLORY, token=MALLORY_TOKEN)
        yield running


@pytest.fixture(scope="module")
def victim_job(server: EmbeddedServer) -> int:
    reply = create_path_job(server, "folder:" + server.unc("in", "victim"))
    return reply.json()["job_id"]


def send(server: EmbeddedServer, method: str, path: str, **kwargs) -> httpx.Response:
    return httpx.request(method, f"{server.url}{path}", timeout=10, **kwargs)


# ---- authorization bypasses -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "body"),
    [
        ("user_name=testuser", f"user_name={MALLORY}"),  # query names the victim, body mallory
        ("", f"user_name=testuser&user_name={MALLORY}"),  # repeated: the last one counts
        (f"user_name={MALLORY}", ""),  # only in the query string
    ],
)
def test_user_name_placement_cannot_borrow_another_identity(
    server: EmbeddedServer, victim_job: int, query: str, body: str
):
    reply = send(
        server,
        "GET",
        f"/get_job?{query}",
        content=f"{body}&job_id={victim_job}".lstrip("&"),
        headers={
            "Authorization": f"Token {MALLORY_TOKEN}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert reply.status_code == 400
    assert "does not exist" in reply.json()["errors"]["job_id"]


@pytest.mark.parametrize(
    "authorization",
    [
        f"Bearer {MALLORY_TOKEN}",
        "Basic dGVzdHVzZXI6eA==",
        "Token",
        "",
        f"Token {MALLORY_TOKEN}x",
        f"Token {MALLORY_TOKEN[:-1]}",
        "Token " + "A" * 10_000,
    ],
)
def test_malformed_or_wrong_tokens_get_401(server: EmbeddedServer, authorization: str):
    headers = {"Authorization": authorization} if authorization else {}
    reply = send(server, "GET", "/get_jobs", params={"user_name": MALLORY}, headers=headers)
    assert reply.status_code == 401


@pytest.mark.parametrize("user_name", ["testuser", "TESTUSER", "testuser ", "ｔｅｓｔｕｓｅｒ"])
def test_a_token_works_only_for_its_own_user_name(server: EmbeddedServer, user_name: str):
    reply = send(
        server,
        "GET",
        "/get_jobs",
        params={"user_name": user_name},
        headers={"Authorization": f"Token {MALLORY_TOKEN}"},
    )
    assert reply.status_code == 401


def test_listing_calls_never_return_another_users_job(server: EmbeddedServer, victim_job: int):
    auth = {"token": MALLORY_TOKEN, "user_name": MALLORY}
    assert str(victim_job) not in call(server, "get_jobs", **auth).json()
    for function in ("get_jobs_list", "get_jobs_list_extended"):
        ids = [f"{victim_job}", f" {victim_job} ", f"{victim_job},{victim_job}", f"0{victim_job}"]
        assert call(server, function, job_ids=ids, **auth).json() == {}


def test_changing_calls_on_another_users_job_change_nothing(
    server: EmbeddedServer, victim_job: int
):
    auth = {"token": MALLORY_TOKEN, "user_name": MALLORY}
    before = call(server, "get_job", job_id=victim_job).json()
    attempts = [
        ("cancel_job", {"job_id": victim_job}),
        ("modify_job", {"job_id": victim_job, "destination_path": server.unc("stolen")}),
        ("modify_job", {"job_id": f"+{victim_job}", "description": "x"}),
        ("modify_job", {"job_id": f"0{victim_job}", "status": "INACTIVE"}),
        ("modify_job", {"job_id": victim_job, "user_name": "testuser", "priority": "9"}),
    ]
    for function, params in attempts:
        reply = call(server, function, "POST", **{**auth, **params})
        assert reply.status_code in (400, 401), (function, params, reply.text)
    assert call(server, "get_job", job_id=victim_job).json() == before


def test_extension_routes_need_the_same_credentials(server: EmbeddedServer):
    assert send(server, "GET", "/ext", params={"user_name": MALLORY}).status_code == 401
    reply = send(
        server,
        "GET",
        "/ext",
        params={"user_name": "testuser"},
        headers={"Authorization": f"Token {MALLORY_TOKEN}"},
    )
    assert reply.status_code == 401


# ---- path tricks ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        r"\\localhost\data\..\..\etc",
        r"\\localhost\data\in\..\..\..",
        "//localhost/data/../../etc",
        r"\\localhost/data\in/..\..\..\etc",
        r"\\?\UNC\localhost\data\in",
        r"\\.\C:\Windows",
        r"\\?\C:\Windows",
        r"\\localhost\c$\Windows",
        r"\\localhost\data:stream",
        r"\\localhost\data\in\file:stream",
        "\\\\localhost\\data\\in\\a\x00b",
        r"C:\data\in",
        "/etc/passwd",
        "file:///etc/passwd",
        r"\\127.0.0.1\data\in",
        r"\\localhost",
    ],
)
def test_paths_outside_a_share_are_refused_at_creation(server: EmbeddedServer, path: str):
    as_source = create_path_job(server, "folder:" + path)
    assert as_source.status_code == 400, as_source.text
    as_destination = create_path_job(
        server, "folder:" + server.unc("in", "x"), destination_path=path
    )
    assert as_destination.status_code == 400, as_destination.text


@pytest.mark.parametrize(
    "path",
    [
        "\\\\localhost\\data\\in\\\u2025",  # two-dot leader, looks like '..'
        "\\\\localhost\\data\\in\\\uff0e\uff0e",  # fullwidth dots
        "\\\\localhost\\data\\in\\a\u2216..\u2216b",  # set-minus, looks like a backslash
        "\\\\LOCALHOST\\DATA\\in",  # case: Windows shares are case-insensitive
        "\\\\localhost\\data\\%2e%2e\\%2e%2e",  # sent literally, `%2e` is no dot
    ],
)
def test_lookalike_characters_stay_plain_names_inside_the_share(server: EmbeddedServer, path: str):
    reply = create_path_job(server, "folder:" + path)
    assert reply.status_code == 200, reply.text
    job = reply.json()
    assert job["source_path"].lower().startswith("folder:\\\\localhost\\data\\")
    call(server, "cancel_job", "POST", job_id=job["job_id"])


@pytest.mark.parametrize(
    "destination",
    [
        r"\\localhost\data\in\same",
        r"\\LOCALHOST\data\in\same\deeper",
        "//localhost/data/in/same",
        r"\\localhost\data\in\same\.",
    ],
)
def test_destination_inside_the_source_is_caught_in_any_spelling(
    server: EmbeddedServer, destination: str
):
    (server.share_root / "in" / "same").mkdir(parents=True, exist_ok=True)
    reply = create_path_job(
        server, "folder:" + server.unc("in", "same"), destination_path=destination
    )
    assert reply.status_code == 400, reply.text


def test_a_link_inside_the_share_to_outside_is_refused_at_creation(
    server: EmbeddedServer, tmp_path
):
    link = server.share_root / "in" / "escape"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(tmp_path, target_is_directory=True)
    reply = create_path_job(server, "folder:" + server.unc("in", "escape"))
    assert reply.status_code == 400
    assert "leads outside its share" in reply.json()["errors"]["source_path"]


# ---- oversized and slow requests --------------------------------------------------------------


def raw(server: EmbeddedServer, data: bytes, wait: float = 5) -> bytes:
    host, port = server.url.removeprefix("http://").split(":")
    received = b""
    with socket.create_connection((host, int(port)), timeout=wait) as sock:
        try:
            sock.sendall(data)
            while chunk := sock.recv(65536):
                received += chunk
        except (TimeoutError, ConnectionResetError, BrokenPipeError):
            pass  # the server hung up: what it sent before, if anything, is the answer
    return received


def test_a_chunked_body_over_the_limit_is_cut_off_with_413(server: EmbeddedServer):
    chunk = b"a" * 65536
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(20)) + b"0\r\n\r\n"
    reply = raw(
        server,
        b"POST /modify_job HTTP/1.1\r\nHost: x\r\n"
        + f"Authorization: Token {server.token}\r\n".encode()
        + b"Transfer-Encoding: chunked\r\n\r\n"
        + body,
    )
    assert reply.startswith(b"HTTP/1.1 413")


def test_headers_over_the_limit_are_refused(server: EmbeddedServer):
    """An endless header is cut off once 16 KB of it are buffered (a single read may hold more)."""
    head = b"GET /get_jobs HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 4_000_000 + b"\r\n\r\n"
    reply = raw(server, head)
    assert reply == b"" or reply.split(b" ")[1] in (b"400", b"431")


def test_a_list_call_of_many_ids_within_the_limit_answers(server: EmbeddedServer):
    ids = ",".join(str(i) for i in range(1, 60_000))
    reply = call(server, "get_jobs_list", job_ids=ids[:1999])
    assert reply.status_code == 200
    many = [str(i) for i in range(1, 60_000)]
    assert call(server, "get_jobs_list", job_ids=many).status_code == 200


def test_many_parameters_and_a_body_that_is_not_utf8_are_clear_400s(server: EmbeddedServer):
    reply = send(
        server,
        "POST",
        "/modify_job",
        content=b"user_name=testuser&job_id=1&description=\xff\xfe",
        headers={"Authorization": f"Token {server.token}"},
    )
    assert reply.status_code == 400 and "UTF-8" in reply.json()["errors"]["body"]


# ---- header injection -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["a\r\nSet-Cookie: evil=1", "a\nX-Injected: 1", "a\r\n\r\n<html>", "\u2028X-Injected: 1"],
)
def test_values_with_line_breaks_never_become_headers(server: EmbeddedServer, value: str):
    for params in (
        {"user_name": value},
        {"job_id": value},
        {"priority": value, "job_id": "1"},
        {"description": value, "job_id": "1"},
    ):
        reply = call(server, "modify_job", "POST", **params)
        assert "set-cookie" not in reply.headers and "x-injected" not in reply.headers
        assert reply.headers["content-type"] == "application/json"


def test_a_description_with_markup_and_line_breaks_comes_back_as_json_text(
    server: EmbeddedServer,
):
    text = '<script>alert(1)</script>\r\n"quoted"\u0000'
    reply = create_path_job(server, "folder:" + server.unc("in", "x"), description=text)
    assert reply.status_code == 200
    assert reply.json()["description"] == text
    call(server, "cancel_job", "POST", job_id=reply.json()["job_id"])


def test_the_project_check_still_holds_for_a_forged_project(server: EmbeddedServer):
    reply = create_path_job(server, "folder:" + server.unc("in", "x"), project_name=PROJECT + "'--")
    assert reply.status_code == 400
