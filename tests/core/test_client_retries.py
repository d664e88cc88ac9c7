"""Bulk calls retry what may pass (5xx, a reset connection) with backoff, and nothing else."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from anonapi_core.client import AnonClient
from anonapi_core.models import Server


@contextmanager
def flaky_server(failures: int, status: int) -> Iterator[tuple[str, list[int]]]:
    """Answers `status` to the first `failures` requests, then 200 {}; records each status."""
    answered: list[int] = []
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                code = status if len(answered) < failures else 200
                answered.append(code)
            body = json.dumps({"errors": {"job_id": "refused"}} if code != 200 else {}).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", answered
    finally:
        server.shutdown()
        server.server_close()


def client(url: str) -> AnonClient:
    return AnonClient(Server(name="s", url=url), "u", "t", timeout=5, backoff=0.01)


def test_a_5xx_is_retried_until_it_passes() -> None:
    with flaky_server(2, 503) as (url, answered), client(url) as c:
        (result,) = c.for_each(c.reset_job, ["7"])
    assert result.ok
    assert answered == [503, 503, 200]


def test_a_5xx_that_persists_fails_after_the_retries() -> None:
    with flaky_server(10, 502) as (url, answered), client(url) as c:
        (result,) = c.for_each(c.cancel_job, ["7"])
    assert not result.ok and "HTTP 502" in (result.error or "")
    assert len(answered) == 4  # the first try and three retries


def test_a_refusal_is_not_retried() -> None:
    with flaky_server(10, 400) as (url, answered), client(url) as c:
        (result,) = c.for_each(c.reset_job, ["7"])
    assert not result.ok and "refused" in (result.error or "")
    assert answered == [400]
