r"""Red-team cases against the `/ext` extensions and PACS identifiers (after issue 8's pass).

Each case is an attack that worked before its fix: JSON bodies read without the API's limits,
parser errors that became 500s, identifiers that no study can have sent to a PACS (and echoed
into the log by pydicom's warnings), and counts against a hung PACS that took every thread of
the API. Traffic goes only to servers (and a stand-in PACS) this module starts on loopback;
loops are bounded.
"""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from anonapi_server import limits
from anonapi_server.pacs.config import new_node
from anonapi_server.testing import EmbeddedServer, running_server
from tests.server.conftest import call
from tests.server.pacs_support import configure, create_pacs_job, silent_listener


class _RecordingPacs(http.server.BaseHTTPRequestHandler):
    """A DICOMweb service that finds nothing and remembers every query it got."""

    seen: list[str] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "application/dicom+json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"[]")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def pacs_queries() -> Iterator[tuple[int, list[str]]]:
    service = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RecordingPacs)
    thread = threading.Thread(target=service.serve_forever, daemon=True)
    thread.start()
    yield service.server_address[1], _RecordingPacs.seen
    service.shutdown()
    thread.join(5)


@pytest.fixture(scope="module")
def server(pacs_queries: tuple[int, list[str]]) -> Iterator[EmbeddedServer]:
    port, _ = pacs_queries
    with running_server(workers=0) as running:
        node = new_node("WEB", dicomweb=f"http://127.0.0.1:{port}/dicom-web", timeout=5)
        configure(running, node, default=True)
        yield running


def count(server: EmbeddedServer, **kwargs) -> httpx.Response:
    return httpx.post(
        f"{server.url}/ext/pacs/count",
        params={"user_name": server.user_name},
        headers={"Authorization": f"Token {server.token}", **kwargs.pop("headers", {})},
        timeout=20,
        **kwargs,
    )


# ---- JSON bodies on /ext --------------------------------------------------------------------


def test_an_ext_body_over_the_limit_is_refused_with_413(server: EmbeddedServer):
    padding = "a" * (limits.MAX_BODY_BYTES + 1)
    reply = count(server, json={"identifiers": [padding]})
    assert reply.status_code == 413
    assert "body" in reply.json()["errors"]


def test_an_ext_body_sent_too_slowly_is_refused_with_408(
    server: EmbeddedServer, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(limits, "BODY_SECONDS", 0.5)

    def trickle() -> Iterator[bytes]:
        yield b'{"identifiers": ['
        time.sleep(2)
        yield b"]}"

    reply = count(server, content=trickle(), headers={"content-type": "application/json"})
    assert reply.status_code == 408


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,  # nesting past the parser's recursion limit
        b'{"identifiers": [], "x": ' + b"9" * 5000 + b"}",  # past Python's int digit limit
        b'{"identifiers": ["\xff"]}',  # not UTF-8
        b'["identifiers"]',  # JSON, not an object
    ],
    ids=["deep", "huge-number", "not-utf8", "not-an-object"],
)
def test_json_the_parser_chokes_on_is_a_400_not_a_500(server: EmbeddedServer, body: bytes):
    reply = count(server, content=body, headers={"content-type": "application/json"})
    assert reply.status_code == 400, reply.text
    assert "body" in reply.json()["errors"]


# ---- identifiers sent to a PACS -------------------------------------------------------------

NOT_A_STUDY = [
    "accession_number:" + "9" * 5000,  # overlong
    "study_instance_uid:" + "1." * 40 + "1",  # a UID past 64 characters
    "study_instance_uid:1.2.3 OR 1=1",  # not digits and dots
    "1.2.3\x00",  # a control character (UI's padding byte)
    "accession_number:A1\r\nX-Injected: 1",  # line break
    "study_instance_uid:1.2,3.4",  # QIDO-RS's UID list matching
]


