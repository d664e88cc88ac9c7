"""The API client: what it puts on the wire, how it reads IDIS replies, and how it fails."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
from pathlib import Path

import httpx
import pytest

from anonapi_core.client import AnonClient, WebAPIClient, _verify_setting
from anonapi_core.exceptions import (
    APIClient404Error,
    APIClientAPIException,
    APIClientAuthorizationFailedException,
    APIClientError,
    ServerNotResponding,
)
from anonapi_core.models import JobInfo, Server
from tests.support.original import original_python
from tests.support.recorder import recording_server


def load_reply(corpus: Path, name: str) -> tuple[int, object]:
    data = json.loads((corpus / "server-responses" / f"{name}.json").read_text())
    return data["status_code"], data["body"]


def parse(corpus: Path, name: str, function: str = "get_jobs") -> object:
    status, body = load_reply(corpus, name)
    client = WebAPIClient("http://server/api", "z123", "secret")
    return client.parse_response(httpx.Response(status, json=body), function)


def test_every_recorded_server_reply_parses_or_maps_to_its_error(corpus: Path) -> None:
    names = sorted(p.stem for p in (corpus / "server-responses").glob("*.json"))
    assert len(names) == 10
    assert parse(corpus, "api_call_not_defined", function="")["documentation"]
    jobs = parse(corpus, "jobs_list_get_jobs_extended")
    assert [JobInfo.parse(j).source_anonymizedpatientid for j in jobs.values()] == [
        "1982",
        "1983",
        "1984",
    ]
    assert JobInfo.parse(parse(corpus, "job_created_response")).job_id == 1234
    with pytest.raises(APIClientAPIException, match="Job with id 447783 does not exist") as e:
        parse(corpus, "job_does_not_exist")
    assert e.value.api_errors == {"job_id": "Job with id 447783 does not exist"}
    with pytest.raises(APIClientAPIException, match="is not connected to given project_name"):
        parse(corpus, "error_user_not_connected_to_project")
    with pytest.raises(APIClientAPIException, match="Required parameter job_id not supplied"):
        parse(corpus, "required_parameter_not_supplied")


def test_documentation_404_for_a_function_is_an_error_not_a_result(corpus: Path) -> None:
    """The original treated it as success, so a misspelt function silently 'worked'."""
    with pytest.raises(APIClient404Error, match="no API function 'cancel_job'"):
        parse(corpus, "api_call_not_defined", function="cancel_job")


@pytest.mark.parametrize(
    ("status", "error", "text"),
    [
        (401, APIClientAuthorizationFailedException, "401 Unauthorized"),
        (405, APIClientError, "405 Method not allowed"),
        (500, APIClientError, "HTTP 500"),
    ],
)
def test_status_codes_map_to_the_original_exception_names(status, error, text) -> None:
    client = WebAPIClient("http://server/api", "z123", "secret")
    with pytest.raises(error, match=text) as e:
        client.parse_response(httpx.Response(status, json={}), "get_jobs")
    assert "secret" not in str(e.value)


def test_non_json_reply_says_so() -> None:
    client = WebAPIClient("http://server/api", "z123", "secret")
    with pytest.raises(APIClientError, match="was not JSON"):
        client.parse_response(httpx.Response(200, text="<html>login</html>"), "get_jobs")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_refused_connection_keeps_its_cause() -> None:
    client = AnonClient(Server(name="x", url=f"http://127.0.0.1:{free_port()}"), "u", "t")
    with pytest.raises(ServerNotResponding, match=r"connection refused"):
        client.get_jobs()


def test_unknown_host_keeps_its_cause() -> None:
    client = AnonClient(Server(name="x", url="http://no-such-host.invalid"), "u", "t")
    with pytest.raises(ServerNotResponding, match="host name not known"):
        client.get_jobs()


def test_silent_server_times_out_with_the_timeout_named() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    accepted: list[socket.socket] = []
    thread = threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    try:
        client = AnonClient(Server(name="x", url=url), "u", "t", timeout=0.3)
        with pytest.raises(ServerNotResponding, match=r"within 0.3 s \(timed out\)"):
            client.get_jobs()
    finally:
        for conn in accepted:
            conn.close()
        listener.close()


ORIGINAL_CALLS = """
import sys
from anonapi.client import WebAPIClient
client = WebAPIClient(hostname=sys.argv[1], username="z123", token="tok")
client.get("get_jobs_list", job_ids=["1", "2"])
client.post("modify_job", job_id="7", status="ACTIVE", files_downloaded=0, files_processed=0,
            error=" ")
client.post("modify_job", job_id="7", source_ignore_opt_out=True,
            source_ignore_opt_out_reason="Reason: consent")
client.post("cancel_job", job_id="7")
"""


def test_wire_requests_are_identical_to_the_original_client() -> None:
    """Same method, path, form body (also on GET), user_name and token header."""
    with recording_server() as original:
        subprocess.run(
            [str(original_python()), "-c", ORIGINAL_CALLS, original.url + "/api"], check=True
        )
    with (
        recording_server() as ours,
        AnonClient(Server(name="s", url=ours.url + "/api"), "z123", "tok") as client,
    ):
        client.get_jobs_list(["1", "2"])
        client.reset_job("7")
        client.set_opt_out_ignore("7", "consent")
        client.cancel_job("7")
    assert len(ours.requests) == len(original.requests) == 4
    for mine, theirs in zip(ours.requests, original.requests, strict=True):
        assert (mine.method, mine.path, mine.form) == (theirs.method, theirs.path, theirs.form)
        assert mine.headers["authorization"] == theirs.headers["authorization"] == "Token tok"
        assert mine.headers["content-type"] == theirs.headers["content-type"]


def test_large_id_lists_are_fetched_in_bounded_chunks() -> None:
    with recording_server() as server:
        server.body = {}
        client = AnonClient(Server(name="s", url=server.url), "u", "t")
        client.get_jobs_list([str(i) for i in range(1, 1201)], chunk_size=500)
    sizes = sorted(len(r.form["job_ids"]) for r in server.requests)
    assert sizes == [200, 500, 500]


def test_bulk_calls_report_each_failure_and_go_on() -> None:
    with recording_server() as server:
        server.status = 400
        server.body = {"errors": {"job_id": "Job with id 9 does not exist"}}
        client = AnonClient(Server(name="s", url=server.url), "u", "t")
        results = client.for_each(client.reset_job, ["9", "10"])
    assert [r.ok for r in results] == [False, False]
    assert "does not exist" in results[0].error


@pytest.mark.parametrize(
    ("url", "validate", "proxy", "verify"),
    [
        ("https://host/api", True, None, True),
        ("HTTPS://host/api", True, None, True),
        ("https://host/api", False, None, False),
        ("http://host/api", True, None, False),  # no TLS is ever spoken: no CA bundle to load
        ("http://host/api", True, "https://proxy:3128", True),  # the proxy may speak TLS
    ],
)
def test_tls_is_verified_wherever_it_can_be_used(
    url: str, validate: bool, proxy: str | None, verify: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    if proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy)
    assert _verify_setting(url, validate) is verify