@pytest.mark.parametrize("identifier", NOT_A_STUDY)
def test_identifiers_no_study_can_have_never_reach_the_pacs(
    server: EmbeddedServer,
    pacs_queries: tuple[int, list[str]],
    identifier: str,
    recwarn: pytest.WarningsRecorder,
):
    _, seen = pacs_queries
    seen.clear()
    reply = count(server, json={"identifiers": [identifier]})
    assert reply.status_code == 200, reply.text
    (result,) = reply.json()["counts"]
    assert result["error"], result
    assert seen == []
    # pydicom's warnings about invalid values quote the value; they reach the server log
    assert not [w for w in recwarn if "pydicom" in str(w.filename)]


@pytest.mark.parametrize("identifier", NOT_A_STUDY[:3])
def test_a_pacs_job_for_an_identifier_no_study_can_have_is_a_400(
    server: EmbeddedServer, identifier: str
):
    reply = create_pacs_job(server, identifier)
    assert reply.status_code == 400
    message = reply.json()["errors"]["source_instance_id"]
    assert len(message) < 300  # the overlong value is not echoed back


def test_valid_identifiers_still_reach_the_pacs(
    server: EmbeddedServer, pacs_queries: tuple[int, list[str]]
):
    _, seen = pacs_queries
    seen.clear()
    identifiers = ["accession_number:1234567.1234578dwe", "study_instance_uid:1.2.840.1", "1.2.3"]
    reply = count(server, json={"identifiers": identifiers})
    assert [c["error"] for c in reply.json()["counts"]] == [None, None, None]
    assert len(seen) == 3


# ---- a hung PACS and the API's threads ------------------------------------------------------


def test_counts_against_a_hung_pacs_cannot_take_every_api_thread():
    """Each count holds a thread until the PACS times out; beyond a few, counts are told to retry
    (429) and the IDIS API keeps answering everybody."""
    with silent_listener() as port, running_server(workers=0) as server:
        configure(server, new_node("HUNG", dimse=f"127.0.0.1:{port}", called_aet="X", timeout=4))
        statuses: list[int] = []

        def one() -> None:
            body = {"source_name": "HUNG", "identifiers": ["accession_number:1"]}
            statuses.append(count(server, json=body).status_code)

        threads = [threading.Thread(target=one) for _ in range(12)]
        for thread in threads:
            thread.start()
        reply = httpx.get(
            f"{server.url}/get_jobs",
            params={"user_name": server.user_name},
            headers={"Authorization": f"Token {server.token}"},
            timeout=20,
        )
        assert reply.status_code == 200
        for thread in threads:
            thread.join(30)
    assert statuses.count(429) >= 12 - 4 - 1  # one may start after another finished
    assert set(statuses) <= {200, 429}


@pytest.mark.parametrize("identifier", ["*", "accession_number:A1\\A2", NOT_A_STUDY[2]])
def test_modify_job_checks_a_new_instance_id_as_create_job_does(
    server: EmbeddedServer, identifier: str
):
    created = create_pacs_job(server, "accession_number:A1001")
    assert created.status_code == 200, created.text
    job_id = created.json()["job_id"]
    reply = call(server, "modify_job", "POST", job_id=job_id, source_instance_id=identifier)
    assert reply.status_code == 400
    assert "source_instance_id" in reply.json()["errors"]
    assert (
        call(server, "get_job", job_id=job_id).json()["source_instance_id"]
        == "accession_number:A1001"
    )


def test_a_bug_in_an_extension_is_a_500_with_a_reference_and_no_values_in_the_log(
    server: EmbeddedServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    from anonapi_server.pacs import retrieve

    def broken(node: object, identifiers: list[str]) -> None:
        raise RuntimeError(f"choked on {identifiers[0]}")

    monkeypatch.setattr(retrieve, "count_studies", broken)
    reply = count(server, json={"identifiers": ["accession_number:PATIENT123"]})
    assert reply.status_code == 500
    assert "reference" in reply.json()["errors"]["server"]
    assert "PATIENT123" not in reply.text
    assert "PATIENT123" not in caplog.text
